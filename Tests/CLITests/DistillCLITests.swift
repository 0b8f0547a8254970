// `infbench distill` and `infbench reproduce` as a user meets them: a quick real
// retrain into a scratch directory, the comparison table, and bad input.
import Foundation
import XCTest

extension CLITests {
    func testQuickDistillWritesLoadableCheckpointsAndATable() throws {
        let dir = try tempDir(), json = dir.appendingPathComponent("distill.json")
        let r = try self.run(["distill", "--task", "sentiment", "--epochs", "1", "--train-limit", "64", "--models-dir", dir.path,
                             "--large-batch", "4", "--min-time", "0", "--min-runs", "2", "--max-warmup-runs", "1", "--output", json.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["sentiment-teacher", "sentiment-student", "sentiment-distilled"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(name)/model.safetensors").path), name)
            XCTAssertTrue(r.stdout.contains(name), "table lacks \(name):\n\(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("agrees w/ teacher"), r.stdout)
        XCTAssertTrue(r.stderr.contains("test accuracy"), r.stderr)
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        XCTAssertEqual(decoded?["kind"] as? String, "distill")
        // Teacher, its A/A copy and two students, at batch 1 and at the large batch.
        XCTAssertEqual((decoded?["rows"] as? [Any])?.count, 8)
        // The run grid measures a trained model on its own test split and reports accuracy.
        let run = try self.run(["run", "--model", dir.appendingPathComponent("sentiment-teacher").path, "--batch", "2", "--threads", "1",
                               "--min-time", "0", "--min-runs", "2", "--max-warmup-runs", "1", "--format", "csv"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains(",accuracy,"), run.stdout)
        XCTAssertTrue(run.stdout.contains("sentiment-teacher,fp32,"), run.stdout)
    }

    func testDistillRejectsBadOptions() throws {
        try assertRejected(["distill", "--task", "mnist"], mentions: "--task \"mnist\" is not a distillation task")
        try assertRejected(["distill", "--epochs", "0"], mentions: "--epochs must be between 1 and 1000")
        let missing = try tempDir()
        try assertRejected(["distill", "--no-train", "--task", "shapes", "--models-dir", missing.path], mentions: "no trained checkpoint")
        let file = missing.appendingPathComponent("plain-file")
        try Data().write(to: file)
        try assertRejected(["distill", "--task", "shapes", "--models-dir", file.path], mentions: "is a file, not a directory")
    }

    func testReproduceReplaysAStoredRun() throws {
        let dir = try tempDir(), stored = dir.appendingPathComponent("stored.json")
        let first = try self.run(["run", "--model", "encoder-small", "--batch", "1", "--threads", "1", "--seq-len", "8",
                                 "--min-time", "0.05", "--min-runs", "5", "--output", stored.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try self.run(["reproduce", stored.path])
        XCTAssertTrue([0, 1].contains(again.status), "exit status carries the verdict: \(again.status)\n\(again.stderr)")
        XCTAssertTrue(again.stdout.contains("reported speedup"), again.stdout)
        XCTAssertTrue(again.stdout.contains("verdict: "), again.stdout)
        XCTAssertTrue(again.stdout.contains("fp32 A/A"), again.stdout)
        // Quality of the A/A row (identical outputs) must reproduce exactly.
        XCTAssertFalse(again.stdout.contains("DIFFERENT: "), again.stdout)
    }

    func testReproduceRejectsWhatItCannotReplay() throws {
        let dir = try tempDir(), junk = dir.appendingPathComponent("junk.json")
        try Data("{\"rows\": 3}".utf8).write(to: junk)
        try assertRejected(["reproduce", junk.path], mentions: junk.path)
        try assertRejected(["reproduce", dir.appendingPathComponent("absent.json").path], mentions: "absent.json")
    }
}

// MARK: Resource limits: refused up front, with the estimate
extension CLITests {
    func testAModelTooLargeForMemoryIsRefusedBeforeLoading() throws {
        let dir = try tempDir(), json = dir.appendingPathComponent("r.json")
        let config = """
        {"model_type": "bert", "infbench_seed": 1, "vocab_size": 1000000, "hidden_size": 8192, "num_hidden_layers": 64,
         "num_attention_heads": 64, "intermediate_size": 32768, "max_position_embeddings": 512}
        """
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        try assertRejected(["run", "--model", dir.path, "--output", json.path], mentions: "GB of memory is available", output: json)
    }

    func testAnHourLongGridIsRefusedWithAnEstimate() throws {
        let dir = try tempDir(), json = dir.appendingPathComponent("r.json")
        try assertRejected(["run", "--model", "encoder-small", "--min-time", "3000", "--batch", "1,2", "--output", json.path],
                           mentions: "would take about", output: json)
        try assertRejected(["run", "--model", "encoder-small", "--min-time", "3000"], mentions: "--allow-long")
    }
}
