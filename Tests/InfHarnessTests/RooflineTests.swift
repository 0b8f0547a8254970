// The sgemm roofline on a small shape: positive GFLOP/s consistent with its
// own samples; it and the quick sgemm estimate leave the caller's thread counts as they were.
import XCTest
import InfCore
@testable import InfHarness

final class RooflineTests: XCTestCase {
    func testSmallShape() {
        let outside = BLAS.threads
        defer { BLAS.threads = outside }
        BLAS.threads = 2
        let before = BLAS.threads
        let policy = MeasurementPolicy(minSeconds: 0.01, minRuns: 5, maxWarmupRuns: 5, maxWarmupSeconds: 0.2)
        let p = measureSgemmRoofline(threads: 1, m: 128, n: 96, k: 64, policy: policy)
        XCTAssertEqual(BLAS.threads, before)
        XCTAssertEqual(p.threads, 1)
        XCTAssertEqual([p.m, p.n, p.k], [128, 96, 64])
        XCTAssertGreaterThanOrEqual(p.samplesNs.count, 5)
        XCTAssertGreaterThan(p.gflops, 0)
        let median = SampleStats(samplesNs: p.samplesNs).median
        XCTAssertEqual(p.gflops, 2.0 * 128 * 96 * 64 / median / 1e9, accuracy: p.gflops * 1e-9)
    }

    /// The run-time estimate's sgemm runs on one OpenBLAS thread and must not leave it there.
    func testQuickSgemmRestoresThreads() {
        let outside = Parallel.threads
        defer { Parallel.setThreads(outside) }
        Parallel.setThreads(2)
        XCTAssertGreaterThan(ResourceCheck.quickSgemmGflops(), 0)
        XCTAssertEqual(BLAS.threads, 2)
        XCTAssertEqual(Parallel.threads, 2)
    }
}
