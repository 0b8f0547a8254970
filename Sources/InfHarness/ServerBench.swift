// The server scenario, in the spirit of MLPerf's: requests arrive as a seeded
// Poisson process at a target rate, a dynamic batcher groups them (at most
// `maxBatch`, waiting at most `maxDelay` for the oldest), and one worker runs
// real forward passes. Latency includes queueing. A search finds the highest
// rate whose p99 stays under a bound. Every trial is bounded in time.
import Foundation
import InfCore
import InfMeasure
import InfModels

public struct BatcherPolicy: Codable, Sendable, Equatable {
    public var maxBatch: Int
    public var maxDelaySeconds: Double
    public init(maxBatch: Int, maxDelaySeconds: Double) {
        self.maxBatch = maxBatch
        self.maxDelaySeconds = maxDelaySeconds
    }
    public var name: String {
        maxBatch == 1 ? "batch-1 serving" : "dynamic batching (≤ \(maxBatch), ≤ \(fixed(maxDelaySeconds * 1e3, 1)) ms wait)"
    }
}

public struct ServerTrial: Codable, Sendable {
    public var targetRate: Double
    public var achievedRate: Double
    public var completed: Int
    public var p50: Double, p90: Double, p99: Double
    public var meanBatch: Double
    /// The run stopped at its time limit with requests still queued (the rate is not sustainable).
    public var backlogged: Bool
    /// Arrivals the seeded Poisson process actually offered per second in this trial: a Poisson
    /// count scatters by about ±√n around the target, so achieved is judged against this.
    public var offeredRate: Double = 0
    /// Median latency of the first and of the last third of the requests (in arrival order):
    /// a queue that grows shows as a last third far slower than the first.
    public var firstThirdP50: Double = 0
    public var lastThirdP50: Double = 0
    /// Why the rate was not accepted (nil: accepted, or not judged yet).
    public var rejected: String?
}

/// When a served rate counts as sustainable. A trial that ends while its queue still grows can
/// pass a p99 bound only because it ended; these rules refuse that.
public enum ServeRules {
    /// The achieved rate must reach this share of the rate the trial's arrivals offered.
    public static let minAchieved = 0.99
    /// The last third's median latency may exceed the first third's by at most this factor.
    public static let maxTrend = 1.5
    /// Requests a trial needs for its p99 to mean something (two samples beyond it).
    public static let minRequests = 200

    /// nil when `t` meets every rule, else the first rule it breaks, in words.
    public static func rejection(_ t: ServerTrial, p99Bound: Double, saturation: Double) -> String? {
        if t.targetRate >= saturation { return "at or above the saturation throughput \(fixed(saturation, 1)) req/s" }
        if t.backlogged { return "requests still queued when the trial ended" }
        if t.completed < minRequests { return "only \(t.completed) requests, fewer than the \(minRequests) a p99 needs" }
        if t.achievedRate < minAchieved * t.offeredRate {
            return "achieved \(fixed(t.achievedRate, 1)) req/s, below 99 % of the \(fixed(t.offeredRate, 1)) offered"
        }
        if t.lastThirdP50 > maxTrend * t.firstThirdP50 { return "latency rising: last third's median \(fixed(t.lastThirdP50 / max(t.firstThirdP50, 1e-12), 1))× the first third's" }
        if t.p99 > p99Bound { return "p99 over the bound" }
        return nil
    }
}

public struct ServerSearch: Codable, Sendable {
    public var policy: BatcherPolicy
    public var p99Bound: Double
    /// Highest rate tried whose p99 met the bound (0 if none did).
    public var sustainableRate: Double
    public var trials: [ServerTrial]
}

/// The rate searches, for the text report (the JSON result is the common envelope).
public struct ServerResult: Codable, Sendable {
    public var environment: EnvironmentInfo
    public var model: String
    public var sequenceLength: Int
    public var threads: Int
    public var trialSeconds: Double
    public var seed: UInt64
    public var searches: [ServerSearch]
    public var rateRatio: Double?
}

public enum ServerBench {
    /// One trial: Poisson arrivals at `rate` for `seconds`, served by `policy`; stops at 2 × seconds.
    public static func trial(model: InferenceModel, sequenceLength: Int, rate: Double, seconds: Double,
                             policy: BatcherPolicy, seed: UInt64, in context: ExecutionContext) -> ServerTrial {
        var rng = SeededRNG(seed: seed)
        // Arrival times (ns from the start): exponential gaps with mean 1/rate.
        var arrivals: [UInt64] = []
        var t = 0.0
        while true {
            t += -log(max(Double(rng.next() >> 11) * 0x1p-53, 1e-300)) / rate
            if t >= seconds { break }
            arrivals.append(UInt64(t * 1e9))
        }
        var inputs: [Int: ModelInput] = [:]
        func input(_ b: Int) -> ModelInput {
            if let i = inputs[b] { return i }
            var r = SeededRNG(seed: seed &+ UInt64(b))
            let i = model.makeInput(batch: b, sequenceLength: sequenceLength, rng: &r)
            inputs[b] = i
            return i
        }
        for b in Set([1, policy.maxBatch]) { _ = model.forward(input(b), in: context) } // warm the scratch buffers
        let maxDelayNs = UInt64(policy.maxDelaySeconds * 1e9)
        let limitNs = UInt64(2 * seconds * 1e9)
        var latencies: [UInt64] = []
        var batches: [Int] = []
        var next = 0       // first request not yet admitted to the queue
        var queueStart = 0 // first request still waiting (the queue is arrivals[queueStart..<next])
        let start = monotonicNanoseconds()
        func now() -> UInt64 { monotonicNanoseconds() - start }
        var backlogged = false
        while queueStart < arrivals.count {
            let clock = now()
            if clock > limitNs { backlogged = true; break }
            while next < arrivals.count && arrivals[next] <= clock { next += 1 }
            let waiting = next - queueStart
            if waiting == 0 {
                sleep(until: arrivals[next], start: start)
                continue
            }
            // Wait for a fuller batch only while the oldest request's delay budget lasts.
            let deadline = arrivals[queueStart] + maxDelayNs
            if waiting < policy.maxBatch && clock < deadline {
                let wake = next < arrivals.count ? min(arrivals[next], deadline) : deadline
                sleep(until: wake, start: start)
                continue
            }
            let b = min(waiting, policy.maxBatch)
            _ = model.forward(input(b), in: context)
            let done = now()
            for i in queueStart..<(queueStart + b) { latencies.append(done - arrivals[i]) }
            queueStart += b
            batches.append(b)
        }
        let elapsed = Double(now()) / 1e9
        let stats = SampleStats(samplesNs: latencies.isEmpty ? [0] : latencies)
        let third = max(latencies.count / 3, 1)
        var result = ServerTrial(targetRate: rate, achievedRate: Double(latencies.count) / max(elapsed, 1e-9),
                                 completed: latencies.count, p50: stats.median, p90: stats.p90, p99: stats.p99,
                                 meanBatch: batches.isEmpty ? 0 : Double(batches.reduce(0, +)) / Double(batches.count),
                                 backlogged: backlogged || latencies.count < arrivals.count)
        result.offeredRate = Double(arrivals.count) / seconds
        result.firstThirdP50 = SampleStats(samplesNs: Array(latencies.prefix(third))).median
        result.lastThirdP50 = SampleStats(samplesNs: Array(latencies.suffix(third))).median
        return result
    }

    /// Highest Poisson rate that `ServeRules` accept: double from `startRate` until a trial fails,
    /// then bisect. `saturation` is the policy's throughput measured back to back (req/s): no
    /// rate at or above it is sustainable. A trial lasts `seconds`, or long enough for
    /// `ServeRules.minRequests` arrivals.
    public static func search(model: InferenceModel, sequenceLength: Int, policy: BatcherPolicy, p99Bound: Double,
                              startRate: Double, seconds: Double, steps: Int, saturation: Double, seed: UInt64,
                              in context: ExecutionContext, progress: ((String) -> Void)? = nil) -> ServerSearch {
        var trials: [ServerTrial] = []
        func ok(_ rate: Double) -> Bool {
            progress?("\(policy.name): \(fixed(rate, 1)) req/s")
            var t = trial(model: model, sequenceLength: sequenceLength, rate: rate,
                          seconds: max(seconds, 1.2 * Double(ServeRules.minRequests) / rate), policy: policy,
                          seed: seed &+ UInt64(trials.count), in: context)
            t.rejected = ServeRules.rejection(t, p99Bound: p99Bound, saturation: saturation)
            trials.append(t)
            return t.rejected == nil
        }
        var low = 0.0, high = startRate
        while ok(high) {
            low = high
            high *= 2
            if trials.count > 20 { break }
        }
        for _ in 0..<steps {
            let mid = (low + high) / 2
            if ok(mid) { low = mid } else { high = mid }
        }
        return ServerSearch(policy: policy, p99Bound: p99Bound, sustainableRate: low, trials: trials)
    }

    /// Batch-1 serving against `dynamic`: first the saturation throughput of each through the
    /// engine (one timed run drains a queue of 8 × maxBatch requests that all arrived at once,
    /// interleaved with an A/A copy), then each policy's sustainable Poisson rate under
    /// `p99Bound` (its own trials: a served load is an open loop, not a repeatable body).
    public static func compare(model: InferenceModel, sequenceLength: Int, threads: Int, dynamic: BatcherPolicy,
                               p99Bound: Double, trialSeconds: Double, steps: Int, engine: Engine, seed: UInt64,
                               progress: ((String) -> Void)? = nil) -> (result: SuiteResult, text: String) {
        let context = ExecutionContext(threads: threads)
        var rng = SeededRNG(seed: seed)
        let one = model.makeInput(batch: 1, sequenceLength: sequenceLength, rng: &rng)
        let full = model.makeInput(batch: dynamic.maxBatch, sequenceLength: sequenceLength, rng: &rng)
        let twins = TwinPool(model: model, seed: engine.policy.orderSeed ^ stableHash("serve"))
        let queued = 8 * dynamic.maxBatch
        let point = WorkloadPoint(model: model.name, workload: "drain", batch: dynamic.maxBatch,
                                  sequenceLength: sequenceLength > 0 ? sequenceLength : nil, threads: threads,
                                  itemUnit: "req", itemsPerRun: queued, point: "\(queued) queued requests (saturation)")
        var warnings: [String] = []
        var rows = engine.measureGroup(point, [
            EngineVariant(name: "batch-1 serving", executes: "one forward pass per request", weightBytes: model.weightBytes) {
                let m = twins.next()
                for _ in 0..<queued { _ = m.forward(one, in: context) }
            },
            EngineVariant(name: "batch-1 serving A/A", executes: TwinPool<InferenceModel>.aaNote,
                          weightBytes: model.weightBytes) {
                let m = twins.next()
                for _ in 0..<queued { _ = m.forward(one, in: context) }
            },
            EngineVariant(name: "dynamic batching", executes: "full batches of \(dynamic.maxBatch) (a saturated queue never waits)",
                          weightBytes: model.weightBytes) {
                for _ in 0..<(queued / dynamic.maxBatch) { _ = model.forward(full, in: context) }
            },
        ], warnings: &warnings, progress: progress)

        // Start each search at half of what batch-1 serving manages back to back; no rate at or
        // above a policy's saturation throughput can be sustained.
        let single = rows[0].stats.median / Double(queued)
        let policies = [BatcherPolicy(maxBatch: 1, maxDelaySeconds: 0), dynamic]
        let searches = zip(policies, [rows[0].throughput, rows[2].throughput]).map { p, saturation in
            search(model: model, sequenceLength: sequenceLength, policy: p, p99Bound: p99Bound, startRate: 0.5 / single,
                   seconds: trialSeconds, steps: steps, saturation: saturation, seed: seed, in: context, progress: progress)
        }
        for (row, search) in zip([0, 2], searches) {
            rows[row].metrics = ["sustainableRate": search.sustainableRate, "p99BoundSeconds": p99Bound,
                                 "saturationRate": rows[row].throughput,
                                 "maxAchievedRate": search.trials.map(\.achievedRate).max() ?? 0]
        }
        let ratio = searches[0].sustainableRate > 0 ? searches[1].sustainableRate / searches[0].sustainableRate : nil
        let old = ServerResult(environment: EnvironmentInfo.capture(), model: model.name, sequenceLength: sequenceLength,
                               threads: threads, trialSeconds: trialSeconds, seed: seed, searches: searches, rateRatio: ratio)
        var workload = WorkloadConfiguration()
        workload.maxBatch = dynamic.maxBatch
        workload.maxDelaySeconds = dynamic.maxDelaySeconds
        workload.p99BoundSeconds = p99Bound
        workload.trialSeconds = trialSeconds
        workload.steps = steps
        let result = engine.result(kind: .serve, name: "serve", models: [model.name], variants: rows.map(\.variant),
                                   threads: [threads], batchSizes: [dynamic.maxBatch],
                                   sequenceLengths: sequenceLength > 0 ? [sequenceLength] : [], seed: seed,
                                   workload: workload, rows: rows, warnings: warnings)
        return (result, render(old))
    }

    public static func render(_ r: ServerResult) -> String {
        var out: [String] = []
        if r.environment.buildConfiguration == "debug" { out.append("!!! DEBUG BUILD: these timings mean nothing !!!") }
        out.append("infbench serve: \(r.model)\(r.sequenceLength > 0 ? ", \(r.sequenceLength) tokens per request" : ""), "
                   + "Poisson arrivals, one worker on \(r.threads) thread(s), \(fixed(r.trialSeconds, 1)) s per trial")
        out.append("\(r.environment.timestamp) · commit \(r.environment.gitCommit) · \(r.environment.cpuModel) · \(r.environment.buildConfiguration) build")
        for s in r.searches {
            out.append("")
            out.append("\(s.policy.name): sustainable rate at p99 ≤ \(fixed(s.p99Bound * 1e3, 1)) ms: \(fixed(s.sustainableRate, 1)) req/s")
            out.append(contentsOf: alignedTable(
                header: ["target req/s", "achieved", "n", "p50 ms", "p99 ms", "first/last third p50 ms", "mean batch", "verdict"],
                numeric: [true, true, true, true, true, true, true, false],
                rows: s.trials.map { t in
                    [fixed(t.targetRate, 1), fixed(t.achievedRate, 1), String(t.completed), fourDigits(t.p50 * 1e3),
                     fourDigits(t.p99 * 1e3), "\(fourDigits(t.firstThirdP50 * 1e3)) / \(fourDigits(t.lastThirdP50 * 1e3))",
                     fixed(t.meanBatch, 1), t.rejected ?? "sustainable"]
                }).map { "  " + $0 })
        }
        if let ratio = r.rateRatio {
            out.append("")
            out.append("dynamic batching sustains \(fixed(ratio, 2))× the request rate of batch-1 serving at the same p99 bound")
            out.append("(each rate is one seeded trial; the search's resolution is its last bisection step).")
        }
        out.append("")
        out.append("A rate is sustainable only when it is below the policy's saturation throughput (measured back to back above), the")
        out.append("achieved rate reaches 99 % of it, no request is still queued at the end, the trial has ≥ \(ServeRules.minRequests) requests (so its")
        out.append("p99 is not its maximum), the last third's median latency is at most \(fixed(ServeRules.maxTrend, 1))× the first third's, and p99 meets the bound.")
        return out.joined(separator: "\n") + "\n"
    }

    private static func sleep(until target: UInt64, start: UInt64) {
        let nowNs = monotonicNanoseconds() - start
        guard target > nowNs else { return }
        var ts = timespec(tv_sec: Int((target - nowNs) / 1_000_000_000), tv_nsec: Int((target - nowNs) % 1_000_000_000))
        nanosleep(&ts, nil)
    }
}
