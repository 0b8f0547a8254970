// The one measurement engine. A workload says what one timed run is (a batch
// forward pass, a whole generation, a request stream, …); a variant is a
// technique applied to it. Every comparison group — weight formats in `run`,
// the KV cache, the prediction cache, adaptive softmax, dynamic batching,
// length bucketing, sparse kernels — goes through `measureGroup`: the balanced
// interleaved sampler, raw samples, a speed-up per row with its own bootstrap
// seed, and noise labelled by the group's A/A row.
import Foundation
import InfCore

/// One variant of a workload: what one timed run does and what it is.
public struct EngineVariant {
    /// Row name: "fp32", "KV cache", …; the A/A copy of the baseline ends in " A/A".
    public var name: String
    /// What actually executes.
    public var executes: String
    /// One timed run (the engine brackets exactly this call with the clock).
    public var body: () -> Void
    /// Bytes of weights (or of the structure the technique adds, e.g. cache bytes), as stored.
    public var weightBytes: Int
    /// FLOPs of one run (0 where not meaningful).
    public var flopsPerRun: Double
    /// Weight bytes one run reads (see ResultRow.bytesReadPerRun); nil where not counted.
    public var bytesReadPerRun: Int?
    /// Measured once, before timing, on the workload's evaluation set.
    public var quality: Quality?
    public var accuracy: Double?
    public var metrics: [String: Double]?

    public init(name: String, executes: String, weightBytes: Int = 0, flopsPerRun: Double = 0,
                quality: Quality? = nil, accuracy: Double? = nil, metrics: [String: Double]? = nil,
                bytesReadPerRun: Int? = nil, body: @escaping () -> Void) {
        self.name = name
        self.executes = executes
        self.body = body
        self.weightBytes = weightBytes
        self.flopsPerRun = flopsPerRun
        self.bytesReadPerRun = bytesReadPerRun
        self.quality = quality
        self.accuracy = accuracy
        self.metrics = metrics
    }
}

/// What every variant of one group shares: the workload and its point.
public struct WorkloadPoint: Sendable {
    public var model: String
    public var workload: String
    public var batch: Int
    public var sequenceLength: Int?
    public var threads: Int
    /// Unit of throughput: "seq", "img", "tok", "req", "state".
    public var itemUnit: String
    /// Items one timed run processes (sequences in a batch, generated tokens, requests in a stream).
    public var itemsPerRun: Int
    public var point: String?

    public init(model: String, workload: String, batch: Int, sequenceLength: Int?, threads: Int,
                itemUnit: String, itemsPerRun: Int, point: String? = nil) {
        self.model = model
        self.workload = workload
        self.batch = batch
        self.sequenceLength = sequenceLength
        self.threads = threads
        self.itemUnit = itemUnit
        self.itemsPerRun = itemsPerRun
        self.point = point
    }

    /// "encoder-small generate batch 1 × 16 tokens × 2 thr (16 + 512 tokens)": for warnings and progress.
    public var label: String {
        "\(model) \(workload) batch \(batch)" + (sequenceLength.map { " × \($0) tokens" } ?? "")
            + " × \(threads) thr" + (point.map { " (\($0))" } ?? "")
    }
}

/// The statistical settings every group of a run shares.
public struct Engine {
    /// How the runs split work over threads, recorded in every result's configuration.
    public static let threadPolicy = "infbench owns every thread (a worker team that spins between jobs; chunks go to "
        + "whichever thread claims them) and OpenBLAS runs on one thread throughout: "
        + "fp32 linear layers (infbench's packed GEMM) split by rows (≥ 96 rows) or by 32-feature panels (fewer rows) "
        + "once a product has ≥ 2M multiply–adds, else one thread; OpenBLAS products of ≥ 2M multiply–adds are split "
        + "into single-threaded calls by rows (≥ 512 rows) or by runs of 64 output columns; attention heads "
        + "are split once each thread gets ≥ 1M multiply–adds, LayerNorm rows past 16K elements (GELU runs in the "
        + "FFN GEMM's store); embedding runs on the calling thread. CNNs: a conv of ≥ 600 k multiply-adds per thread "
        + "splits images (batch ≥ threads) or bands of output rows (batch 1; a pointwise conv splits its W·b product by "
        + "output channels instead) over infbench's threads, each with its own "
        + "im2col and sgemm, smaller convs run serially; depthwise planes (≥ 2^17 multiply-adds per thread), pooling "
        + "planes (≥ 2^16 window reads) and ReLU/ReLU6 (≥ 2^16 elements) split over infbench's threads past those minimums"

    public var policy: MeasurementPolicy
    public var bootstrapResamples: Int
    public var bootstrapSeed: UInt64

    public init(policy: MeasurementPolicy, bootstrapResamples: Int, bootstrapSeed: UInt64) {
        self.policy = policy
        self.bootstrapResamples = bootstrapResamples
        self.bootstrapSeed = bootstrapSeed
    }

    /// Measures `variants` interleaved (the first is the baseline) and returns one row each, in order.
    /// Speed-ups are baseline median / variant median with a bootstrap interval whose seed is
    /// derived from the run's seed and the row's identity; every speed-up within the A/A row's
    /// deviation is labelled inside the noise.
    public func measureGroup(_ point: WorkloadPoint, _ variants: [EngineVariant], warnings: inout [String],
                             progress: ((String) -> Void)? = nil) -> [ResultRow] {
        precondition(!variants.isEmpty, "a group needs at least its baseline")
        progress?("\(point.label): warming up")
        var groupPolicy = policy
        groupPolicy.orderSeed = policy.orderSeed ^ stableHash(point.label)
        let measured = measureInterleaved(variants.map(\.body), policy: groupPolicy) { round in
            progress?("\(point.label): measuring, round \(round)")
        }
        let rss = peakRSSBytes()
        let baseline = measured[0].samplesNs
        var rows: [ResultRow] = zip(variants, measured).enumerated().map { i, pair in
            let (v, m) = pair
            let stats = SampleStats(samplesNs: m.samplesNs)
            let instance = "\(point.label) \(v.name)"
            if !m.settled { warnings.append("\(instance): timings had not settled after \(m.warmupRuns) warm-up runs.") }
            if stats.cv > 0.10 { warnings.append(String(format: "%@: CV %.0f%%, noisy.", instance, stats.cv * 100)) }
            let speedup = i == 0 ? nil : Bootstrap.speedup(
                baselineNs: baseline, variantNs: m.samplesNs, baselineName: variants[0].name,
                resamples: bootstrapResamples, seed: bootstrapSeed ^ stableHash(instance))
            var row = ResultRow(
                model: point.model, variant: v.name, executes: v.executes, batch: point.batch,
                sequenceLength: point.sequenceLength, threads: point.threads, itemUnit: point.itemUnit,
                itemsPerRun: point.itemsPerRun, warmupRuns: m.warmupRuns, samplesNs: m.samplesNs, stats: stats,
                throughput: Double(point.itemsPerRun) / stats.median, flopsPerRun: v.flopsPerRun,
                gflops: v.flopsPerRun / stats.median / 1e9, rooflinePercent: nil, weightBytes: v.weightBytes,
                peakRSSBytes: rss, speedup: speedup, quality: v.quality, accuracy: v.accuracy)
            row.workload = point.workload
            row.point = point.point
            row.metrics = v.metrics
            row.settled = m.settled
            row.bytesReadPerRun = v.bytesReadPerRun
            return row
        }
        // The A/A deviation is the noise floor of this group: a speed-up within it is not a finding.
        if let aa = rows.first(where: \.isAA)?.speedup {
            let floor = max(abs(aa.low - 1), abs(aa.high - 1))
            if aa.low > 1 || aa.high < 1 {
                warnings.append(String(format: "%@: the A/A interval [%.3f–%.3f] excludes 1×: differences up to %.1f%% in this group are noise, not technique.",
                                       point.label, aa.low, aa.high, 100 * floor))
            }
            for i in rows.indices where rows[i].speedup != nil && !rows[i].isAA { rows[i].speedup!.apply(noiseFloor: floor) }
        }
        return rows
    }
}

/// FNV-1a of a string: a seed component that is the same in every process (Hasher is not).
public func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

extension Engine {
    /// Warnings every result carries when they apply: few samples, a busy machine, a forced OpenBLAS core.
    public static func standardWarnings(_ environment: EnvironmentInfo, policy: MeasurementPolicy) -> [String] {
        var warnings: [String] = []
        if policy.minRuns < 5 {
            warnings.append("--min-runs \(policy.minRuns): with fewer than 5 samples the bootstrap intervals mean little.")
        }
        if let load = environment.loadAverage.first, load > 0.5 {
            warnings.append(String(format: "load average %.2f at start: other work on this machine may disturb the timings.", load))
        }
        if let o = environment.openblasOverride { warnings.append(o) }
        return warnings
    }

    /// The envelope of a scenario's result: environment, a configuration that replays it, the rows.
    public func result(kind: ResultKind, name: String, models: [String], variants: [String], threads: [Int],
                       batchSizes: [Int], sequenceLengths: [Int], seed: UInt64, workload: WorkloadConfiguration,
                       rows: [ResultRow], warnings: [String]) -> SuiteResult {
        var rows = rows
        let bandwidth = rows.measureBandwidthShares(policy: policy)
        let environment = EnvironmentInfo.capture()
        let configuration = RunConfiguration(
            models: models, variants: variants, batchSizes: batchSizes, threads: threads, sequenceLengths: sequenceLengths,
            minSeconds: policy.minSeconds, minRuns: policy.minRuns, maxWarmupRuns: policy.maxWarmupRuns,
            maxWarmupSeconds: policy.maxWarmupSeconds, inputSeed: seed, bootstrapSeed: bootstrapSeed,
            bootstrapResamples: bootstrapResamples, threadPolicy: Engine.threadPolicy, orderSeed: policy.orderSeed,
            minWarmupSeconds: policy.minWarmupSeconds, workload: workload)
        var result = SuiteResult(kind: kind, suite: name, environment: environment, configuration: configuration, roofline: [],
                                 rows: rows, warnings: Self.standardWarnings(environment, policy: policy) + warnings)
        result.bandwidth = bandwidth.nilIfEmpty
        return result
    }
}
