// Merging job results: rows keep their own host's samples; speed-ups are each
// host's own, summarised over hosts of one machine type; machine types stand
// side by side; missing and failed jobs are listed; a mismatched build is refused.
import Foundation
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class MergeTests: XCTestCase {
    /// Two jobs per group (repeat 2), batch 1 and 2: jobs 0, 1 (batch 1) and 2, 3 (batch 2).
    static let plan = PlanTests.plan(PlanTests.configuration(models: ["cnn-small"], batch: [1, 2], threads: [1]), repeats: 2)

    /// A job's result on `host`: baseline samples around `baselineMs`, "int8" around `variantMs`, the
    /// speed-up bootstrapped from exactly these samples, as the engine does on one host.
    static func result(job index: Int, host: String, baselineMs: Double, variantMs: Double, commit: String = "abc123",
                machineType: String? = nil) -> SuiteResult {
        let job = plan.jobs[index]
        var env = PrinterTests.fixture().environment
        env.hostname = host
        env.gitCommit = commit
        if let machineType { env.variables["INFBENCH_MACHINE_TYPE"] = machineType }
        func samples(_ ms: Double) -> [UInt64] { (0..<9).map { UInt64(ms * 1e6 * (1 + 0.01 * Double($0 % 3))) } }
        let base = samples(baselineMs), variant = samples(variantMs)
        func row(_ name: String, _ s: [UInt64], _ speedup: Speedup?) -> ResultRow {
            var r = PrinterTests.row(name, executes: name, median: 1_000_000, speedup: speedup, quality: nil)
            r.model = job.model
            r.batch = job.batch
            r.sequenceLength = job.sequenceLength
            r.threads = job.threads
            r.samplesNs = s
            r.stats = SampleStats(samplesNs: s)
            return r
        }
        let rows = [row("fp32", base, nil),
                    row("int8", variant, Bootstrap.speedup(baselineNs: base, variantNs: variant, baselineName: "fp32", resamples: 200, seed: 7))]
        var r = SuiteResult(suite: "t", environment: env, configuration: plan.configuration,
                            roofline: [RooflinePoint(threads: 1, m: 64, n: 64, k: 64, samplesNs: [1], gflops: host == "a" ? 10 : 20)],
                            rows: rows, warnings: [])
        r.job = JobReference(planId: plan.id, jobId: job.id, index: index, repetition: job.repetition)
        return r
    }

    var plan: BenchPlan { Self.plan }
    func result(job index: Int, host: String, baselineMs: Double, variantMs: Double, commit: String = "abc123",
                machineType: String? = nil) -> SuiteResult {
        Self.result(job: index, host: host, baselineMs: baselineMs, variantMs: variantMs, commit: commit, machineType: machineType)
    }

    func testTwoHostsAreNeverPooled() throws {
        // Host a is slow (10 ms → 5 ms: 2×), host b fast (1 ms → 0.8 ms: 1.25×), same machine type.
        let merged = try Merger.combine(plan: plan, results: [("0", result(job: 0, host: "a", baselineMs: 10, variantMs: 5)),
                                                              ("1", result(job: 1, host: "b", baselineMs: 1, variantMs: 0.8))],
                                        failures: [], allowMismatch: false)
        XCTAssertEqual(merged.kind, .merge)
        let m = try XCTUnwrap(merged.merge)
        XCTAssertEqual(m.hosts.map(\.hostname), ["a", "b"])
        XCTAssertEqual(m.machineTypes.count, 1)
        // Every row keeps its own host's samples.
        XCTAssertEqual(merged.rows.map { $0.host! }, ["a", "a", "b", "b"])
        XCTAssertEqual(merged.rows[0].stats.median, 0.0101, accuracy: 1e-9)
        XCTAssertEqual(merged.rows[2].stats.median, 0.00101, accuracy: 1e-9)
        let s = try XCTUnwrap(m.speedups.first { $0.variant == "int8" && $0.batch == 1 })
        XCTAssertEqual(s.hosts, 2)
        XCTAssertEqual(s.perHost.map(\.host), ["a", "b"])
        XCTAssertEqual(s.perHost[0].ratio, 2, accuracy: 1e-9, "host a's own ratio")
        XCTAssertEqual(s.perHost[1].ratio, 1.25, accuracy: 1e-9, "host b's own ratio")
        // The geometric mean of the per-host ratios; pooling the samples would mix a's and b's latencies
        // in one median and give neither.
        XCTAssertEqual(s.ratio, (2 * 1.25).squareRoot(), accuracy: 1e-9)
        // 95% t interval over 2 hosts (t = 12.706): wide, as two hosts deserve.
        let half = 12.706 * abs(log(2) - log(1.25)) / 2 // t · sd / √n, sd = |Δ| / √2
        XCTAssertEqual(s.low, exp((log(2) + log(1.25)) / 2 - half), accuracy: 1e-9)
        XCTAssertEqual(s.high, exp((log(2) + log(1.25)) / 2 + half), accuracy: 1e-9)
        XCTAssertTrue(s.withinNoise, "an interval this wide covers 1")
        XCTAssertEqual(m.hosts.map { $0.roofline.map(\.gflops) }, [[10], [20]], "each host its own roofline")
    }

    func testMachineTypesSideBySideAndMissingAndFailedJobs() throws {
        let merged = try Merger.combine(
            plan: plan,
            results: [("0", result(job: 0, host: "a", baselineMs: 10, variantMs: 5, machineType: "small")),
                      ("1", result(job: 1, host: "c", baselineMs: 4, variantMs: 1, machineType: "big")),
                      ("2", result(job: 2, host: "a", baselineMs: 10, variantMs: 8, machineType: "small"))],
            failures: [JobFailure(planId: plan.id, jobId: plan.jobs[3].id, index: 3, hostname: "c", timestamp: "t",
                                  error: "out of memory.")],
            allowMismatch: false)
        let m = try XCTUnwrap(merged.merge)
        XCTAssertEqual(m.machineTypes, ["small", "big"])
        let b1 = m.speedups.filter { $0.variant == "int8" && $0.batch == 1 }
        XCTAssertEqual(b1.map(\.machineType), ["small", "big"], "one summary per machine type, not one across them")
        XCTAssertEqual(b1[0].ratio, 2, accuracy: 0.001)
        XCTAssertEqual(b1[1].ratio, 4, accuracy: 0.001)
        XCTAssertEqual(b1[0].interval, "one host: its own bootstrap interval")
        XCTAssertEqual(m.missingJobs, [MissingJob(index: 3, jobId: plan.jobs[3].id, label: plan.jobs[3].label, status: "failed",
                                                  error: "out of memory.", host: "c")])
        XCTAssertTrue(merged.warnings.contains { $0.contains("1 of 4 jobs have no result (1 failed)") }, "\(merged.warnings)")
        let report = MergeReport.render(merged)
        XCTAssertTrue(report.contains("speed-up on [1]") && report.contains("speed-up on [2]"), report)
        XCTAssertTrue(report.contains("job 3 \(plan.jobs[3].id)"), report)
        XCTAssertTrue(report.contains("out of memory."), report)

        // Without the failure record the job is just missing.
        let missing = try Merger.combine(plan: plan, results: [("0", result(job: 0, host: "a", baselineMs: 10, variantMs: 5))],
                                         failures: [], allowMismatch: false)
        XCTAssertEqual(missing.merge?.missingJobs.map(\.index), [1, 2, 3])
        XCTAssertEqual(missing.merge?.missingJobs.map(\.status), ["missing", "missing", "missing"])
    }

    func testAMismatchedBuildIsRefusedUnlessAllowed() throws {
        let results = [("x/0.json", result(job: 0, host: "a", baselineMs: 10, variantMs: 5, commit: "abc123")),
                       ("y/1.json", result(job: 1, host: "b", baselineMs: 10, variantMs: 5, commit: "def456-dirty"))]
        XCTAssertThrowsError(try Merger.combine(plan: plan, results: results, failures: [], allowMismatch: false)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("refusing to merge: the results come from 2 different builds"), text)
            XCTAssertTrue(text.contains("def456-dirty") && text.contains("--allow-mismatch"), text)
        }
        let allowed = try Merger.combine(plan: plan, results: results, failures: [], allowMismatch: true)
        XCTAssertEqual(allowed.merge?.allowedMismatches?.count, 1)
        XCTAssertTrue(allowed.warnings.contains { $0.hasPrefix("merged despite a mismatch") })

        // A job of another plan (another configuration) is refused the same way.
        let other = PlanTests.plan(PlanTests.configuration(models: ["cnn-small"], batch: [1, 2], threads: [1], minSeconds: 3), repeats: 2)
        var foreign = result(job: 1, host: "b", baselineMs: 10, variantMs: 5)
        foreign.job?.planId = other.id
        XCTAssertThrowsError(try Merger.combine(plan: plan, results: [("0", result(job: 0, host: "a", baselineMs: 10, variantMs: 5)), ("1", foreign)],
                                                failures: [], allowMismatch: false)) {
            XCTAssertTrue("\($0)".contains("configuration differs"), "\($0)")
        }
    }

    func testMergeReadsResultsDirectoriesAndShowsTheResult() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-merge-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        // Two directories, one per cluster, each with its own copy of the plan.
        for (dir, host, jobs) in [("\(root)/x", "a", [0, 2]), ("\(root)/y", "b", [1])] {
            for j in jobs {
                _ = try PlanRunner.run(plan: plan, path: "p", index: j, directory: dir) { _ in
                    Self.result(job: j, host: host, baselineMs: 10, variantMs: 5)
                }
            }
        }
        let merged = try Merger.merge(directories: ["\(root)/x", "\(root)/y"], planPath: nil, allowMismatch: false)
        XCTAssertEqual(merged.merge?.mergedResults, 3)
        XCTAssertEqual(merged.merge?.missingJobs.map(\.index), [3])
        // The merged file is the common envelope: it round-trips through the one reader.
        let back = try decodeSuiteResult(from: Data(JSONPrinter().render(merged).utf8), path: "m.json")
        XCTAssertEqual(back.kind, .merge)
        XCTAssertEqual(back.merge, merged.merge)
        XCTAssertThrowsError(try Merger.merge(directories: ["\(root)/none"], planPath: nil, allowMismatch: false)) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
    }
}
