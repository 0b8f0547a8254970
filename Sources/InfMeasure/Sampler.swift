// The measurement loop: warm every variant up until its timings settle, then
// time them interleaved, one run of each per round in a balanced order (see
// RoundOrder), so drift — thermal, frequency, a neighbour's load — and the
// cache traffic of the body before hit every variant alike.
import InfCore

/// How long to warm up and how much to measure. The CLI validates the values.
public struct MeasurementPolicy: Sendable, Equatable {
    /// Measurement stops once every body has at least this much summed sample time…
    public var minSeconds: Double
    /// …and at least this many samples.
    public var minRuns: Int
    /// Warm-up gives up on settling after this many runs of a body…
    public var maxWarmupRuns: Int
    /// …or once that body's warm-up time exceeds this.
    public var maxWarmupSeconds: Double
    /// Settled: the last `settleWindow` warm-up times lie within this fraction of their median.
    public var settleTolerance: Double
    public var settleWindow: Int
    /// Every body warms up for at least this long (summed), settled or not: a body that
    /// settles in four quick runs may still be paying for cold caches or clock ramp-up.
    public var minWarmupSeconds: Double
    /// Seed of the round order's relabelling (recorded in results, so a replay runs the same order).
    public var orderSeed: UInt64

    public init(minSeconds: Double, minRuns: Int, maxWarmupRuns: Int, maxWarmupSeconds: Double,
                settleTolerance: Double = 0.05, settleWindow: Int = 3, minWarmupSeconds: Double = 0,
                orderSeed: UInt64 = 0) {
        self.minSeconds = minSeconds
        self.minRuns = minRuns
        self.maxWarmupRuns = maxWarmupRuns
        self.maxWarmupSeconds = maxWarmupSeconds
        self.settleTolerance = settleTolerance
        self.settleWindow = settleWindow
        self.minWarmupSeconds = minWarmupSeconds
        self.orderSeed = orderSeed
    }
}

/// What the sampler recorded for one body.
public struct Measured: Sendable, Equatable {
    /// Warm-up runs made, including the first (always discarded) run.
    public var warmupRuns: Int
    /// False when warm-up stopped at a limit before the timings settled.
    public var settled: Bool
    /// Every measured run, nanoseconds, in the order measured.
    public var samplesNs: [UInt64]

    public init(warmupRuns: Int, settled: Bool, samplesNs: [UInt64]) {
        self.warmupRuns = warmupRuns
        self.settled = settled
        self.samplesNs = samplesNs
    }
}

/// Where the sampler reads time. Production uses the monotonic clock; tests
/// substitute a clock the bodies advance themselves, so warm-up and stopping
/// rules can be checked exactly, whatever else the machine is doing.
protocol SampleClock {
    func nanoseconds() -> UInt64
}

struct MonotonicClock: SampleClock {
    @inline(__always)
    func nanoseconds() -> UInt64 { monotonicNanoseconds() }
}

/// Times one run of `body`: the clock brackets the call and nothing else.
@inline(__always)
private func timeOnce<C: SampleClock>(_ body: () -> Void, _ clock: C) -> UInt64 {
    let t0 = clock.nanoseconds()
    body()
    let t1 = clock.nanoseconds()
    return t1 &- t0
}

/// True when the last `window` times differ by at most `tolerance` × their median.
func isSettled(_ times: ArraySlice<UInt64>, window: Int, tolerance: Double) -> Bool {
    let w = Swift.max(window, 1)
    guard times.count >= w else { return false }
    let last = times.suffix(w).map { Double($0) } // not map(Double.init): that is Double(bitPattern:) for UInt64
    let spread = last.max()! - last.min()!
    return spread <= tolerance * sampleMedian(last)
}

/// Warms up and then measures `bodies` interleaved; returns one `Measured` per body, in order.
///
/// Warm-up runs whole rounds over every body, in the balanced order, until every body has
/// warmed for `minWarmupSeconds` and has settled — a body that settles early keeps running, so
/// it is not measured cold beside bodies still warming — or has run `maxWarmupRuns` rounds
/// (at least 1); and never past `maxWarmupSeconds` of one body's summed warm-up time. A body's
/// first run never counts towards settling (it pays page faults, lazy initialisation and
/// cold caches); settled means its last `settleWindow` runs lie within `settleTolerance`.
///
/// Measurement runs whole cycles of the balanced order (see `RoundOrder`), one run of every
/// body per round, until every body has `minRuns` samples and `minSeconds` of summed sample
/// time; all bodies get the same number of rounds, and there is always at least one cycle.
/// `onRound` is called after each measured round with the number of rounds done.
public func measureInterleaved(_ bodies: [() -> Void], policy: MeasurementPolicy,
                               onRound: ((Int) -> Void)? = nil) -> [Measured] {
    measureInterleaved(bodies, policy: policy, clock: MonotonicClock(), onRound: onRound)
}

/// The loop itself, generic over the clock so the production path is
/// specialised to direct clock_gettime calls.
func measureInterleaved<C: SampleClock>(_ bodies: [() -> Void], policy: MeasurementPolicy, clock: C,
                                        onRound: ((Int) -> Void)?) -> [Measured] {
    let count = bodies.count
    guard count > 0 else { return [] }
    var order = RoundOrder(bodies: count, seed: policy.orderSeed)

    // Warm-up: whole rounds over every body.
    let maxWarmupRuns = Swift.max(policy.maxWarmupRuns, 1)
    let maxWarmupNs = policy.maxWarmupSeconds * 1e9
    let minWarmupNs = policy.minWarmupSeconds * 1e9
    var warmTimes = [[UInt64]](repeating: [], count: count)
    var warmNs = [Double](repeating: 0, count: count)
    var settled = [Bool](repeating: false, count: count)
    var warmRounds = 0
    while true {
        for i in order.order(forRound: warmRounds) {
            let t = timeOnce(bodies[i], clock)
            warmTimes[i].append(t)
            warmNs[i] += Double(t)
            settled[i] = isSettled(warmTimes[i].dropFirst(), window: policy.settleWindow,
                                   tolerance: policy.settleTolerance)
        }
        warmRounds += 1
        // The minimum warm-up time outranks the run limit; the time limit outranks both.
        let warmEnough = warmNs.allSatisfy { $0 >= minWarmupNs }
        if warmEnough && (!settled.contains(false) || warmRounds >= maxWarmupRuns) { break }
        if warmNs.contains(where: { $0 > maxWarmupNs }) { break }
    }

    // Measurement: whole cycles of the balanced order, so every body has the same sample
    // count and has taken every slot and followed every other body equally often.
    let minNs = policy.minSeconds * 1e9
    var samples = [[UInt64]](repeating: [], count: count)
    var sampleNs = [Double](repeating: 0, count: count)
    var rounds = 0
    order = RoundOrder(bodies: count, seed: policy.orderSeed &+ 1)
    func done() -> Bool {
        rounds > 0 && rounds % order.cycleLength == 0
            && (0..<count).allSatisfy { samples[$0].count >= policy.minRuns && sampleNs[$0] >= minNs }
    }
    while !done() {
        for i in order.order(forRound: rounds) {
            let t = timeOnce(bodies[i], clock)
            samples[i].append(t)
            sampleNs[i] += Double(t)
        }
        rounds += 1
        onRound?(rounds)
    }

    return (0..<count).map {
        Measured(warmupRuns: warmTimes[$0].count, settled: settled[$0], samplesNs: samples[$0])
    }
}
