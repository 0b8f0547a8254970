// The quick sgemm estimate of the run-time check leaves the caller's thread counts as they were
// (moved from RooflineTests when the roofline went to InfMeasure; ResourceCheck stays in InfHarness).
import XCTest
import InfCore
@testable import InfHarness

final class ResourceCheckTests: XCTestCase {
    /// The run-time estimate's sgemm runs on one OpenBLAS thread and must not leave it there.
    func testQuickSgemmRestoresThreads() {
        BLAS.withThreads(2) {
            XCTAssertGreaterThan(ResourceCheck.quickSgemmGflops(), 0)
            XCTAssertEqual(BLAS.threads, 2)
        }
    }
}
