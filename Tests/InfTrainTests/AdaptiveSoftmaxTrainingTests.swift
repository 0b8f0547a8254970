// The trainable adaptive softmax: its gradients against finite differences (head, cluster logits
// and both tails), its probabilities summing to one, and the committed trained head of fortunes-lm
// giving the perplexity it recorded, within 5% of the full softmax's.
import Foundation
import InfCore
import InfModels
@testable import InfTrain
import XCTest

final class AdaptiveSoftmaxTrainingTests: XCTestCase {
    private func tiny() -> (TrainableAdaptiveSoftmax, Tensor) {
        var rng = SeededRNG(seed: 5)
        let full = Tensor.randomNormal([12, 6], std: 0.7, rng: &rng)
        let h = Tensor.randomNormal([9, 6], std: 1, rng: &rng)
        return (TrainableAdaptiveSoftmax(AdaptiveSoftmaxHead(fullHead: full, cutoffs: [4, 8, 12], projectionSizes: [3, 2])), h)
    }

    func testGradients() {
        let (model, h) = tiny()
        let targets: [Int32] = [0, 3, 4, 7, 8, 11, 5, 9, 1] // head, both tails
        let n = Double(targets.count)
        model.parameters.forEach { $0.zeroGrad() }
        _ = model.negativeLogLikelihood(h: h, targets: targets, backward: true)
        let params = model.parameters
        let bad = gradientMismatches(tensors: params.map { p in (p.name, { p.value }, { p.value = $0 }) }, analytic: params.map(\.grad),
                                     loss: { model.negativeLogLikelihood(h: h, targets: targets, backward: false) / n }, samples: 8)
        XCTAssertEqual(bad.map(\.description), [])
    }

    func testProbabilitiesSumToOne() {
        let (model, h) = tiny()
        let row = Tensor(shape: [1, 6], storage: Array(h.storage[0..<6]))
        let total = (0..<12).reduce(0.0) { $0 + exp(-model.negativeLogLikelihood(h: row, targets: [Int32($1)], backward: false)) }
        XCTAssertEqual(total, 1, accuracy: 1e-5)
    }

    /// The inference head's likelihood (what the default suite and `softmax` report as perplexity)
    /// is the trainer's, and a wrong cluster assignment would change it.
    func testInferenceHeadLikelihoodMatchesTheTrainers() {
        let (model, h) = tiny()
        let targets: [Int32] = [0, 3, 4, 7, 8, 11, 5, 9, 1]
        let trainer = model.negativeLogLikelihood(h: h, targets: targets, backward: false)
        let inference = model.inferenceHead().negativeLogLikelihood(h: h, targets: targets, in: .serial)
        XCTAssertEqual(inference, trainer, accuracy: 1e-5 * abs(trainer))
        XCTAssertNotEqual(model.inferenceHead().negativeLogLikelihood(h: h, targets: targets.map { ($0 + 1) % 12 }, in: .serial), inference)
    }

    /// Greedy decoding with the adaptive head picks the arg max of its own distribution.
    func testNextTokenIsTheArgMaxOfTheAdaptiveDistribution() {
        let (model, _) = tiny()
        let head = model.inferenceHead()
        var rng = SeededRNG(seed: 12)
        var tailPicks = 0
        for _ in 0..<200 {
            let h = Tensor.randomNormal([1, 6], std: 2, rng: &rng)
            let nll = (0..<12).map { model.negativeLogLikelihood(h: h, targets: [Int32($0)], backward: false) }
            let expected = Int32(nll.indices.min { nll[$0] < nll[$1] }!)
            XCTAssertEqual(head.nextToken(h, in: .serial), expected)
            if expected >= 4 { tailPicks += 1 }
        }
        XCTAssertGreaterThan(tailPicks, 20, "the check must cover tail tokens too")
    }

    func testCommittedTrainedHeadHoldsItsPerplexity() throws {
        let dir = "\(ModelLoader.modelsDirectory)/fortunes-lm"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(dir)/adaptive-softmax.json"))
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let recorded = try XCTUnwrap(summary["test_perplexity_adaptive"] as? Double), full = try XCTUnwrap(summary["test_perplexity_full"] as? Double)
        let cuts = try XCTUnwrap(summary["cutoffs"] as? [Int])
        let file = try SafetensorsFile.open(path: "\(dir)/adaptive-softmax.safetensors")
        func linear(_ name: String) throws -> Linear { Linear(weight: try file.tensor("\(name).weight"), bias: try file.tensor("\(name).bias")) }
        let head = AdaptiveSoftmaxHead(cutoffs: cuts, head: try linear("head"),
                                       tails: try (0..<(cuts.count - 1)).map { (try linear("tail.\($0).proj"), try linear("tail.\($0).out")) })
        let decoder = try XCTUnwrap(try ModelLoader.load("fortunes-lm").model as? TransformerDecoder)
        let text = try XCTUnwrap(try LanguageModelText.load(directory: dir))
        let adaptive = TrainableAdaptiveSoftmax(head)
        var nll = 0.0, count = 0
        let windows = text.test.windows(length: 64)
        for s in stride(from: 0, to: windows.count, by: 16) {
            let group = windows[s..<min(s + 16, windows.count)]
            let h = decoder.finalHidden(.tokens(ids: group.flatMap(\.input), mask: nil, batch: group.count, length: 64), in: .serial)
            let targets = group.flatMap(\.target)
            nll += adaptive.negativeLogLikelihood(h: h.reshaped([targets.count, h.lastDim]), targets: targets, backward: false)
            count += targets.count
        }
        XCTAssertEqual(exp(nll / Double(count)), recorded, accuracy: 1e-4 * recorded)
        XCTAssertLessThanOrEqual(recorded, 1.05 * full, "the trained adaptive head within 5% of the full softmax's perplexity")
    }
}
