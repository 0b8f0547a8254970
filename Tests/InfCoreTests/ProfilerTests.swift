// The profiler's phases are exclusive time: a phase measured inside another (int8's
// "int8.gemm" inside "ffn.up") is taken out of the enclosing one, so the phases add up to the
// wall time of the pass instead of counting the nested part twice.
import InfCore
import XCTest

final class ProfilerTests: XCTestCase {
    func spin(_ ns: UInt64) {
        let start = monotonicNanoseconds()
        while monotonicNanoseconds() - start < ns {}
    }

    func testNestedPhasesAreExclusive() {
        let p = Profiler()
        let context = ExecutionContext.serial.profiling(p)
        let start = monotonicNanoseconds()
        context.measure("outer") {
            spin(2_000_000)
            context.measure("inner") { spin(3_000_000) }
            context.measure("inner") { context.measure("innermost") { spin(1_000_000) } }
        }
        let wall = monotonicNanoseconds() - start
        ExecutionContext.serial.measure("unrecorded") { spin(1000) }
        XCTAssertFalse(p.order.contains("unrecorded"), "a context without the profiler records nothing")
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
