// Plans: a grid expands into one job per comparison group, with ids that hash
// the job's content (stable across runs, unchanged when the grid grows elsewhere);
// a job runs by index into its own file, atomically, and a rerun skips it.
import Foundation
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class PlanTests: XCTestCase {
    static func configuration(models: [String] = ["encoder-small", "cnn-small"], batch: [Int] = [1, 8], threads: [Int] = [1, 2],
                              seq: [Int] = [16, 32], minSeconds: Double = 0.5) -> RunConfiguration {
        RunConfiguration(models: models, variants: ["fp32", "fp32 A/A", "int8"], batchSizes: batch, threads: threads,
                         sequenceLengths: seq, minSeconds: minSeconds, minRuns: 5, maxWarmupRuns: 10, maxWarmupSeconds: 1,
                         inputSeed: 42, bootstrapSeed: 43, bootstrapResamples: 200, threadPolicy: "test", orderSeed: 44,
                         minWarmupSeconds: 0, rooflineSize: 64)
    }

    /// The CNN has no sequence length; the transformer does.
    static func lengths(_ model: String) -> Bool { model != "cnn-small" }

    static func plan(_ c: RunConfiguration = configuration(), repeats: Int = 1) -> BenchPlan {
        BenchPlan.expand(suite: "t", configuration: c, repeats: repeats, lengths: lengths)
    }

    func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-plan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testExpansionIsOneJobPerComparisonGroup() {
        let plan = Self.plan()
        // encoder: 2 lengths × 2 batches × 2 threads; cnn: 1 × 2 × 2.
        XCTAssertEqual(plan.jobs.count, 8 + 4)
        XCTAssertEqual(plan.jobs.map(\.index), Array(0..<12))
        XCTAssertEqual(plan.jobs.filter { $0.model == "cnn-small" }.map(\.sequenceLength), [nil, nil, nil, nil])
        XCTAssertEqual(Set(plan.jobs.map(\.id)).count, plan.jobs.count, "ids are unique")
        XCTAssertTrue(plan.jobs.allSatisfy { $0.id.count == 16 && $0.id.allSatisfy(\.isHexDigit) })
        XCTAssertEqual(plan.jobs[0].label, "encoder-small batch 1 × 16 tokens × 1 thr")
        XCTAssertEqual(Self.plan(repeats: 3).jobs.count, 36)
        XCTAssertEqual(Set(Self.plan(repeats: 3).jobs.map(\.id)).count, 36, "repeats are distinct jobs")
    }

    func testIdsAreStableAndHashTheContent() {
        let a = Self.plan(), b = Self.plan()
        XCTAssertEqual(a.jobs.map(\.id), b.jobs.map(\.id))
        XCTAssertEqual(a.id, b.id)
        // A grid grown by a batch size keeps the ids of the jobs it already had.
        let grown = Self.plan(Self.configuration(batch: [1, 8, 32]))
        XCTAssertTrue(Set(a.jobs.map(\.id)).isSubset(of: Set(grown.jobs.map(\.id))))
        XCTAssertNotEqual(a.id, grown.id)
        // Any measurement setting changes every id: the results measure something else.
        let longer = Self.plan(Self.configuration(minSeconds: 1))
        XCTAssertTrue(Set(a.jobs.map(\.id)).isDisjoint(with: Set(longer.jobs.map(\.id))))
        // A known value: the hash (FNV-1a over sorted-key JSON) must not drift between builds.
        XCTAssertEqual(hashHex(""), "cbf29ce484222325")
        XCTAssertEqual(hashHex("a"), "af63dc4c8601ec8c")
    }

    func testPlanFileRoundTripsAndCorruptionIsOneSentence() throws {
        let dir = try tempDir()
        let path = dir + "/plan.json"
        let plan = Self.plan()
        try writeAtomically(plan.json(), to: path)
        XCTAssertEqual(try BenchPlan.load(path: path), plan)

        func rejected(_ text: String, _ phrase: String, line: UInt = #line) {
            try? writeAtomically(text, to: path)
            XCTAssertThrowsError(try BenchPlan.load(path: path), line: line) { error in
                XCTAssertTrue("\(error)".contains(phrase), "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(path), "names the file: \(error)", line: line)
            }
        }
        rejected(String(plan.json().prefix(200)), "not a JSON object")
        rejected("{\"hello\": 1}", "no planVersion")
        rejected(plan.json().replacingOccurrences(of: "\"planVersion\" : 1", with: "\"planVersion\" : 9"), "plan version 9")
        // A job edited by hand no longer matches its id.
        rejected(plan.json().replacingOccurrences(of: "\"batch\" : 8", with: "\"batch\" : 4"), "does not match its id")
        XCTAssertThrowsError(try BenchPlan.load(path: dir + "/nope.json")) { XCTAssertTrue("\($0)".contains("does not exist")) }
    }

    func testJobIndexOutOfRangeAndFromTheEnvironment() throws {
        let plan = Self.plan()
        XCTAssertEqual(try plan.job(3, path: "p.json").id, plan.jobs[3].id)
        XCTAssertThrowsError(try plan.job(12, path: "p.json")) {
            XCTAssertEqual("\($0)", "job index 12 is out of range: plan p.json has 12 jobs, numbered 0 to 11.")
        }
        XCTAssertEqual(try PlanRunner.indexFromEnvironment(["SLURM_ARRAY_TASK_ID": "5"]), 5)
        XCTAssertEqual(try PlanRunner.indexFromEnvironment(["JOB_COMPLETION_INDEX": "2"]), 2)
        XCTAssertNil(try PlanRunner.indexFromEnvironment([:]))
        XCTAssertThrowsError(try PlanRunner.indexFromEnvironment(["SLURM_ARRAY_TASK_ID": "x"]))
    }

    func testTheJobsSuiteIsItsOwnGroup() throws {
        let plan = Self.plan()
        let job = plan.jobs[5]
        let suite = try PlanRunner.suitePlan(for: job, of: plan)
        XCTAssertEqual(suite.models, [job.model])
        XCTAssertEqual(suite.batchSizes, [job.batch])
        XCTAssertEqual(suite.threads, [job.threads])
        XCTAssertEqual(suite.sequenceLengths, [job.sequenceLength!])
        XCTAssertEqual(suite.techniques.map(\.name), ["fp32", "fp32 A/A", "int8"])
        XCTAssertEqual(suite.policy.minSeconds, 0.5)
        XCTAssertEqual(suite.policy.orderSeed, 44)
        XCTAssertEqual(suite.rooflineSize, 64)
    }

    /// A real measurement of a tiny workload, standing in for a model (the engine and the file are real).
    static func measure(_ suite: SuitePlan, host: String = "node-a") -> SuiteResult {
        let engine = Engine(policy: MeasurementPolicy(minSeconds: 0, minRuns: 5, maxWarmupRuns: 2, maxWarmupSeconds: 0.1),
                            bootstrapResamples: 100, bootstrapSeed: 1)
        var sink = 0.0
        let body = { for i in 0..<2000 { sink += Double(i).squareRoot() } }
        var warnings: [String] = []
        let point = WorkloadPoint(model: suite.models[0], workload: "forward", batch: suite.batchSizes[0],
                                  sequenceLength: suite.sequenceLengths.first, threads: suite.threads[0], itemUnit: "seq", itemsPerRun: 1)
        let rows = engine.measureGroup(point, [EngineVariant(name: "fp32", executes: "spin", body: body),
                                               EngineVariant(name: "fp32 A/A", executes: "spin", body: body)], warnings: &warnings)
        var result = engine.result(kind: .run, name: suite.suite, models: suite.models, variants: ["fp32", "fp32 A/A"],
                                   threads: suite.threads, batchSizes: suite.batchSizes, sequenceLengths: suite.sequenceLengths,
                                   seed: 1, workload: WorkloadConfiguration(), rows: rows, warnings: warnings)
        result.kind = .run
        result.environment.hostname = host
        result.roofline = [RooflinePoint(threads: suite.threads[0], m: 8, n: 8, k: 8, samplesNs: [1000], gflops: 1)]
        return result
    }

    func testAJobRunsByIndexIntoItsOwnFileAndARerunSkipsIt() throws {
        let dir = try tempDir() + "/results"
        let plan = Self.plan()
        var measured: [SuitePlan] = []
        let first = try PlanRunner.run(plan: plan, path: "p.json", index: 7, directory: dir) { suite in
            measured.append(suite)
            return Self.measure(suite)
        }
        guard case .finished(let path, let result) = first else { return XCTFail("job 7 should have run") }
        XCTAssertEqual(path, dir + "/\(plan.jobs[7].id).json")
        XCTAssertEqual(measured.map(\.models), [[plan.jobs[7].model]])
        XCTAssertEqual(result.job, JobReference(planId: plan.id, jobId: plan.jobs[7].id, index: 7, repetition: 0))
        // The file is the common envelope, with the job and the host's roofline.
        let read = try decodeSuiteResult(from: try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        XCTAssertEqual(read.job?.jobId, plan.jobs[7].id)
        XCTAssertEqual(read.roofline.count, 1)
        XCTAssertEqual(read.rows.map(\.variant), ["fp32", "fp32 A/A"])
        XCTAssertEqual(try BenchPlan.load(path: dir + "/plan.json").id, plan.id, "the plan travels with its results")
        // Nothing else in the directory: no temporary file left behind.
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["plan.json", "\(plan.jobs[7].id).json"])

        let again = try PlanRunner.run(plan: plan, path: "p.json", index: 7, directory: dir) { suite in
            XCTFail("a finished job must not be measured again")
            return Self.measure(suite)
        }
        guard case .skipped(let skipped) = again else { return XCTFail("the rerun should skip") }
        XCTAssertEqual(skipped, path)
        // Another job of the same plan still runs.
        guard case .finished = try PlanRunner.run(plan: plan, path: "p.json", index: 8, directory: dir, measure: { Self.measure($0) }) else {
            return XCTFail("job 8 should have run")
        }
    }

    func testAFailedJobLeavesItsErrorAndNoResult() throws {
        let dir = try tempDir()
        let plan = Self.plan()
        XCTAssertThrowsError(try PlanRunner.run(plan: plan, path: "p.json", index: 2, directory: dir) { _ in
            throw HarnessError("model exploded.")
        })
        XCTAssertFalse(FileManager.default.fileExists(atPath: PlanRunner.resultPath(plan.jobs[2], in: dir)))
        let failure = try JSONDecoder().decode(JobFailure.self, from: Data(contentsOf: URL(fileURLWithPath: PlanRunner.failurePath(plan.jobs[2], in: dir))))
        XCTAssertEqual(failure.error, "model exploded.")
        XCTAssertEqual(failure.index, 2)
        // A successful rerun removes the failure record.
        _ = try PlanRunner.run(plan: plan, path: "p.json", index: 2, directory: dir) { Self.measure($0) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: PlanRunner.failurePath(plan.jobs[2], in: dir)))
    }

    func testOneDirectoryNeverHoldsTwoPlans() throws {
        let dir = try tempDir()
        _ = try PlanRunner.run(plan: Self.plan(), path: "p.json", index: 0, directory: dir) { Self.measure($0) }
        let other = Self.plan(Self.configuration(minSeconds: 2))
        XCTAssertThrowsError(try PlanRunner.run(plan: other, path: "q.json", index: 0, directory: dir) { Self.measure($0) }) {
            XCTAssertTrue("\($0)".contains("holds results of another plan"), "\($0)")
        }
    }
}
