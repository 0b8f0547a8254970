// Comparing results: rows match by configuration; absolute times are judged only
// with several runs per side, speed-ups on the within-run ratios; identical runs
// and changes inside the noise floor are ~noise, one run per side is not judged,
// unmatched rows are listed, and differing environments are named.
import Foundation
import InfCore
import InfTechniques
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class CompareTests: XCTestCase {
    /// `n` seeded samples around `centreNs` with ±`spread` relative jitter.
    static func samples(_ n: Int = 40, centreNs: Double, spread: Double = 0.01, seed: UInt64) -> [UInt64] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { _ in
            let u = Double(rng.next() >> 11) * 0x1p-53 // uniform in [0, 1)
            return UInt64(centreNs * (1 + spread * (2 * u - 1)))
        }
    }

    static func row(_ variant: String = "fp32", batch: Int = 8, threads: Int = 1, samples: [UInt64],
                    speedup: Speedup? = nil, quality: Quality? = nil) -> ResultRow {
        let stats = SampleStats(samplesNs: samples)
        return ResultRow(model: "bert-tiny", variant: variant, executes: "test", batch: batch, sequenceLength: 128,
                         threads: threads, itemUnit: "seq", itemsPerRun: batch, warmupRuns: 2, samplesNs: samples,
                         stats: stats, throughput: stats.median > 0 ? Double(batch) / stats.median : 0,
                         flopsPerRun: 1e9, gflops: 1, rooflinePercent: nil, weightBytes: 0, peakRSSBytes: 0,
                         speedup: speedup, quality: quality)
    }

    static func suite(_ rows: [ResultRow], cpu: String = "Test CPU") -> SuiteResult {
        var result = PrinterTests.fixture()
        result.environment.cpuModel = cpu
        result.rows = rows
        return result
    }

    private func compare(_ a: [ResultRow], _ b: [ResultRow], minChange: Double = 0.02) -> SuiteComparison {
        compareSuites(Self.suite(a), Self.suite(b), pathA: "a.json", pathB: "b.json", minChange: minChange, resamples: 500)
    }

    /// Several runs per side: `centres` are each run's median for one row.
    private func compareRuns(_ a: [Double], _ b: [Double], minChange: Double = 0.02) -> RowComparison {
        func side(_ centres: [Double], _ seed: UInt64) -> [SuiteResult] {
            centres.enumerated().map { i, c in Self.suite([Self.row(samples: Self.samples(centreNs: c, spread: 0.001, seed: seed + UInt64(i)))]) }
        }
        return compareSuites(side(a, 1), side(b, 100), pathA: "a", pathB: "b", minChange: minChange, resamples: 500).rows[0]
    }

    func testAbsoluteTimesNeedSeveralRunsPerSide() {
        // One run per side: a 30% difference is shown but not judged — one run's spread says nothing of the next.
        let one = compare([Self.row(samples: Self.samples(centreNs: 10e6, seed: 1))], [Self.row(samples: Self.samples(centreNs: 7e6, seed: 3))])
        XCTAssertEqual(one.rows[0].verdict, .unjudged)
        XCTAssertEqual(one.rows[0].ratio!, 0.7, accuracy: 0.02, "B median / A median is still shown")
        XCTAssertTrue(one.warnings.contains { $0.contains("not judged with one run per side") })
        // Three runs per side: clearly faster, clearly slower.
        let faster = compareRuns([10e6, 10.1e6, 9.9e6], [7e6, 7.1e6, 6.9e6])
        XCTAssertEqual(faster.verdict, .faster)
        XCTAssertEqual(faster.basis, "run medians")
        XCTAssertEqual(faster.ratio!, 0.7, accuracy: 0.01)
        XCTAssertEqual(compareRuns([10e6, 10.1e6], [13e6, 13.2e6]).verdict, .slower)
        // Runs that scatter by 8% between themselves: a 5% change is inside that run-to-run spread.
        let scattered = compareRuns([10e6, 10.8e6], [9.7e6, 10.1e6])
        XCTAssertEqual(scattered.verdict, .noise)
        XCTAssertEqual(scattered.noiseFloor, 0.08, accuracy: 0.005)
        // Overlapping ranges are never a verdict, whatever the means.
        XCTAssertEqual(compareRuns([10e6, 9e6], [9.5e6, 8.5e6], minChange: 0).verdict, .noise)
        let table = renderComparison(compareSuites([Self.suite([Self.row(samples: Self.samples(centreNs: 10e6, seed: 1))]),
                                                    Self.suite([Self.row(samples: Self.samples(centreNs: 10.1e6, seed: 2))])],
                                                   [Self.suite([Self.row(samples: Self.samples(centreNs: 7e6, seed: 3))]),
                                                    Self.suite([Self.row(samples: Self.samples(centreNs: 7.1e6, seed: 4))])],
                                                   pathA: "a", pathB: "b", resamples: 200), format: .table)
        XCTAssertTrue(table.contains("1 matched rows: 1 faster, 0 slower, 0 ~noise"), table)
        XCTAssertTrue(table.contains("run medians (2+2 runs)"), table)
    }

    /// A variant is judged on its within-run speed-up, which travels between runs.
    func testSpeedUpsAreJudgedFromOneRunEach() {
        func variant(_ ratio: Double, _ half: Double) -> ResultRow {
            Self.row("fp16", samples: Self.samples(centreNs: 5e6, seed: 9),
                     speedup: Speedup(baseline: "fp32", ratio: ratio, low: ratio - half, high: ratio + half, confidence: 0.95))
        }
        let worse = compare([variant(1.50, 0.03)], [variant(1.20, 0.03)]).rows[0]
        XCTAssertEqual(worse.verdict, .slower, "the speed-up fell from 1.5× to 1.2×")
        XCTAssertEqual(worse.basis, "speed-up")
        XCTAssertEqual(worse.ratio!, 1.25, accuracy: 1e-9, "the time ratio the speed-ups imply")
        XCTAssertEqual(compare([variant(1.20, 0.03)], [variant(1.50, 0.03)]).rows[0].verdict, .faster)
        XCTAssertEqual(compare([variant(1.50, 0.03)], [variant(1.52, 0.03)]).rows[0].verdict, .noise, "inside both intervals")
        XCTAssertEqual(compare([variant(1.50, 0.001)], [variant(1.51, 0.001)]).rows[0].verdict, .noise, "tight, but under the 2% floor")
    }

    func testIdenticalRunsAreNoiseOrNotJudged() {
        let rows = [Self.row(samples: Self.samples(centreNs: 5e6, spread: 0.05, seed: 7)),
                    Self.row("fp16", samples: Self.samples(centreNs: 3e6, spread: 0.001, seed: 8),
                             speedup: Speedup(baseline: "fp32", ratio: 1.6, low: 1.55, high: 1.65, confidence: 0.95))]
        let c = compare(rows, rows)
        XCTAssertEqual(c.rows.map(\.verdict), [.unjudged, .noise])
        for r in c.rows {
            XCTAssertEqual(r.ratio!, 1, accuracy: 1e-12)
            XCTAssertLessThanOrEqual(r.low!, 1)
            XCTAssertGreaterThanOrEqual(r.high!, 1)
        }
        XCTAssertTrue(c.differences.isEmpty)
        let twice = compareSuites([Self.suite(rows), Self.suite(rows)], [Self.suite(rows), Self.suite(rows)],
                                  pathA: "a", pathB: "b", resamples: 200)
        XCTAssertEqual(twice.rows.map(\.verdict), [.noise, .noise])
    }

    func testAChangeInsideTheNoiseFloorIsNoise() {
        // 1.5% faster over tight runs: the runs do not overlap, but the change is below the 2% floor.
        XCTAssertEqual(compareRuns([10e6, 10.01e6], [9.85e6, 9.86e6]).verdict, .noise)
        XCTAssertEqual(compareRuns([10e6, 10.01e6], [9.85e6, 9.86e6], minChange: 0.005).verdict, .faster, "a lower floor lets it through")

        // An A/A row that drifted 3% raises the floor of its instance above a 2.5% change.
        let a = [Self.row(samples: Self.samples(centreNs: 10e6, spread: 0.001, seed: 1))]
        let aa = Speedup(baseline: "fp32", ratio: 0.97, low: 0.96, high: 0.98, confidence: 0.95)
        let withAA = a + [Self.row(aaVariantName, samples: a[0].samplesNs, speedup: aa)]
        let slower = [Self.row(samples: Self.samples(centreNs: 10.25e6, spread: 0.001, seed: 3))]
        let r = compareSuites(Self.suite(withAA), Self.suite(slower), pathA: "a", pathB: "b", resamples: 500).rows[0]
        XCTAssertEqual(r.noiseFloor, 0.03, accuracy: 1e-12)
        XCTAssertNotEqual(r.verdict, .slower)
    }

    func testFailIfGate() throws {
        let c = compareSuites([Self.suite([Self.row(samples: Self.samples(centreNs: 10e6, seed: 1))]),
                               Self.suite([Self.row(samples: Self.samples(centreNs: 10.1e6, seed: 2))])],
                              [Self.suite([Self.row(samples: Self.samples(centreNs: 13e6, seed: 3))]),
                               Self.suite([Self.row(samples: Self.samples(centreNs: 13.1e6, seed: 4))])],
                              pathA: "a", pathB: "b", resamples: 200)
        XCTAssertEqual(c.failing(try SuiteComparison.parseGate("slower:5%")).count, 1)
        XCTAssertEqual(c.failing(try SuiteComparison.parseGate("slower:50%")).count, 0, "30% slower is within a 50% gate")
        XCTAssertEqual(c.failing(try SuiteComparison.parseGate("faster:5")).count, 0)
        XCTAssertThrowsError(try SuiteComparison.parseGate("worse:5%"))
        XCTAssertThrowsError(try SuiteComparison.parseGate("slower:x"))
    }

    func testUnmatchedRowsAreListedAndMatchingUsesTheWholeConfiguration() {
        let s = Self.samples(centreNs: 1e6, seed: 1)
        let a = [Self.row(batch: 1, samples: s), Self.row(batch: 8, samples: s), Self.row("fp16", batch: 8, samples: s)]
        let b = [Self.row(batch: 8, samples: s), Self.row(batch: 8, threads: 2, samples: s), Self.row("bf16", batch: 8, samples: s)]
        let c = compare(a, b)
        XCTAssertEqual(c.rows.map(\.key.label), ["bert-tiny · fp32 · b8×128 · 1 thr"])
        XCTAssertEqual(c.onlyInA.map(\.label), ["bert-tiny · fp32 · b1×128 · 1 thr", "bert-tiny · fp16 · b8×128 · 1 thr"])
        XCTAssertEqual(c.onlyInB.map(\.label), ["bert-tiny · fp32 · b8×128 · 2 thr", "bert-tiny · bf16 · b8×128 · 1 thr"])
        let text = renderComparison(c, format: .table)
        XCTAssertTrue(text.contains("Only in A (2):\n  bert-tiny · fp32 · b1×128 · 1 thr"), text)
        XCTAssertTrue(text.contains("Only in B (2):"), text)
        XCTAssertEqual(renderComparison(c, format: .csv).split(separator: "\n").count, 1 + 1 + 2 + 2)
    }

    func testRowsWithoutSamplesAreNotMeasured() {
        let c = compare([Self.row(samples: [])], [Self.row(samples: Self.samples(centreNs: 1e6, seed: 1))])
        XCTAssertEqual(c.rows[0].verdict, .unmeasured)
        XCTAssertNil(c.rows[0].ratio)
        XCTAssertTrue(renderComparison(c, format: .table).contains("not measured"))
    }

    func testQualityAndEnvironmentDifferencesAreShown() {
        let s = Self.samples(centreNs: 1e6, seed: 1)
        let qa = Quality(maxAbsDiff: 1e-3, meanCosine: 0.999990, top1Agreement: 1)
        let qb = Quality(maxAbsDiff: 1e-3, meanCosine: 0.999500, top1Agreement: 0.98)
        var b = Self.suite([Self.row("fp16", samples: s, quality: qb)], cpu: "Other CPU")
        b.environment.gitCommit = "fedcba987654"
        b.environment.variables = ["OPENBLAS_CORETYPE": "Haswell"]
        let c = compareSuites(Self.suite([Self.row("fp16", samples: s, quality: qa)]), b, pathA: "a", pathB: "b", resamples: 200)
        XCTAssertEqual(qualityChange(qa, qb), "cos 0.999990 → 0.999500 · top1 100.0% → 98.0%")
        XCTAssertEqual(qualityChange(qa, qa), "identical")
        XCTAssertTrue(c.differences.contains("cpuModel: Test CPU → Other CPU"), "\(c.differences)")
        XCTAssertTrue(c.differences.contains("gitCommit: 0123456789ab → fedcba987654"), "\(c.differences)")
        XCTAssertTrue(c.differences.contains("variables: (none) → OPENBLAS_CORETYPE=Haswell"), "\(c.differences)")
        XCTAssertTrue(c.warnings.contains { $0.contains("absolute times from different machines are not comparable") })
        XCTAssertTrue(c.warnings.contains { $0.hasPrefix("variables differ") })
        let markdown = renderComparison(c, format: .markdown)
        XCTAssertTrue(markdown.contains("> **WARNING** A and B were measured on different machines"), markdown)
        XCTAssertTrue(markdown.contains("| bert-tiny | fp16 | 8 | 128 | 1 |"), markdown)
    }

    func testJSONRoundTrips() throws {
        let s = Self.samples(centreNs: 1e6, seed: 1)
        let c = compare([Self.row(samples: s)], [Self.row(samples: s), Self.row("fp16", samples: s)])
        let back = try JSONDecoder().decode(SuiteComparison.self, from: Data(renderComparison(c, format: .json).utf8))
        XCTAssertEqual(back.rows.map(\.verdict), [.unjudged])
        XCTAssertEqual(back.onlyInB, c.onlyInB)
    }

    /// Two real runs of the same build and configuration: no row may be called faster or slower.
    func testTwoRealRunsOfTheSameBuildGiveNoVerdict() throws {
        let plan = SuitePlan(suite: "aa", models: ["encoder-small"], techniques: [FP32Baseline(), AABaseline(), try Techniques.parse("bf16")],
                             batchSizes: [1, 4], threads: [1], sequenceLengths: [16],
                             policy: MeasurementPolicy(minSeconds: 0.05, minRuns: 10, maxWarmupRuns: 5, maxWarmupSeconds: 1, orderSeed: 3),
                             inputSeed: 1, bootstrapSeed: 2, bootstrapResamples: 500, rooflineSize: 32)
        let runner = SuiteRunner(plan: plan, showProgress: false)
        let models = try runner.loadModels()
        let first = try runner.run(models: models), second = try runner.run(models: models)
        let c = compareSuites(first, second, pathA: "first", pathB: "second", resamples: 500)
        XCTAssertEqual(c.rows.count, 6)
        for r in c.rows { XCTAssertFalse([.faster, .slower].contains(r.verdict), "\(r.key.label): \(r.verdict) \(r.basis)") }
    }
}
