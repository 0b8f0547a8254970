// Perplexity as a quality figure: a decoder carrying held-out text gets an evaluation set of text
// windows, and each variant's perplexity on them (exp of the mean next-token NLL).
import InfCore
import InfModels
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class PerplexityQualityTests: XCTestCase {
    func testUniformLogitsHaveThePerplexityOfTheVocabulary() {
        var acc = QualityAccumulator(logits: true)
        let logits = Tensor(zeros: [2, 3, 50])
        acc.add(reference: logits, output: logits)
        acc.addNegativeLogLikelihood(output: logits, targets: [0, 1, 2, 3, 4, 49])
        XCTAssertEqual(acc.quality().perplexity!, 50, accuracy: 1e-9)
        XCTAssertNil(QualityAccumulator(logits: true).quality().perplexity, "no text, no perplexity")
    }

    func testDecoderWithTextIsScoredOnItsWindows() throws {
        let config = TransformerConfig(vocabSize: 20, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16,
                                       maxPositions: 6, layerNormEps: 1e-5)
        let decoder = try TransformerDecoder(name: "t", config: config, weights: SeededWeights(seed: 1))
        let stream = TokenStream(ids: (0..<200).map { Int32(($0 * 7) % 20) }, documents: 1)
        decoder.evaluationText = stream.windows(length: 6)
        let set = EvaluationSet(for: decoder, seed: 1)
        XCTAssertEqual(set.count, stream.windows(length: 6).count)
        XCTAssertEqual(set.targets?.flatMap { $0 }, stream.windows(length: 6).flatMap(\.target))
        let q = set.evaluate(reference: decoder, variants: [decoder], in: .serial)[0].quality
        let direct = Perplexity.evaluate(windows: stream.windows(length: 6), forward: decoder.forward)
        XCTAssertEqual(q.perplexity!, direct.perplexity, accuracy: 1e-9 * direct.perplexity)
        XCTAssertEqual(q.top1Agreement, 1)
    }
}
