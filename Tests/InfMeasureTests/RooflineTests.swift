// The sgemm roofline on a small shape: positive GFLOP/s consistent with its
// own samples; it leaves the caller's thread counts as they were (the quick sgemm
// estimate's check is in InfHarnessTests/ResourceCheckTests.swift).
// The triad bandwidth likewise, and a row's share of it from its bytes and median.
import XCTest
import InfCore
@testable import InfMeasure

final class RooflineTests: XCTestCase {
    func testSmallShape() {
        let policy = MeasurementPolicy(minSeconds: 0.01, minRuns: 5, maxWarmupRuns: 5, maxWarmupSeconds: 0.2)
        let p = BLAS.withThreads(2) { () -> RooflinePoint in
            let p = measureSgemmRoofline(threads: 1, m: 128, n: 96, k: 64, policy: policy)
            XCTAssertEqual(BLAS.threads, 2, "the caller's OpenBLAS thread count is restored")
            return p
        }
        XCTAssertEqual(p.threads, 1)
        XCTAssertEqual([p.m, p.n, p.k], [128, 96, 64])
        XCTAssertGreaterThanOrEqual(p.samplesNs.count, 5)
        XCTAssertGreaterThan(p.gflops, 0)
        let median = SampleStats(samplesNs: p.samplesNs).median
        XCTAssertEqual(p.gflops, 2.0 * 128 * 96 * 64 / median / 1e9, accuracy: p.gflops * 1e-9)
    }

    func testTriadBandwidthAndARowsShare() {
        let policy = MeasurementPolicy(minSeconds: 0.01, minRuns: 5, maxWarmupRuns: 5, maxWarmupSeconds: 0.2)
        let p = measureTriadBandwidth(threads: 2, floats: 1 << 20, policy: policy)
        XCTAssertEqual(p.threads, 2)
        XCTAssertEqual(p.bytesPerPass, 3 * 4 << 20)
        let median = SampleStats(samplesNs: p.samplesNs).median
        XCTAssertEqual(p.gbPerSecond, Double(3 * 4 << 20) / median / 1e9, accuracy: p.gbPerSecond * 1e-9)
        XCTAssertEqual(bandwidthLine([p]), "memory bandwidth (triad, 3 × 4 MiB): 2 thr \(String(format: "%.1f", p.gbPerSecond)) GB/s")

        // A row reading 3 GB in a median of 0.5 s against a 12 GB/s roof: 50 %; no bytes, no share.
        let fake = BandwidthPoint(threads: 1, bytesPerPass: 0, samplesNs: [], gbPerSecond: 12)
        var row = ResultRow(model: "m", variant: "fp32", executes: "", batch: 1, sequenceLength: nil, threads: 1, itemUnit: "seq",
                            itemsPerRun: 1, warmupRuns: 0, samplesNs: [500_000_000], stats: SampleStats(samplesNs: [500_000_000]),
                            throughput: 2, flopsPerRun: 0, gflops: 0, rooflinePercent: nil, weightBytes: 0, peakRSSBytes: 0,
                            speedup: nil, quality: nil)
        row.setBandwidthShare(fake)
        XCTAssertNil(row.bandwidthPercent)
        row.bytesReadPerRun = 3_000_000_000
        row.setBandwidthShare(fake)
        XCTAssertEqual(row.bandwidthPercent!, 50, accuracy: 1e-9)
    }
}
