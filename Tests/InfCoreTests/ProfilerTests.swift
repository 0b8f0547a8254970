// The profiler's phases are exclusive time: a phase measured inside another (int8's
// "int8.gemm" inside "ffn.up") is taken out of the enclosing one, so the phases add up to the
// wall time of the pass instead of counting the nested part twice.
import InfCore
import XCTest

final class ProfilerTests: XCTestCase {
    override func tearDown() {
        Profiler.active = nil
        super.tearDown()
    }

    func spin(_ ns: UInt64) {
        let start = monotonicNanoseconds()
        while monotonicNanoseconds() - start < ns {}
    }

    func testNestedPhasesAreExclusive() {
        let p = Profiler()
        Profiler.active = p
        let start = monotonicNanoseconds()
        Profiler.measure("outer") {
            spin(2_000_000)
            Profiler.measure("inner") { spin(3_000_000) }
            Profiler.measure("inner") { Profiler.measure("innermost") { spin(1_000_000) } }
        }
        let wall = monotonicNanoseconds() - start
        Profiler.active = nil
        XCTAssertEqual(p.order, ["inner", "innermost", "outer"], "first-seen order is first-closed order")
        let (outer, inner, innermost) = (p.totalsNs["outer"]!, p.totalsNs["inner"]!, p.totalsNs["innermost"]!)
        // Counted twice, the nested 4 ms would push the sum 4 ms past the wall time; exclusive,
        // the sum is the wall time less the few clock reads outside every phase. (Bounds on each
        // phase alone would fail whenever the 2-vCPU machine preempts a spin.)
        let sum = outer + inner + innermost
        XCTAssertLessThanOrEqual(sum, wall, "phases add up to no more than the wall time")
        XCTAssertGreaterThan(sum + 500_000, wall, "and to nearly all of it")
        XCTAssertGreaterThanOrEqual(outer, 2_000_000)
        XCTAssertGreaterThanOrEqual(inner, 3_000_000)
        XCTAssertGreaterThanOrEqual(innermost, 1_000_000)
    }
}
