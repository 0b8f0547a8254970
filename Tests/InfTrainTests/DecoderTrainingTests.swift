// The trainable GPT decoder: causal attention's backward against finite differences, the whole
// decoder's gradients (tied head included), the language-model loss, the same outputs and names
// as the inference decoder, and seeded training that repeats exactly.
import InfCore
import InfModels
@testable import InfTrain
import XCTest

/// A tiny decoder: 2 layers, 2 heads, vocabulary 13, context 5.
let tinyDecoderConfig = TransformerConfig(vocabSize: 13, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12,
                                          maxPositions: 5, layerNormEps: 1e-5)

func tinyDecoder(seed: UInt64 = 4) throws -> TransformerDecoder {
    try TransformerDecoder(name: "tiny", config: tinyDecoderConfig, weights: SeededWeights(seed: seed))
}

final class DecoderTrainingTests: XCTestCase {
    private func random(_ shape: [Int], std: Float = 1, seed: UInt64 = 3) -> Tensor {
        var rng = SeededRNG(seed: seed &+ UInt64(shape.reduce(1, *)))
        return Tensor.randomNormal(shape, std: std, rng: &rng)
    }

    private func causalAttention(c: Int, heads: Int) -> AttentionLayer {
        let attention = AttentionLayer(qkv: LinearLayer(name: "qkv", weight: random([3 * c, c], std: 0.5), bias: random([3 * c])),
                                       output: LinearLayer(name: "out", weight: random([c, c], std: 0.5), bias: random([c])),
                                       heads: heads)
        attention.causal = true
        return attention
    }

    func testCausalAttentionGradients() {
        XCTAssertEqual(checkModule(causalAttention(c: 8, heads: 2), input: random([2, 5, 8]), samples: 24).map(\.description), [])
    }

    func testCausalAttentionGradientCheckCatchesAFivePercentError() {
        XCTAssertFalse(checkModule(causalAttention(c: 8, heads: 2), input: random([2, 5, 8]), samples: 24, corrupt: 1.05).isEmpty)
    }

    func testCausalAttentionDoesNotSeeTheFuture() {
        let c = 4
        let attention = causalAttention(c: c, heads: 1)
        var x = random([1, 4, c])
        let y1 = attention.forward(x)
        for j in 0..<c { x.storage[3 * c + j] += 5 }   // change the last token only
        let y2 = attention.forward(x)
        XCTAssertEqual(Array(y1.storage[0..<(3 * c)]), Array(y2.storage[0..<(3 * c)]))
        XCTAssertNotEqual(Array(y1.storage[(3 * c)...]), Array(y2.storage[(3 * c)...]))
    }

    func testDecoderMatchesInferenceModel() throws {
        let decoder = try tinyDecoder()
        let trainable = TrainableDecoder(decoder)
        let input = ModelInput.tokens(ids: [1, 4, 5, 6, 12, 3, 0, 9, 2, 7], mask: nil, batch: 2, length: 5)
        let expected = decoder.forward(input)
        XCTAssertEqual(expected.shape, [2, 5, 13])
        XCTAssertLessThan(maxAbsDifference(trainable.forward(input), expected), 1e-5)
        XCTAssertEqual(trainable.namedTensors().map(\.name), decoder.namedTensors().map(\.name))
        XCTAssertEqual(trainable.namedTensors().map(\.tensor), decoder.namedTensors().map(\.tensor))
    }

    func testDecoderGradients() throws {
        let model = TrainableDecoder(try tinyDecoder())
        let input = ModelInput.tokens(ids: [1, 4, 5, 6, 12, 3, 0, 9, 2, 7], mask: nil, batch: 2, length: 5)
        let targets: [Int32] = [4, 5, 6, 12, 3, 0, 9, 2, 7, 11]
        func loss() -> LossValue { languageModelLoss(logits: model.forward(input).reshaped([10, 13]), targets: targets) }
        let value = loss()
        model.parameters.forEach { $0.zeroGrad() }
        model.backward(value.gradient)
        let params = model.parameters
        let bad = gradientMismatches(tensors: params.map { p in (p.name, { p.value }, { p.value = $0 }) },
                                     analytic: params.map(\.grad), loss: { loss().loss }, samples: 6, epsilon: 1e-2)
        XCTAssertEqual(bad.map(\.description), [])
    }

    func testLanguageModelLossMatchesCrossEntropy() {
        let logits = random([6, 13], std: 3)
        let targets: [Int32] = [0, 12, 5, 5, 1, 7]
        let fast = languageModelLoss(logits: logits, targets: targets), reference = crossEntropyLoss(logits: logits, labels: targets)
        XCTAssertEqual(fast.loss, reference.loss, accuracy: 1e-5 * reference.loss)
        XCTAssertLessThan(maxAbsDifference(fast.gradient, reference.gradient), 1e-6)
    }

    func testSeededTrainingRepeatsAndLearns() throws {
        // A stream with a fixed 7-token cycle: the next token is determined, so the loss must fall.
        let stream = TokenStream(ids: (0..<400).map { Int32([1, 5, 9, 2, 11, 3, 7][$0 % 7]) }, documents: 1)
        let options = LanguageModelTrainingOptions(steps: 200, batchSize: 4, contextLength: 5, learningRate: 1e-2, seed: 3)
        func run() throws -> (TrainableDecoder, [LanguageModelLog]) {
            let model = TrainableDecoder(try tinyDecoder())
            let log = LanguageModelTrainer.train(model, train: stream, options: options, logEvery: 100, validate: {
                Perplexity.evaluate(windows: stream.windows(length: 5), forward: model.forward).perplexity
            })
            return (model, log)
        }
        let (a, logA) = try run(), (b, _) = try run()
        XCTAssertEqual(a.namedTensors().map(\.tensor), b.namedTensors().map(\.tensor), "same seed, same thread count: same weights")
        XCTAssertLessThan(logA.last!.validationPerplexity, 2, "a deterministic cycle should be learnt (perplexity → 1)")
    }
}
