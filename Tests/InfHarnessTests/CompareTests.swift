// Comparing two suite results: rows match by configuration, a clearly faster B
// is called faster, identical samples and changes inside the noise floor are
// ~noise, unmatched rows are listed, and differing environments are named.
import Foundation
import InfCore
import XCTest
@testable import InfHarness

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

    func testAClearlyFasterBIsFasterAndASlowerOneSlower() {
        let a = [Self.row(batch: 1, samples: Self.samples(centreNs: 10e6, seed: 1)),
                 Self.row(batch: 8, samples: Self.samples(centreNs: 10e6, seed: 2))]
        let b = [Self.row(batch: 1, samples: Self.samples(centreNs: 7e6, seed: 3)),
                 Self.row(batch: 8, samples: Self.samples(centreNs: 13e6, seed: 4))]
        let c = compare(a, b)
        XCTAssertEqual(c.rows.map(\.verdict), [.faster, .slower])
        XCTAssertEqual(c.rows[0].ratio!, 0.7, accuracy: 0.02, "B median / A median")
        XCTAssertLessThan(c.rows[0].high!, 1)
        XCTAssertGreaterThan(c.rows[1].low!, 1)
        XCTAssertTrue(c.onlyInA.isEmpty && c.onlyInB.isEmpty)
        let table = renderComparison(c, format: .table)
        XCTAssertTrue(table.contains("2 matched rows: 1 faster, 1 slower, 0 ~noise"), table)
    }

    func testIdenticalSamplesAreNoise() {
        let rows = [Self.row(samples: Self.samples(centreNs: 5e6, spread: 0.05, seed: 7)),
                    Self.row("fp16", samples: Self.samples(centreNs: 3e6, spread: 0.001, seed: 8))]
        let c = compare(rows, rows)
        XCTAssertEqual(c.rows.map(\.verdict), [.noise, .noise])
        for r in c.rows {
            XCTAssertEqual(r.ratio, 1)
            XCTAssertLessThanOrEqual(r.low!, 1)
            XCTAssertGreaterThanOrEqual(r.high!, 1)
        }
        XCTAssertTrue(c.differences.isEmpty)
        XCTAssertTrue(c.warnings.isEmpty)
    }

    func testAChangeInsideTheNoiseFloorIsNoise() {
        // 1.5% faster with tight samples: the interval excludes 1, but the change is below the 2% floor.
        let a = [Self.row(samples: Self.samples(centreNs: 10e6, spread: 0.001, seed: 1))]
        let b = [Self.row(samples: Self.samples(centreNs: 9.85e6, spread: 0.001, seed: 2))]
        let c = compare(a, b)
        XCTAssertLessThan(c.rows[0].high!, 1, "the interval alone would call it")
        XCTAssertEqual(c.rows[0].verdict, .noise)
        XCTAssertEqual(compare(a, b, minChange: 0.005).rows[0].verdict, .faster, "a lower floor lets it through")

        // An A/A row that drifted 3% raises the floor of its instance above a 2.5% change.
        let aa = Speedup(baseline: "fp32", ratio: 0.97, low: 0.96, high: 0.98, confidence: 0.95)
        let withAA = a + [Self.row(aaVariantName, samples: a[0].samplesNs, speedup: aa)]
        let slower = [Self.row(samples: Self.samples(centreNs: 10.25e6, spread: 0.001, seed: 3))]
        let r = compareSuites(Self.suite(withAA), Self.suite(slower), pathA: "a", pathB: "b", resamples: 500).rows[0]
        XCTAssertEqual(r.noiseFloor, 0.03, accuracy: 1e-12)
        XCTAssertEqual(r.verdict, .noise)
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
        XCTAssertEqual(back.rows.map(\.verdict), [.noise])
        XCTAssertEqual(back.onlyInB, c.onlyInB)
    }
}
