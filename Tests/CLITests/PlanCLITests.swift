// plan, run --plan --job and merge as a user (or a scheduler) meets them: a tiny
// plan run job by job, a rerun that skips, a merge that show prints; bad input is
// one sentence, a non-zero exit and no file written.
import Foundation
import XCTest

extension CLITests {
    static let tinyGrid = ["--model", "encoder-small", "--batch", "1", "--threads", "1", "--seq-len", "8", "--min-time", "0",
                           "--min-runs", "3", "--max-warmup-runs", "2", "--min-warmup-time", "0", "--roofline-size", "32",
                           "--bootstrap-resamples", "100"]

    func testPlanRunJobsMergeAndShow() throws {
        let dir = try tempDir()
        let plan = dir.appendingPathComponent("plan.json").path
        let script = dir.appendingPathComponent("job.sbatch").path
        let results = dir.appendingPathComponent("results").path
        let made = try run(["plan"] + Self.tinyGrid + ["--output", plan, "--slurm", script, "--results", results, "--max-running", "3"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(made.stdout.split(separator: "\n").count, 1, "one job: \(made.stdout)")
        let sbatch = try String(contentsOfFile: script, encoding: .utf8)
        for line in ["#SBATCH --array=0-0%3", "#SBATCH --exclusive", "#SBATCH --output=\(results)/logs/infbench-%A_%a.log",
                     "--plan \(plan) --job \"${SLURM_ARRAY_TASK_ID}\" --results \(results)"] {
            XCTAssertTrue(sbatch.contains(line), "script lacks \(line):\n\(sbatch)")
        }

        let first = try run(["run", "--plan", plan, "--job", "0", "--results", results])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("finished on"), first.stderr)
        let again = try run(["run", "--plan", plan, "--job", "0", "--results", results])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already finished"), again.stderr)

        let merged = dir.appendingPathComponent("merged.json").path
        let m = try run(["merge", results, "--output", merged])
        XCTAssertEqual(m.status, 0, m.stderr)
        let shown = try run(["show", merged])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stdout.contains("infbench merge:") && shown.stdout.contains("Missing or failed jobs: none"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("fp32 A/A"), shown.stdout)
    }

    func testPlanAndJobBadInputIsOneSentence() throws {
        let dir = try tempDir()
        let plan = dir.appendingPathComponent("plan.json")
        let results = dir.appendingPathComponent("results")
        // Bad grids write no plan.
        try assertRejected(["plan", "--batch", "0", "--output", plan.path], mentions: "--batch must be between 1 and 4096, got 0.", output: plan)
        try assertRejected(["plan", "--model", "no-such-model", "--output", plan.path], mentions: "unknown model \"no-such-model\"", output: plan)
        try assertRejected(["plan", "--techniques", "fp33", "--output", plan.path], mentions: "unknown technique \"fp33\"", output: plan)

        XCTAssertEqual(try run(["plan"] + Self.tinyGrid + ["--output", plan.path]).status, 0)
        // A job index the plan does not have, from the option or the scheduler's variable.
        try assertRejected(["run", "--plan", plan.path, "--job", "1", "--results", results.path],
                           mentions: "job index 1 is out of range: plan \(plan.path) has 1 job, numbered 0 to 0.", output: results)
        try assertRejected(["run", "--plan", plan.path, "--results", results.path], mentions: "--plan needs --job I", output: results)
        try assertRejected(["run", "--plan", plan.path, "--job", "0", "--model", "cnn-small"], mentions: "leave out --model", output: results)
        // A corrupt or truncated plan file.
        let corrupt = dir.appendingPathComponent("corrupt.json")
        try Data(try Data(contentsOf: plan).prefix(100)).write(to: corrupt)
        try assertRejected(["run", "--plan", corrupt.path, "--job", "0", "--results", results.path],
                           mentions: "plan file \(corrupt.path) is not a JSON object", output: results)
        try assertRejected(["run", "--plan", dir.appendingPathComponent("none.json").path, "--job", "0", "--results", results.path],
                           mentions: "does not exist", output: results)
        // Merge: nothing to read, nothing written.
        let merged = dir.appendingPathComponent("merged.json")
        try assertRejected(["merge", results.path, "--output", merged.path], mentions: "does not exist", output: merged)
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try assertRejected(["merge", empty.path, "--output", merged.path], mentions: "has no plan.json", output: merged)
    }
}
