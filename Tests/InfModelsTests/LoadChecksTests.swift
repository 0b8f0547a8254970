// Load-time checks of issue 21: a NaN or ±inf weight is refused naming the tensor
// and its first bad index (or loaded with a note when allowed), only regular files
// are read, and a JSON number that does not fit its field is named.
import XCTest
import InfCore
@testable import InfModels

final class LoadChecksTests: XCTestCase {
    func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-load-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testNonFiniteWeightsAreRefusedNamingTensorAndIndex() throws {
        let path = try tempDir() + "/model.safetensors"
        var w = [Float](repeating: 0.5, count: 12)
        w[7] = .nan
        w[9] = -.infinity
        try SafetensorsWriter.write([("ok", Tensor(shape: [2], storage: [1, 2])), ("w", Tensor(shape: [3, 4], storage: w))], to: path)
        let weights = try CheckpointWeights(path: path)
        XCTAssertNoThrow(try weights.tensor("ok", shape: [2], initialiser: .zeros))
        XCTAssertThrowsError(try weights.tensor("w", shape: [3, 4], initialiser: .zeros)) { error in
            XCTAssertEqual("\(error)", "\(path): tensor \"w\" has 2 non-finite values (the first, nan, at flat index 7 of 12); fix the checkpoint, or pass --allow-nonfinite (INFBENCH_ALLOW_NONFINITE=1 for any command) to load it for an experiment.")
        }
        let allowed = try CheckpointWeights(path: path, allowNonFinite: true)
        let t = try allowed.tensor("w", shape: [3, 4], initialiser: .zeros)
        XCTAssertTrue(t.storage[7].isNaN, "loaded as stored")
        XCTAssertEqual(allowed.nonFiniteNotes.count, 1)
        XCTAssertTrue(allowed.nonFiniteNotes[0].contains("tensor \"w\" has 2 non-finite values"), allowed.nonFiniteNotes[0])
    }

    func testOnlyRegularFilesAreRead() throws {
        let dir = try tempDir()
        XCTAssertEqual(mkfifo(dir + "/pipe", 0o644), 0)
        XCTAssertEqual(regularFileProblem(dir + "/pipe"), "is a FIFO (named pipe), not a regular file")
        XCTAssertEqual(regularFileProblem("/dev/zero"), "is a character device, not a regular file")
        XCTAssertEqual(regularFileProblem(dir), "is a directory, not a regular file")
        XCTAssertNil(regularFileProblem(dir + "/missing"))
        XCTAssertThrowsError(try SafetensorsFile.open(path: dir + "/pipe")) { XCTAssertTrue("\($0)".contains("FIFO"), "\($0)") }
        XCTAssertThrowsError(try ModelConfig.load(path: "/dev/zero")) { XCTAssertEqual("\($0)", "/dev/zero: is a character device, not a regular file.") }
    }

    func testANumberThatDoesNotFitItsFieldIsNamed() throws {
        let good = #"{"model_type": "bert", "vocab_size": 100, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16, "infbench_seed": 1}"#
        XCTAssertNoThrow(try ModelConfig.parse(Data(good.utf8), path: "c.json"))
        for (from, to, named) in [("\"hidden_size\": 8", "\"hidden_size\": 8.5", "\"hidden_size\" is 8.5"),
                                  ("\"num_hidden_layers\": 1", "\"num_hidden_layers\": 1e30", "\"num_hidden_layers\" is 1e+30"),
                                  ("\"vocab_size\": 100", "\"vocab_size\": 1-00", "not valid JSON (near line 1, column")] {
            let text = good.replacingOccurrences(of: from, with: to)
            XCTAssertThrowsError(try ModelConfig.parse(Data(text.utf8), path: "c.json")) { XCTAssertTrue("\($0)".contains(named), "\($0)") }
        }
    }

    func testLongTensorNamesAreRefusedAndShortened() throws {
        let name = String(repeating: "n", count: 10_000)
        let header = Data("{\"\(name)\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}".utf8)
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        data.append(Data(count: 4))
        XCTAssertThrowsError(try SafetensorsFile.parse(data, path: "m.safetensors")) { error in
            XCTAssertLessThan("\(error)".count, 300, "the name is not echoed in full")
            XCTAssertTrue("\(error)".contains("(10000 bytes)\" has a name of 10000 bytes, more than the 4096-byte limit"), "\(error)")
        }
    }
}
