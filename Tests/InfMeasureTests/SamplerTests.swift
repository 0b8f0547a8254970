// The measurement loop's invariants: interleaved order, equal sample counts,
// both stopping rules, and warm-up that ends at its limits when timings never
// settle. Rules about durations run on a fake clock the bodies advance, so they
// hold exactly on a loaded machine; the real clock is checked separately.
import InfCore
import XCTest
@testable import InfMeasure

/// Busy-waits at least `ms` milliseconds on the real clock.
private func spin(ms: Double) {
    let end = monotonicNanoseconds() + UInt64(ms * 1e6)
    while monotonicNanoseconds() < end {}
}

/// Time that moves only when a body says it took some.
private final class FakeClock: SampleClock {
    var now: UInt64 = 1_000_000_000
    func nanoseconds() -> UInt64 { now }
    func take(ms: Double) { now += UInt64(ms * 1e6) }
}

final class SamplerTests: XCTestCase {
    // MARK: Real clock

    func testClockIsMonotonic() {
        let a = monotonicNanoseconds()
        spin(ms: 1)
        let b = monotonicNanoseconds()
        XCTAssertGreaterThanOrEqual(b - a, 1_000_000)
    }

    func testRunsAreInterleavedInWholeBalancedCycles() {
        var log: [Int] = []
        let policy = MeasurementPolicy(minSeconds: 0, minRuns: 5, maxWarmupRuns: 1, maxWarmupSeconds: 1, orderSeed: 7)
        var rounds: [Int] = []
        let m = measureInterleaved((0..<3).map { i in { log.append(i) } }, policy: policy, onRound: { rounds.append($0) })
        // One warm-up round, then whole cycles (2 × 3 rounds for three bodies) until minRuns: 6 rounds.
        XCTAssertEqual(log.count, 3 + 6 * 3)
        XCTAssertEqual(m.map(\.samplesNs.count), [6, 6, 6])
        XCTAssertEqual(m.map(\.warmupRuns), [1, 1, 1])
        XCTAssertEqual(rounds, Array(1...6))
        for r in 0..<7 { XCTAssertEqual(Set(log[(3 * r)..<(3 * r + 3)]), [0, 1, 2], "round \(r) runs every body once") }
    }

    /// Over one cycle every body takes every slot equally often and every ordered pair of
    /// neighbours occurs equally often, for odd and even counts and any seed.
    func testRoundOrderIsBalanced() {
        for n in 2...7 {
            for seed: UInt64 in [0, 1, 99] {
                var order = RoundOrder(bodies: n, seed: seed)
                let cycle = order.cycleLength
                for c in 0..<2 {
                    var slots = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
                    var follows = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
                    for r in 0..<cycle {
                        let row = order.order(forRound: c * cycle + r)
                        XCTAssertEqual(row.sorted(), Array(0..<n))
                        for (slot, body) in row.enumerated() { slots[body][slot] += 1 }
                        for (a, b) in zip(row, row.dropFirst()) { follows[a][b] += 1 }
                    }
                    let perSlot = cycle / n
                    XCTAssertTrue(slots.allSatisfy { $0.allSatisfy { $0 == perSlot } }, "n \(n) seed \(seed): slots \(slots)")
                    let perPair = cycle * (n - 1) / (n * (n - 1))
                    for a in 0..<n {
                        for b in 0..<n where a != b {
                            XCTAssertEqual(follows[a][b], perPair, "n \(n) seed \(seed): \(b) after \(a)")
                        }
                    }
                }
            }
        }
    }

    /// The relabelling is seeded: the same seed gives the same orders, another seed others.
    func testRoundOrderIsSeeded() {
        func rows(_ seed: UInt64) -> [[Int]] {
            var o = RoundOrder(bodies: 5, seed: seed)
            return (0..<30).map { o.order(forRound: $0) }
        }
        XCTAssertEqual(rows(3), rows(3))
        XCTAssertNotEqual(rows(3), rows(4))
    }

    func testRealSamplesBracketTheBody() {
        let policy = MeasurementPolicy(minSeconds: 0.000_001, minRuns: 7, maxWarmupRuns: 1, maxWarmupSeconds: 1)
        let m = measureInterleaved([{ spin(ms: 0.2) }], policy: policy)
        XCTAssertEqual(m[0].samplesNs.count, 7, "minRuns wins over a duration already reached")
        XCTAssertGreaterThanOrEqual(m[0].samplesNs.min()!, 200_000)
    }

    func testAtLeastOneRoundEvenWithZeroTargets() {
        let policy = MeasurementPolicy(minSeconds: 0, minRuns: 0, maxWarmupRuns: 0, maxWarmupSeconds: 0)
        let m = measureInterleaved([{}], policy: policy)
        XCTAssertEqual(m[0].samplesNs.count, 1)
        XCTAssertEqual(m[0].warmupRuns, 1, "the first run is always warm-up")
    }

    func testNoBodies() {
        XCTAssertTrue(measureInterleaved([], policy: MeasurementPolicy(minSeconds: 1, minRuns: 1,
                                                                       maxWarmupRuns: 1, maxWarmupSeconds: 1)).isEmpty)
    }

    // MARK: Fake clock

    func testWarmupKeepsSettledBodiesRunningUntilAllSettleOrALimit() {
        // A alternates 1 ms / 4 ms and never settles; B takes 2 ms every time and settles after
        // four runs. B keeps warming beside A until the round limit, so neither is measured cold.
        let clock = FakeClock()
        var flip = false
        let a = { flip.toggle(); clock.take(ms: flip ? 1 : 4) }
        let b = { clock.take(ms: 2) }
        let policy = MeasurementPolicy(minSeconds: 0, minRuns: 2, maxWarmupRuns: 6, maxWarmupSeconds: 10,
                                       settleTolerance: 0.05, settleWindow: 3)
        let m = measureInterleaved([a, b], policy: policy, clock: clock, onRound: nil)
        XCTAssertEqual(m[0].warmupRuns, 6)
        XCTAssertFalse(m[0].settled)
        XCTAssertEqual(m[1].warmupRuns, 6)
        XCTAssertTrue(m[1].settled)
        XCTAssertEqual(m[1].samplesNs, [2_000_000, 2_000_000])
    }

    func testMinimumWarmupTimeOutlastsEarlySettling() {
        // 1 ms runs settle after 4, but 10 ms of warm-up are required first.
        let clock = FakeClock()
        let policy = MeasurementPolicy(minSeconds: 0, minRuns: 1, maxWarmupRuns: 100, maxWarmupSeconds: 10,
                                       minWarmupSeconds: 0.010)
        let m = measureInterleaved([{ clock.take(ms: 1) }], policy: policy, clock: clock, onRound: nil)
        XCTAssertEqual(m[0].warmupRuns, 10)
        XCTAssertTrue(m[0].settled)
    }

    func testWarmupStopsAtMaxSeconds() {
        // 2 + 4 + 2 = 8 ms is within 9 ms; the fourth run (12 ms) exceeds it.
        let clock = FakeClock()
        var flip = false
        let policy = MeasurementPolicy(minSeconds: 0, minRuns: 1, maxWarmupRuns: 100, maxWarmupSeconds: 0.009)
        let m = measureInterleaved([{ flip.toggle(); clock.take(ms: flip ? 2 : 4) }], policy: policy,
                                   clock: clock, onRound: nil)
        XCTAssertEqual(m[0].warmupRuns, 4)
        XCTAssertFalse(m[0].settled)
    }

    func testTheFirstRunNeverCountsTowardsSettling() {
        // Runs 2 3 4 are identical: settled at 4, not at 3 (run 1 is excluded even though it matches).
        let clock = FakeClock()
        let policy = MeasurementPolicy(minSeconds: 0, minRuns: 1, maxWarmupRuns: 50, maxWarmupSeconds: 10)
        let m = measureInterleaved([{ clock.take(ms: 1) }], policy: policy, clock: clock, onRound: nil)
        XCTAssertEqual(m[0].warmupRuns, 4)
        XCTAssertTrue(m[0].settled)
    }

    func testMinSecondsGivesEveryBodyTheSameRounds() {
        // B reaches 10 ms in 5 rounds, A needs 20: both get 20, and not one more.
        let clock = FakeClock()
        let policy = MeasurementPolicy(minSeconds: 0.010, minRuns: 2, maxWarmupRuns: 1, maxWarmupSeconds: 1)
        var rounds = 0
        let m = measureInterleaved([{ clock.take(ms: 0.5) }, { clock.take(ms: 2) }], policy: policy,
                                   clock: clock, onRound: { rounds = $0 })
        XCTAssertEqual(m.map(\.samplesNs.count), [20, 20], "20 rounds is a whole number of 2-round cycles")
        XCTAssertEqual(rounds, 20)
        XCTAssertEqual(m[0].samplesNs.reduce(0, +), 10_000_000)
    }

    func testMinRunsWhenDurationIsReachedFirst() {
        let clock = FakeClock()
        let policy = MeasurementPolicy(minSeconds: 0.001, minRuns: 9, maxWarmupRuns: 1, maxWarmupSeconds: 1)
        let m = measureInterleaved([{ clock.take(ms: 5) }], policy: policy, clock: clock, onRound: nil)
        XCTAssertEqual(m[0].samplesNs.count, 9)
    }

    func testSettledWindow() {
        XCTAssertTrue(isSettled([100, 102, 98][...], window: 3, tolerance: 0.05))
        XCTAssertFalse(isSettled([100, 110, 98][...], window: 3, tolerance: 0.05))
        XCTAssertFalse(isSettled([100, 100][...], window: 3, tolerance: 0.05), "too few runs to judge")
        XCTAssertTrue(isSettled([500, 100, 101, 100][...], window: 3, tolerance: 0.05), "only the last window counts")
    }
}
