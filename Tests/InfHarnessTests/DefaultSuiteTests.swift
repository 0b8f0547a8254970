// The default suite end to end on two tiny generated transformers: the catalogue techniques that
// apply run beside fp32 and its A/A, the scenarios that apply add their rows, the result is valid,
// is marked so `reproduce` replays the suite itself, and its summary fits 120 columns.
import Foundation
import XCTest
@testable import InfHarness
@testable import InfMeasure
import InfCore
import InfModels

final class DefaultSuiteTests: XCTestCase {
    func tinyModel(_ type: String, in dir: URL) throws -> LoadedModel {
        let folder = dir.appendingPathComponent("tiny-\(type)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = """
        {"model_type": "\(type)", "infbench_seed": 3, "vocab_size": 64, "hidden_size": 16, "num_hidden_layers": 1,
         "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64, "type_vocab_size": 2,
         "layer_norm_eps": 1e-5, "hidden_act": "gelu"}
        """
        try config.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        return try ModelLoader.load(folder.path)
    }

    func testTheDefaultSuiteComparesTechniquesAndReplaysItself() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-default-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let models = [try tinyModel("bert", in: dir), try tinyModel("gpt", in: dir)]
        let result = try DefaultSuite.run(models: models, notes: [], threads: 1, seed: 5, resamples: 50, rooflineSize: 32,
                                          progress: Progress(enabled: false))
        XCTAssertEqual(result.configuration.defaultSuite, true, "reproduce must know to replay the suite, not the grid")
        for m in models {
            let variants = Set(result.rows.filter { $0.model == m.model.name }.map(\.variant))
            for v in ["fp32", "fp32 A/A", "fp16", "bf16", "int8"] { XCTAssertTrue(variants.contains(v), "\(m.model.name) lacks \(v): \(variants)") }
        }
        XCTAssertTrue(result.rows.contains { $0.workload == "generate" && $0.variant == "KV cache" }, "the decoder's KV-cache scenario ran")
        XCTAssertFalse(result.rows.contains { $0.model.hasSuffix("bert") && $0.workload == "generate" }, "no KV cache for an encoder")
        XCTAssertNoThrow(try result.validateRows(path: "default suite"))
        let summary = Summary.render(result)
        for line in summary.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 120, String(line)) }
        let json = try JSONEncoder().encode(result)
        XCTAssertEqual(try JSONDecoder().decode(SuiteResult.self, from: json).configuration.defaultSuite, true)
    }

    /// A tiny GPT trained on "text" (its vocab.txt, test.txt and train.txt beside it, context 24) with a
    /// trained adaptive head (adaptive-softmax.json and .safetensors, seeded weights): fortunes-lm's files.
    func tinyTextModel(in dir: URL) throws -> LoadedModel {
        let folder = dir.appendingPathComponent("tiny-text-lm")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = """
        {"model_type": "gpt", "infbench_seed": 3, "vocab_size": 13, "hidden_size": 16, "num_hidden_layers": 1,
         "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 24, "layer_norm_eps": 1e-5}
        """
        func write(_ text: String, _ name: String) throws {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write(config, "config.json")
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
        try write(words.joined(separator: "\n") + "\n", "vocab.txt")
        let fortunes = (0..<40).map { ["the cat sat on a mat", "a dog ran on the mat", "the dog sat", "a cat ran"][$0 % 4] }
        try write(fortunes.joined(separator: "\n%\n") + "\n", "test.txt")
        try write(fortunes.reversed().joined(separator: "\n%\n") + "\n", "train.txt")
        // Cutoffs 6 | 10 | 13: a head of 6 tokens + 2 clusters, tails projected to 4 and 2 dimensions.
        try write(#"{"cutoffs": [6, 10, 13]}"#, "adaptive-softmax.json")
        var rng = SeededRNG(seed: 9)
        func t(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, std: 0.3, rng: &rng) }
        let tensors: [(name: String, tensor: Tensor)] = [
            ("head.weight", t([8, 16])), ("head.bias", t([8])),
            ("tail.0.proj.weight", t([4, 16])), ("tail.0.proj.bias", t([4])), ("tail.0.out.weight", t([4, 4])), ("tail.0.out.bias", t([4])),
            ("tail.1.proj.weight", t([2, 16])), ("tail.1.proj.bias", t([2])), ("tail.1.out.weight", t([3, 2])), ("tail.1.out.bias", t([3])),
        ]
        try SafetensorsWriter.write(tensors, to: folder.appendingPathComponent("adaptive-softmax.safetensors").path)
        return try ModelLoader.load(folder.path)
    }

    /// A language model with text and a trained adaptive head: the adaptive-softmax scenario runs it
    /// although its vocabulary is small, with both heads' test perplexity; the threads scenario and
    /// the KV cache stay within its 24-token context; pruning + fine-tuning reads its training split.
    func testATrainedAdaptiveHeadJoinsTheSuiteAndTokensFitTheContext() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-default-text-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try tinyTextModel(in: dir)
        XCTAssertEqual(DefaultSuite.tokensPerSequence(model, default: 32), 24, "a text model runs at its context")
        let result = try DefaultSuite.run(models: [model], notes: [], threads: 2, seed: 5, resamples: 50, rooflineSize: 32,
                                          progress: Progress(enabled: false))
        let softmax = result.rows.filter { $0.workload == "output-layer" }
        XCTAssertEqual(Set(softmax.map(\.variant)), ["full softmax", "full softmax A/A", "adaptive softmax", "adaptive softmax (head descent)"])
        let full = try XCTUnwrap(softmax.first { $0.variant == "full softmax" }?.quality?.perplexity)
        let adaptive = try XCTUnwrap(softmax.first { $0.variant == "adaptive softmax" }?.quality?.perplexity)
        XCTAssertGreaterThan(full, 1)
        XCTAssertGreaterThan(adaptive, 1)
        XCTAssertNotEqual(full, adaptive, "two heads, two perplexities")
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            let threads = try XCTUnwrap(result.rows.first { $0.variant == "1 thread" })
            XCTAssertEqual(threads.sequenceLength, 24, "the threads scenario runs at the model's context, not 32")
        }
        XCTAssertTrue(result.rows.contains { $0.variant.hasPrefix("prune-heads:0.5+ft") }, "fine-tuning found train.txt: \(Set(result.rows.map(\.variant)))")
        XCTAssertNoThrow(try result.validateRows(path: "default suite"))
    }
}
