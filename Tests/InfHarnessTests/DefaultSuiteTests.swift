// The default suite end to end on two tiny generated transformers: the catalogue techniques that
// apply run beside fp32 and its A/A, the scenarios that apply add their rows, the result is valid,
// is marked so `reproduce` replays the suite itself, and its summary fits 120 columns.
import Foundation
import XCTest
@testable import InfHarness
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
}
