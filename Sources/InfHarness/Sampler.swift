// The measurement loop: warm every variant up until its timings settle, then
// time them interleaved (A B C A B C …) so drift — thermal, frequency, a
// neighbour's load — hits every variant alike, never one block of runs.
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

    public init(minSeconds: Double, minRuns: Int, maxWarmupRuns: Int, maxWarmupSeconds: Double,
                settleTolerance: Double = 0.05, settleWindow: Int = 3) {
        self.minSeconds = minSeconds
        self.minRuns = minRuns
        self.maxWarmupRuns = maxWarmupRuns
        self.maxWarmupSeconds = maxWarmupSeconds
        self.settleTolerance = settleTolerance
        self.settleWindow = settleWindow
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
/// Warm-up is round-robin over the bodies still warming. A body's first run is
/// always warm-up and never counts towards settling (it pays page faults, lazy
/// initialisation and cold caches); a body stops warming once its last
/// `settleWindow` runs after that first one are settled, or at
/// `maxWarmupRuns` (at least 1), or once its summed warm-up time exceeds
/// `maxWarmupSeconds`.
///
/// Measurement is round-robin too, alternating direction every round (A B, B A, …),
/// one run of every body per round, until every
/// body has `minRuns` samples and `minSeconds` of summed sample time; all bodies
/// get the same number of rounds, and there is always at least one round.
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

    // Warm-up.
    let maxWarmupRuns = Swift.max(policy.maxWarmupRuns, 1)
    let maxWarmupNs = policy.maxWarmupSeconds * 1e9
    var warmTimes = [[UInt64]](repeating: [], count: count)
    var warmNs = [Double](repeating: 0, count: count)
    var warming = [Bool](repeating: true, count: count)
    var settled = [Bool](repeating: false, count: count)
    while warming.contains(true) {
        for i in 0..<count where warming[i] {
            let t = timeOnce(bodies[i], clock)
            warmTimes[i].append(t)
            warmNs[i] += Double(t)
            if isSettled(warmTimes[i].dropFirst(), window: policy.settleWindow,
                         tolerance: policy.settleTolerance) {
                settled[i] = true
                warming[i] = false
            } else if warmTimes[i].count >= maxWarmupRuns || warmNs[i] > maxWarmupNs {
                warming[i] = false
            }
        }
    }

    // Measurement: whole rounds only, so every body has the same sample count.
    let minNs = policy.minSeconds * 1e9
    var samples = [[UInt64]](repeating: [], count: count)
    var sampleNs = [Double](repeating: 0, count: count)
    var rounds = 0
    func done() -> Bool {
        rounds > 0 && (0..<count).allSatisfy { samples[$0].count >= policy.minRuns && sampleNs[$0] >= minNs }
    }
    while !done() {
        // Alternate the order each round (A B C, C B A, …): a body's slot in the round
        // (first after bookkeeping, or right after another body's cache traffic) then
        // favours no one; a fixed order showed a 1.08× A/A ratio at batch 1 on 2 threads.
        let order = rounds % 2 == 0 ? Array(0..<count) : Array((0..<count).reversed())
        for i in order {
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
