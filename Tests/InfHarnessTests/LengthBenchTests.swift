// Variable-length batching: seeded lengths within bounds, and a bucketed plan
// that covers every request once with less padding than arrival order.
import InfCore
@testable import InfHarness
@testable import InfMeasure
import XCTest

final class LengthBenchTests: XCTestCase {
    func testLengthsAndPlans() {
        var a = SeededRNG(seed: 1), b = SeededRNG(seed: 1)
        let lens = LengthBench.lengths(count: 500, median: 24, maxLength: 128, rng: &a)
        XCTAssertEqual(lens, LengthBench.lengths(count: 500, median: 24, maxLength: 128, rng: &b))
        XCTAssertTrue(lens.allSatisfy { (2...128).contains($0) })
        let sortedLens = lens.sorted()
        XCTAssertEqual(Double(sortedLens[250]), 24, accuracy: 4, "median near 24")

        func padded(_ plan: [[Int]]) -> Int { plan.reduce(0) { $0 + $1.count * $1.map { lens[$0] }.max()! } }
        let arrival = LengthBench.plan(lens, batch: 16, sorted: false)
        let bucketed = LengthBench.plan(lens, batch: 16, sorted: true)
        for p in [arrival, bucketed] {
            XCTAssertEqual(p.flatMap { $0 }.sorted(), Array(0..<500), "every request exactly once")
            XCTAssertTrue(p.allSatisfy { $0.count <= 16 })
        }
        XCTAssertLessThan(padded(bucketed), padded(arrival))
        XCTAssertGreaterThanOrEqual(padded(bucketed), lens.reduce(0, +))
    }
}
