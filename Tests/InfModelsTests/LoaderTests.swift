// Checks ModelLoader: the bundled models load and run, a saved model loads back bit for bit,
// and every kind of bad model directory, config or checkpoint fails with one sentence that
// names the file, key or tensor at fault (an error, never a crash).
import Foundation
import XCTest
import InfCore
@testable import InfModels

final class LoaderTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("infbench-loader-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Helpers

    /// The tiny configurations of ModelForwardTests, as config.json dictionaries.
    private var bertJSON: [String: Any] {
        ["model_type": "bert", "infbench_seed": 5, "vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2,
         "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 16, "type_vocab_size": 2,
         "layer_norm_eps": 1e-5, "hidden_act": "gelu"]
    }

    private var gptJSON: [String: Any] {
        var j = bertJSON
        j["model_type"] = "gpt"
        j["infbench_seed"] = 6
        j["type_vocab_size"] = nil
        return j
    }

    private var cnnJSON: [String: Any] {
        ["model_type": "cnn", "infbench_seed": 7, "input_shape": [3, 12, 10],
         "stages": [["out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "pool": "max", "pool_size": 2],
                    ["out_channels": 6, "kernel_size": 2, "padding": 1, "pool": "avg"]],
         "hidden": [8], "num_classes": 5]
    }

    /// Creates `directory/name/` holding config.json (a dictionary, or raw text) and returns its path.
    @discardableResult
    private func modelDirectory(_ name: String, config: Any) throws -> String {
        let dir = "\(directory!)/\(name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeConfig(config, in: dir)
        return dir
    }

    private func writeConfig(_ config: Any, in dir: String) throws {
        let data = try (config as? String).map { Data($0.utf8) }
            ?? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(dir)/config.json"))
    }

    /// Asserts that loading `spec` throws (not crashes) one sentence mentioning every string.
    private func assertLoadFails(_ spec: String, mentions: [String], _ what: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        do {
            let loaded = try ModelLoader.load(spec)
            XCTFail("\(what): expected an error, loaded \(loaded.model.name)", file: file, line: line)
        } catch {
            let message = String(describing: error)
            if ProcessInfo.processInfo.environment["INFBENCH_SHOW_ERRORS"] != nil { print("\(what): \(message)") }
            XCTAssertTrue(error is ModelError || error is SafetensorsError, "\(what): unexpected error type \(type(of: error))",
                          file: file, line: line)
            for m in mentions {
                XCTAssertTrue(message.contains(m), "\(what): \"\(message)\" should mention \"\(m)\"", file: file, line: line)
            }
            XCTAssertFalse(message.contains("\n"), "\(what): one line, got \"\(message)\"", file: file, line: line)
        }
    }

    private func bits(_ t: Tensor) -> [UInt32] { t.storage.map(\.bitPattern) }

    private func output(_ model: InferenceModel, seed: UInt64 = 1) -> Tensor {
        var rng = SeededRNG(seed: seed)
        return model.forward(model.makeInput(batch: 2, sequenceLength: 8, rng: &rng))
    }

    // MARK: Bundled models

    func testBundledModelsLoadAndRun() throws {
        let expected: [(String, ModelKind, [Int])] = [
            ("encoder-small", .bert, [1, 8, 256]),
            ("decoder-small", .gpt, [1, 8, 8192]),
            ("cnn-small", .cnn, [1, 10]),
        ]
        let bundled = ModelLoader.bundled().map(\.name)
        for (name, kind, shape) in expected {
            XCTAssertTrue(bundled.contains(name), "\(name) not in bundled() = \(bundled)")
            let loaded = try ModelLoader.load(name)
            XCTAssertEqual(loaded.model.name, name)
            XCTAssertEqual(loaded.model.kind, kind)
            XCTAssertEqual(loaded.config.kind, kind)
            XCTAssertTrue(loaded.weightsSource.contains("seed"), "\(name): bundled weights are generated, got \(loaded.weightsSource)")
            XCTAssertEqual(loaded.notes, [])
            var rng = SeededRNG(seed: 1)
            let out = loaded.model.forward(loaded.model.makeInput(batch: 1, sequenceLength: 8, rng: &rng))
            XCTAssertEqual(out.shape, shape, name)
            XCTAssertTrue(out.storage.allSatisfy(\.isFinite), "\(name): non-finite output")
            XCTAssertGreaterThan(Set(out.storage).count, out.count / 2, "\(name): output looks constant")
        }
    }

    // MARK: Round trips

    /// load (seeded) → save → load (checkpoint): the same tensors and the same outputs, bit for bit.
    func testSaveLoadRoundTripIsBitExact() throws {
        for (name, json) in [("bert", bertJSON), ("gpt", gptJSON), ("cnn", cnnJSON)] {
            let source = try modelDirectory("\(name)-seeded", config: json)
            let original = try ModelLoader.load(source)
            XCTAssertEqual(original.weightsSource, "generated (seed \(json["infbench_seed"]!))")
            let saved = "\(directory!)/\(name)-saved"
            try ModelLoader.save(original, to: saved)

            // A different seed in the copied config must not matter: the checkpoint wins.
            var changed = json
            changed["infbench_seed"] = 999
            try writeConfig(changed, in: saved)

            for spec in [saved, "\(saved)/config.json"] {
                let loaded = try ModelLoader.load(spec)
                XCTAssertEqual(loaded.weightsSource, "\(saved)/model.safetensors", spec)
                XCTAssertEqual(loaded.notes, [], spec)
                let a = original.model.namedTensors(), b = loaded.model.namedTensors()
                XCTAssertEqual(a.map(\.name), b.map(\.name), spec)
                for (x, y) in zip(a, b) {
                    XCTAssertEqual(x.tensor.shape, y.tensor.shape, "\(spec): \(x.name)")
                    XCTAssertEqual(bits(x.tensor), bits(y.tensor), "\(spec): \(x.name)")
                }
                XCTAssertEqual(bits(output(original.model)), bits(output(loaded.model)), "\(spec): outputs differ")
            }
        }
    }

    func testLoadByConfigPathUsesTheSeed() throws {
        let dir = try modelDirectory("by-path", config: cnnJSON)
        let byDir = try ModelLoader.load(dir), byPath = try ModelLoader.load("\(dir)/config.json")
        XCTAssertEqual(byPath.source, "\(dir)/config.json")
        XCTAssertEqual(bits(output(byDir.model)), bits(output(byPath.model)))
    }

    /// A checkpoint holding a tensor the model never asks for loads, and says so.
    func testExtraTensorLoadsWithANote() throws {
        let original = try ModelLoader.load(try modelDirectory("seeded", config: bertJSON))
        let dir = try modelDirectory("extra", config: bertJSON)
        try SafetensorsWriter.write(original.model.namedTensors() + [("pooler.extra.weight", Tensor(zeros: [3, 2]))],
                                    to: "\(dir)/model.safetensors")
        let loaded = try ModelLoader.load(dir)
        XCTAssertEqual(loaded.notes.count, 1)
        XCTAssertTrue(loaded.notes.first?.contains("pooler.extra.weight") ?? false, "\(loaded.notes)")
        XCTAssertTrue(loaded.notes.first?.contains("model.safetensors") ?? false, "\(loaded.notes)")
        XCTAssertEqual(bits(output(original.model)), bits(output(loaded.model)))
    }

    // MARK: Bad specs

    func testUnknownBundledName() {
        assertLoadFails("no-such-model", mentions: ["\"no-such-model\"", "encoder-small"], "unknown name")
    }

    func testMissingDirectory() {
        let path = "\(directory!)/absent"
        assertLoadFails(path, mentions: [path], "missing directory")
    }

    func testDirectoryWithoutConfig() throws {
        let dir = "\(directory!)/empty"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        assertLoadFails(dir, mentions: [dir, "config.json"], "no config.json")
    }

    // MARK: Bad configs

    func testMalformedConfigs() throws {
        func with(_ base: [String: Any], _ key: String, _ value: Any?) -> [String: Any] {
            var j = base
            j[key] = value
            return j
        }
        var shrinking = cnnJSON
        shrinking["input_shape"] = [3, 4, 4]   // 4×4 → conv 3 → 2×2 → pool → 1×1 → conv 3: nothing left
        shrinking["stages"] = [["out_channels": 4, "kernel_size": 3, "pool": "max"], ["out_channels": 4, "kernel_size": 3]]
        var strided = cnnJSON
        strided["input_shape"] = [1, 2, 2]     // (2 − 3)/2 + 1 truncates to 1: the kernel must still fit
        strided["stages"] = [["out_channels": 4, "kernel_size": 3, "stride": 2]]

        let cases: [(String, Any, [String])] = [
            ("not JSON", "{ \"model_type\": \"bert\", hidden_size: ", ["not valid JSON"]),
            ("not an object", "[1, 2, 3]", ["top level", "wrong type"]),
            ("no model_type", with(bertJSON, "model_type", nil), ["\"model_type\""]),
            ("missing key", with(bertJSON, "num_attention_heads", nil), ["missing key", "\"num_attention_heads\""]),
            ("wrong type", with(bertJSON, "hidden_size", "sixteen"), ["\"hidden_size\"", "wrong type"]),
            ("wrong nested type", with(cnnJSON, "stages", [["out_channels": 4, "kernel_size": "3"]]), ["stages.0.kernel_size"]),
            ("unknown model_type", with(bertJSON, "model_type", "t5"), ["model_type", "\"t5\""]),
            ("heads do not divide", with(with(bertJSON, "num_attention_heads", 3), "hidden_size", 16),
             ["hidden_size 16", "num_attention_heads 3"]),
            ("relu", with(gptJSON, "hidden_act", "relu"), ["hidden_act", "\"relu\""]),
            ("negative size", with(bertJSON, "intermediate_size", -32), ["intermediate_size", "-32"]),
            ("zero layers", with(gptJSON, "num_hidden_layers", 0), ["num_hidden_layers"]),
            ("bad eps", with(bertJSON, "layer_norm_eps", 0), ["layer_norm_eps"]),
            ("negative kernel", with(cnnJSON, "stages", [["out_channels": 4, "kernel_size": -3]]), ["stage 0"]),
            ("negative padding", with(cnnJSON, "stages", [["out_channels": 4, "kernel_size": 3, "padding": -1]]), ["stage 0", "padding"]),
            // Found while writing the config fuzz target: `h + 2 * padding` overflowed and trapped.
            ("padding overflows", with(cnnJSON, "stages", [["out_channels": 4, "kernel_size": 3, "padding": 1 << 62]]),
             ["stage 0", "padding in 0...8192"]),
            ("kernel too large", with(cnnJSON, "stages", [["out_channels": 4, "kernel_size": 1 << 40]]), ["stage 0", "kernel_size"]),
            ("padding grows the map", with(cnnJSON, "stages", Array(repeating: ["out_channels": 1, "kernel_size": 1, "padding": 3000], count: 2)),
             ["stage 1", "more than 8192 per side"]),
            ("hidden too wide", with(cnnJSON, "hidden", [Int.max]), ["hidden widths"]),
            ("too many classes", with(cnnJSON, "num_classes", 1 << 40), ["num_classes"]),
            ("bad input shape", with(cnnJSON, "input_shape", [3, 12]), ["input_shape"]),
            ("no classes", with(cnnJSON, "num_classes", 0), ["num_classes"]),
            ("bad pool kind", with(cnnJSON, "stages", [["out_channels": 4, "kernel_size": 3, "pool": "median"]]), ["\"stages.0.pool\"", "invalid value"]),
            ("stages shrink to nothing", shrinking, ["stage 1"]),
            ("kernel larger than a strided input", strided, ["stage 0", "nothing"]),
            ("no weights", with(bertJSON, "infbench_seed", nil), ["infbench_seed", "model.safetensors"]),
            ("unknown dataset", with(cnnJSON, "infbench_dataset", ["name": "mnist", "seed": 1, "train": 1, "validation": 1, "test": 1, "size": 32]),
             ["infbench_dataset name \"mnist\""]),
            ("dataset too large", with(cnnJSON, "infbench_dataset", ["name": "shapes", "seed": 1, "train": 1, "validation": 1, "test": 5_000_000, "size": 32]),
             ["infbench_dataset test"]),
            ("dataset does not fit the CNN", with(cnnJSON, "infbench_dataset", ["name": "shapes", "seed": 1, "train": 1, "validation": 1, "test": 4, "size": 32]),
             ["makes [3, 32, 32] images of 10 classes"]),
            ("dataset of the wrong kind", with(cnnJSON, "infbench_dataset", ["name": "sentiment", "seed": 1, "train": 1, "validation": 1, "test": 4, "size": 16]),
             ["does not fit a cnn model"]),
            ("bad id2label", with(bertJSON, "id2label", ["1": "a", "2": "b"]), ["id2label"]),
        ]
        for (i, (what, config, mentions)) in cases.enumerated() {
            let dir = try modelDirectory("bad-\(i)", config: config)
            assertLoadFails(dir, mentions: ["\(dir)/config.json"] + mentions, what)
        }
    }

    // MARK: Bad checkpoints

    /// Saves the tiny encoder to `name/` and returns the directory.
    private func savedEncoder(_ name: String) throws -> String {
        let original = try ModelLoader.load(try modelDirectory("\(name)-seeded", config: bertJSON))
        let dir = "\(directory!)/\(name)"
        try ModelLoader.save(original, to: dir)
        return dir
    }

    func testCheckpointWithWrongShapeNamesTheTensor() throws {
        let dir = try savedEncoder("wrong-shape")
        var config = bertJSON
        config["hidden_size"] = 32
        try writeConfig(config, in: dir)
        assertLoadFails(dir, mentions: ["\(dir)/model.safetensors", "\"embeddings.word_embeddings.weight\"", "[50, 16]", "[50, 32]"],
                        "wrong shape")
    }

    func testCheckpointMissingATensorNamesIt() throws {
        let dir = try savedEncoder("missing-tensor")
        let tensors = try ModelLoader.load(dir).model.namedTensors().filter { $0.name != "encoder.layer.1.output.dense.bias" }
        try SafetensorsWriter.write(tensors, to: "\(dir)/model.safetensors")
        assertLoadFails(dir, mentions: ["\(dir)/model.safetensors", "\"encoder.layer.1.output.dense.bias\""], "missing tensor")
    }

    func testTruncatedCheckpointNamesTheFile() throws {
        let dir = try savedEncoder("truncated")
        let path = "\(dir)/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        for keep in [data.count / 2, 4] {   // data cut short; header length cut short
            try data.prefix(keep).write(to: URL(fileURLWithPath: path))
            assertLoadFails(dir, mentions: [path], "truncated to \(keep) bytes")
        }
    }
}
