// The committed language model Models/fortunes-lm, from committed files only (no fortunes package
// needed): the inference decoder gives the training engine's perplexity on the test split, the one
// the checkpoint recorded, far below the unigram model's; the KV cache decodes test-split prompts
// to the same tokens as recomputing; the text round-trips through the tokenizer.
import Foundation
import InfCore
import InfModels
@testable import InfTrain
import XCTest

final class FortunesLMTests: XCTestCase {
    private var directory: String { "\(ModelLoader.modelsDirectory)/fortunes-lm" }

    private func load() throws -> (TransformerDecoder, LanguageModelText, [String: Any]) {
        let loaded = try ModelLoader.load("fortunes-lm")
        let decoder = try XCTUnwrap(loaded.model as? TransformerDecoder, "fortunes-lm is a GPT decoder")
        let text = try XCTUnwrap(try LanguageModelText.load(directory: directory), "vocab.txt and test.txt beside the checkpoint")
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(directory)/config.json"))
        let training = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["infbench_training"] as? [String: Any])
        return (decoder, text, training)
    }

    /// Training forward vs inference decoder on the same windows: the same sums in another
    /// order (fused vs separate bias, cached scratch), so relative 1e-5 on the perplexity.
    func testInferenceDecoderGivesTheTrainingEnginesPerplexity() throws {
        let (decoder, text, _) = try load()
        let windows = Array(text.test.windows(length: decoder.config.maxPositions).prefix(24))
        let inference = Perplexity.evaluate(windows: windows, forward: decoder.forward)
        let training = Perplexity.evaluate(windows: windows, forward: TrainableDecoder(decoder).forward)
        XCTAssertEqual(inference.tokens, 24 * decoder.config.maxPositions)
        XCTAssertEqual(inference.perplexity, training.perplexity, accuracy: 1e-5 * training.perplexity)
    }

    /// The whole test split gives the perplexity `infbench train-lm` recorded, and it is far below
    /// the unigram model's on the same tokens.
    func testRecordedPerplexityHoldsAndBeatsUnigram() throws {
        let (decoder, text, training) = try load()
        let recorded = try XCTUnwrap(training["test_perplexity"] as? Double)
        let unigram = try XCTUnwrap(training["unigram_test_perplexity"] as? Double)
        let measured = Perplexity.evaluate(windows: text.test.windows(length: decoder.config.maxPositions), forward: decoder.forward)
        XCTAssertEqual(measured.perplexity, recorded, accuracy: 1e-4 * recorded)
        XCTAssertLessThan(recorded, 0.5 * unigram, "the trained model must be clearly better than a unigram model")
    }

    func testKVCacheMatchesRecomputeOnTestPrompts() throws {
        let (decoder, text, _) = try load()
        let generator = Generator(model: decoder)
        let prompts = text.prompts(count: 3, length: 8)
        XCTAssertEqual(prompts.count, 3)
        for prompt in prompts {
            let cached = generator.generate(prompt: prompt, newTokens: 24, cache: true, in: .serial).tokens
            XCTAssertEqual(cached, generator.generate(prompt: prompt, newTokens: 24, cache: false, in: .serial).tokens)
            XCTAssertEqual(Array(cached.prefix(8)), prompt)
        }
    }

    func testDetokenizedTextReadsBack() throws {
        let (_, text, _) = try load()
        let fortune = "I'll burn my books."
        let ids = text.tokenizer.encode(fortune, maxLength: .max).dropFirst().dropLast()
        XCTAssertEqual(text.detokenize(Array(ids)), "i'll burn my books.")
    }
}
