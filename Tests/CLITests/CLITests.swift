// The infbench binary as a user meets it: help, a tiny real run, and bad input.
// Every bad input must give one clear sentence, a non-zero exit, and no output file.
import Foundation
import XCTest

final class CLITests: XCTestCase {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The infbench binary built beside this test bundle.
    var binary: URL {
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("infbench")
    }

    func run(_ args: [String]) throws -> Outcome {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                       stderr: String(decoding: e, as: UTF8.self))
    }

    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// Fails unless the command exits non-zero, says `phrase` on stderr, leaves `output` unwritten and did not crash.
    func assertRejected(_ args: [String], mentions phrase: String, output: URL? = nil,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(args)
        XCTAssertNotEqual(r.status, 0, "expected failure for \(args)", file: file, line: line)
        // A trap (crash) ends with a signal: status > 128 from a shell, or the uncaught-signal status here.
        XCTAssertLessThan(r.status, 128, "crashed on \(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(phrase), "stderr for \(args) does not mention \"\(phrase)\":\n\(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), "trapped on \(args)", file: file, line: line)
        if let output {
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "half-written \(output.path)", file: file, line: line)
        }
    }

    func testHelpListsSubcommands() throws {
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0)
        for sub in ["run", "list", "show", "compare", "chart", "export"] { XCTAssertTrue(r.stdout.contains(sub), "help lacks \(sub)") }
    }

    func testListShowsBundledModelsAndTechniques() throws {
        let r = try run(["list"])
        XCTAssertEqual(r.status, 0)
        for name in ["encoder-small", "decoder-small", "cnn-small", "fp32"] { XCTAssertTrue(r.stdout.contains(name), "list lacks \(name)") }
    }

    func testTinyRunWritesAResultFileThatShowReads() throws {
        let dir = try tempDir()
        let json = dir.appendingPathComponent("r.json")
        // --format chooses what the terminal shows; the file's format follows its extension.
        let r = try run(["run", "--model", "encoder-small", "--batch", "1", "--threads", "1", "--seq-len", "8",
                         "--min-time", "0", "--min-runs", "3", "--max-warmup-runs", "2", "--roofline-size", "64",
                         "--format", "markdown", "--output", json.path])
        XCTAssertTrue(r.stdout.contains("# infbench"), "markdown on the terminal")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("encoder-small"))
        XCTAssertTrue(r.stdout.contains("fp32 A/A"), "the A/A row is part of every run")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        let rows = object?["rows"] as? [[String: Any]]
        XCTAssertEqual(rows?.count, 2)
        XCTAssertEqual((rows?.first?["samplesNs"] as? [Any])?.count, 4, "raw samples are kept: 3 runs rounded up to whole 2-round cycles")
        let csv = try run(["show", json.path, "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertEqual(csv.stdout.split(separator: "\n").count, 3, "header + 2 rows")
    }

    func testImpossibleOptionsAreRejected() throws {
        let out = try tempDir().appendingPathComponent("never.json")
        try assertRejected(["run", "--batch", "0", "--output", out.path], mentions: "--batch", output: out)
        try assertRejected(["run", "--batch", "1,x"], mentions: "--batch")
        try assertRejected(["run", "--threads", "0"], mentions: "--threads")
        try assertRejected(["run", "--min-time", "-1"], mentions: "--min-time")
        try assertRejected(["run", "--min-runs", "0"], mentions: "--min-runs")
        try assertRejected(["run", "--seq-len", "0"], mentions: "--seq-len")
        try assertRejected(["run", "--techniques", "fp99"], mentions: "unknown technique \"fp99\"")
        try assertRejected(["run", "--techniques", "fp16,fp16"], mentions: "\"fp16\" twice")
        try assertRejected(["run", "--model", "encoder-small", "--output", out.deletingLastPathComponent().path + "/"], mentions: "is a directory")
        try assertRejected(["run", "--format", "xml"], mentions: "--format")
        try assertRejected(["run", "--model", "encoder-small", "--seq-len", "4096", "--output", out.path],
                           mentions: "max_position_embeddings", output: out)
        try assertRejected(["run", "--model", "no-such-model", "--output", out.path], mentions: "unknown model \"no-such-model\"", output: out)
        try assertRejected(["run", "--model", "encoder-small", "--output", "/nonexistent-dir/x.json"], mentions: "/nonexistent-dir")
    }

    func testBadModelFilesAreRejectedWithTheirName() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("never.json")
        // Malformed JSON config.
        let bad = dir.appendingPathComponent("bad-json")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try Data("{\"model_type\": \"bert\", ".utf8).write(to: bad.appendingPathComponent("config.json"))
        try assertRejected(["run", "--model", bad.path, "--output", out.path], mentions: "config.json", output: out)

        // A real checkpoint, then truncated: the error names model.safetensors.
        let ckpt = dir.appendingPathComponent("ckpt")
        let export = try run(["export", "--model", "cnn-small", "--output", ckpt.path])
        XCTAssertEqual(export.status, 0, export.stderr)
        let st = ckpt.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: st)
        try bytes.prefix(bytes.count / 2).write(to: st)
        try assertRejected(["run", "--model", ckpt.path, "--output", out.path], mentions: "model.safetensors", output: out)

        // A checkpoint whose config disagrees with its tensors: the error names the tensor.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: ckpt.appendingPathComponent("config.json"))) as! [String: Any]
        try bytes.write(to: st)
        config["num_classes"] = 7
        try JSONSerialization.data(withJSONObject: config).write(to: ckpt.appendingPathComponent("config.json"))
        try assertRejected(["run", "--model", ckpt.path, "--output", out.path], mentions: "classifier.1.weight", output: out)
    }

    func testShowRejectsAFileThatIsNotAResult() throws {
        let f = try tempDir().appendingPathComponent("garbage.json")
        try Data("not json at all".utf8).write(to: f)
        try assertRejected(["show", f.path], mentions: "garbage.json")
        try assertRejected(["show", "/nonexistent/result.json"], mentions: "/nonexistent/result.json")
    }

    /// A file in the package's Results/ directory, wherever the tests run from.
    func reference(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Results/\(name)").path
    }

    func testCompareOfAResultWithItselfIsAllNoise() throws {
        let file = reference("default.json")
        let r = try run(["compare", file, file, "--bootstrap-resamples", "200"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains(" 0 faster, 0 slower, "), r.stdout)
        XCTAssertTrue(r.stdout.contains("0 only in A, 0 only in B."), r.stdout)
        XCTAssertTrue(r.stdout.contains("the same in A and B"), r.stdout)
        let json = try run(["compare", file, file, "--format", "json", "--bootstrap-resamples", "200"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let rows = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]])
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
        XCTAssertEqual(rows.count, (stored?["rows"] as? [Any])?.count)
        // One run per side: a baseline's absolute time is not judged; a technique is judged on its speed-up, which equals itself.
        XCTAssertEqual(Set(rows.filter { $0["basis"] as? String != "speed-up" }.map { $0["verdict"] as? String }), ["not judged"],
                       "one run per side: absolute times are not judged")
        XCTAssertEqual(Set(rows.filter { $0["basis"] as? String == "speed-up" }.map { $0["verdict"] as? String }).subtracting(["~noise"]), [],
                       "a speed-up compared with itself is within noise")
        // The same file as two runs per side: every baseline row is judged, and within the noise.
        let twice = try run(["compare", file, file, "--more-a", file, "--more-b", file, "--format", "json",
                             "--bootstrap-resamples", "200", "--fail-if", "slower:1%"])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        let judged = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(twice.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]])
        XCTAssertEqual(Set(judged.filter { $0["basis"] as? String == "run medians" }.map { $0["verdict"] as? String }), ["~noise"])
    }

    func testCompareRejectsFilesThatAreNotSuiteResults() throws {
        let garbage = try tempDir().appendingPathComponent("garbage.json")
        try Data("{ not json".utf8).write(to: garbage)
        let good = reference("default.json")
        try assertRejected(["compare", good, garbage.path], mentions: "\(garbage.path) is not a JSON file (invalid JSON near line 1, column 3).")
        // A scenario file written before every command shared one format (schema 1, no configuration).
        let old = garbage.deletingLastPathComponent().appendingPathComponent("generate.json")
        try Data(#"{"schemaVersion": 1, "environment": {}, "model": "decoder-small", "variants": []}"#.utf8).write(to: old)
        try assertRejected(["compare", old.path, good], mentions: "generate.json is a schema 1 scenario result")
        try assertRejected(["compare", "/nonexistent/a.json", good], mentions: "/nonexistent/a.json")
        try assertRejected(["compare", good, good, "--min-change", "-1"], mentions: "--min-change")
    }

    func testChartWritesTheChartsOfEachKindAndNothingOnBadInput() throws {
        let dir = try tempDir()
        let out = dir.appendingPathComponent("charts")
        let generated = dir.appendingPathComponent("generate.json").path
        let g = try run(["generate", "--tokens", "4"] + Self.tiny + ["--output", generated])
        XCTAssertEqual(g.status, 0, g.stderr)
        let r = try run(["chart", reference("minilm-techniques.json"), generated, "--output-dir", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let written = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(written, ["generate-kv-cache.svg", "generate-speedup.svg", "minilm-techniques-latency-throughput.svg",
                                 "minilm-techniques-speedup.svg"])
        let svg = try String(contentsOf: out.appendingPathComponent("minilm-techniques-speedup.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))

        let garbage = dir.appendingPathComponent("garbage.json")
        try Data("[1, 2]".utf8).write(to: garbage)
        let never = dir.appendingPathComponent("never")
        try assertRejected(["chart", generated, garbage.path, "--output-dir", never.path],
                           mentions: "garbage.json is not an infbench result file", output: never)
        let old = dir.appendingPathComponent("cache.json")
        try Data(#"{"schemaVersion": 1, "environment": {}, "model": "encoder-small", "rows": []}"#.utf8).write(to: old)
        try assertRejected(["chart", old.path, "--output-dir", never.path], mentions: "schema 1 scenario result", output: never)
    }

    /// Measurement settings that keep a scenario to a second or two.
    static let tiny = ["--min-time", "0", "--min-runs", "2", "--max-warmup-runs", "1", "--min-warmup-time", "0",
                       "--bootstrap-resamples", "100"]

    /// Every scenario writes the common result; show, compare and reproduce read each kind.
    func testScenarioCommandsRunSmallAndRejectBadOptions() throws {
        let dir = try tempDir()
        let runs: [[String]] = [
            ["generate", "--model", "decoder-small", "--tokens", "4", "--techniques", "q4"],
            ["cache", "--requests", "20", "--catalogue", "5", "--seq-len", "8"],
            ["lengths", "--requests", "16", "--batch", "4"],
            ["serve", "--seq-len", "4", "--trial-seconds", "0.1", "--steps", "0", "--p99-ms", "5", "--max-batch", "4"],
            ["softmax", "--tokens", "4"],
            ["sparsity", "--rows", "1", "--sparsities", "0.5"],
        ]
        for args in runs {
            let json = dir.appendingPathComponent("\(args[0]).json")
            let r = try run(args + Self.tiny + ["--output", json.path])
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("infbench \(args[0])"), "\(args): \(r.stdout)")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
            XCTAssertEqual(object?["kind"] as? String, args[0], "\(args[0]) wrote the common envelope")
            let shown = try run(["show", json.path, "--format", "csv"])
            XCTAssertEqual(shown.status, 0, "show \(args[0]): \(shown.stderr)")
            if args[0] == "generate" { XCTAssertTrue(r.stdout.contains("KV cache + q4"), r.stdout) }
            let compared = try run(["compare", json.path, json.path, "--bootstrap-resamples", "200"])
            XCTAssertEqual(compared.status, 0, "compare \(args[0]) with itself: \(compared.stderr)")
        }
        // Replayed from the file alone: every row of a tiny run is judged or named missing, nothing traps.
        for kind in ["generate", "cache", "serve", "sparsity"] {
            let r = try run(["reproduce", dir.appendingPathComponent("\(kind).json").path])
            XCTAssertTrue([0, 1].contains(r.status), "reproduce \(kind): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("REPRODUCED") || r.stdout.contains("DIFFERENT"), r.stdout)
        }
        let out = dir.appendingPathComponent("never.json")
        try assertRejected(["generate", "--model", "cnn-small", "--output", out.path], mentions: "GPT-style decoder", output: out)
        try assertRejected(["generate", "--tokens", "2000"], mentions: "max_position_embeddings")
        try assertRejected(["cache", "--zipf", "-1"], mentions: "--zipf")
        try assertRejected(["cache", "--threads", "0"], mentions: "--threads")
        try assertRejected(["serve", "--max-batch", "1"], mentions: "--max-batch")
        try assertRejected(["lengths", "--model", "decoder-small"], mentions: "BERT-style encoder")
        try assertRejected(["softmax", "--cutoffs", "10,20"], mentions: "--cutoffs")
        try assertRejected(["embed", "--model", "/nonexistent", "x"], mentions: "/nonexistent")
    }
}
