// The result format: one envelope for every command that measures — a suite
// (`run`) and every scenario (generate, cache, softmax, lengths, serve,
// sparsity, distill) alike: kind, schema version, environment, configuration
// (enough to replay it), rows with raw samples, warnings. Printers, `show`,
// `compare`, `reproduce` and `chart` all read this one structure; the JSON
// Schema in Results/schema/result.schema.json describes it.

/// Which command wrote a result; readers dispatch on this field, never on which keys a file has.
public enum ResultKind: String, Codable, Sendable, CaseIterable {
    case run, generate, cache, softmax, lengths, serve, sparsity, distill
    /// Job results of a plan combined by `infbench merge` (Merge.swift): rows per host, never pooled.
    case merge
}

public struct SuiteResult: Codable, Sendable {
    /// Bumped when a field changes meaning. 2: `kind`, workloads and one envelope for every command.
    public var schemaVersion: Int = 2
    public var kind: ResultKind = .run
    public var suite: String
    public var environment: EnvironmentInfo
    public var configuration: RunConfiguration
    /// OpenBLAS sgemm measured in the same run: the roofline the models are compared with.
    public var roofline: [RooflinePoint]
    /// Memory bandwidth (triad) measured after the grid at each thread count: the roof of batch-1
    /// and decoding rows, which read every weight once per pass. Nil in results from before it existed.
    public var bandwidth: [BandwidthPoint]?
    public var rows: [ResultRow]
    /// Things the reader must know (debug build, high load, noisy rows, …).
    public var warnings: [String]
    /// True when Ctrl-C stopped the run early: the rows are complete, the grid is not. Nil: ran to the end.
    public var interrupted: Bool?
    /// The plan job this result is (`run --plan P --job I`); nil for a run of a whole grid.
    public var job: JobReference?
    /// Kind `merge` only: hosts, per-host and per-machine-type speed-ups, missing jobs.
    public var merge: MergeSummary?

    public init(kind: ResultKind = .run, suite: String, environment: EnvironmentInfo, configuration: RunConfiguration,
                roofline: [RooflinePoint], rows: [ResultRow], warnings: [String], interrupted: Bool? = nil) {
        self.kind = kind
        self.suite = suite
        self.environment = environment
        self.configuration = configuration
        self.roofline = roofline
        self.rows = rows
        self.warnings = warnings
        self.interrupted = interrupted
    }
}

/// What was asked for: enough to replay the run.
public struct RunConfiguration: Codable, Sendable, Equatable {
    public var models: [String]
    public var variants: [String]
    public var batchSizes: [Int]
    public var threads: [Int]
    /// Sequence lengths for the transformers (tokens per sequence); the CNN ignores them.
    public var sequenceLengths: [Int]
    /// Measurement stops once both the duration and the count are reached.
    public var minSeconds: Double
    public var minRuns: Int
    /// Warm-up stops when timings settle or at these limits.
    public var maxWarmupRuns: Int
    public var maxWarmupSeconds: Double
    /// Seeds: input data and the bootstrap resampling. Weight seeds live in each model's config.
    public var inputSeed: UInt64
    public var bootstrapSeed: UInt64
    public var bootstrapResamples: Int
    /// Who owns the threads in each phase (OpenBLAS vs infbench's own loops).
    public var threadPolicy: String
    /// Seed of the balanced round order (nil in schema 1 files, which used A B C / C B A).
    public var orderSeed: UInt64?
    /// Minimum warm-up time per body, seconds.
    public var minWarmupSeconds: Double?
    /// n×n×n of the sgemm roofline, replayed by `reproduce`.
    public var rooflineSize: Int?
    /// The scenario's own parameters (prompt length, Zipf exponent, …); nil for `run`.
    public var workload: WorkloadConfiguration?
    /// True for the default suite (`make run`): which techniques and scenarios ran on which model is
    /// the suite's own rule (DefaultSuite.swift), so a replay runs that suite again, not this grid.
    public var defaultSuite: Bool?

    public init(models: [String], variants: [String], batchSizes: [Int], threads: [Int],
                sequenceLengths: [Int], minSeconds: Double, minRuns: Int,
                maxWarmupRuns: Int, maxWarmupSeconds: Double,
                inputSeed: UInt64, bootstrapSeed: UInt64, bootstrapResamples: Int,
                threadPolicy: String, orderSeed: UInt64? = nil, minWarmupSeconds: Double? = nil,
                rooflineSize: Int? = nil, workload: WorkloadConfiguration? = nil) {
        self.orderSeed = orderSeed
        self.minWarmupSeconds = minWarmupSeconds
        self.rooflineSize = rooflineSize
        self.workload = workload
        self.models = models
        self.variants = variants
        self.batchSizes = batchSizes
        self.threads = threads
        self.sequenceLengths = sequenceLengths
        self.minSeconds = minSeconds
        self.minRuns = minRuns
        self.maxWarmupRuns = maxWarmupRuns
        self.maxWarmupSeconds = maxWarmupSeconds
        self.inputSeed = inputSeed
        self.bootstrapSeed = bootstrapSeed
        self.bootstrapResamples = bootstrapResamples
        self.threadPolicy = threadPolicy
    }
}

/// Where and how the numbers were made.
public struct EnvironmentInfo: Codable, Sendable {
    public var cpuModel: String
    /// Features detected at run time (cpuid), e.g. ["avx2", "fma", "avx512f", "avx512_bf16"].
    public var cpuFeatures: [String]
    public var logicalCores: Int
    public var openblasConfig: String
    public var openblasCore: String
    /// Vector path of infbench's own C kernels (GELU, softmax, LayerNorm): "avx512", "avx2" or "generic".
    public var kernelISA: String
    /// Environment variables that change what executes (OPENBLAS_*, GOTO_*, OMP_NUM_THREADS, INFBENCH_*).
    /// OPENBLAS_CORETYPE in particular overrides OpenBLAS's own choice of kernels.
    public var variables: [String: String] = [:]
    public var swiftVersion: String
    /// "release" or "debug"; a debug build's numbers mean nothing.
    public var buildConfiguration: String
    /// `git describe`-style commit of the working tree, "-dirty" when it has changes; "unknown" outside git.
    public var gitCommit: String
    /// 1, 5 and 15 minute load averages at the start of the run.
    public var loadAverage: [Double]
    /// ISO 8601, UTC.
    public var timestamp: String
    public var hostname: String
    public var os: String

    public init(cpuModel: String, cpuFeatures: [String], logicalCores: Int, openblasConfig: String,
                openblasCore: String, kernelISA: String, swiftVersion: String, buildConfiguration: String,
                gitCommit: String, loadAverage: [Double], timestamp: String, hostname: String, os: String) {
        self.cpuModel = cpuModel
        self.cpuFeatures = cpuFeatures
        self.logicalCores = logicalCores
        self.openblasConfig = openblasConfig
        self.openblasCore = openblasCore
        self.kernelISA = kernelISA
        self.swiftVersion = swiftVersion
        self.buildConfiguration = buildConfiguration
        self.gitCommit = gitCommit
        self.loadAverage = loadAverage
        self.timestamp = timestamp
        self.hostname = hostname
        self.os = os
    }
}

/// sgemm throughput at one thread count, measured in the same run: once before
/// the grid and once after, so a machine that changed speed meanwhile shows it.
public struct RooflinePoint: Codable, Sendable {
    public var threads: Int
    /// Square-ish GEMM shape used: (m, k) x (k, n).
    public var m: Int, n: Int, k: Int
    /// Samples of the measurement before the grid, then of the one after it.
    public var samplesNs: [UInt64]
    /// From the median sample of each measurement.
    public var gflopsBefore: Double
    public var gflopsAfter: Double
    /// The roofline: the higher of the two (what this machine can reach).
    public var gflops: Double

    public init(threads: Int, m: Int, n: Int, k: Int, samplesNs: [UInt64], gflops: Double) {
        self.init(threads: threads, m: m, n: n, k: k, samplesNs: samplesNs, gflopsBefore: gflops, gflopsAfter: gflops)
    }

    public init(threads: Int, m: Int, n: Int, k: Int, samplesNs: [UInt64], gflopsBefore: Double, gflopsAfter: Double) {
        self.threads = threads
        self.m = m
        self.n = n
        self.k = k
        self.samplesNs = samplesNs
        self.gflopsBefore = gflopsBefore
        self.gflopsAfter = gflopsAfter
        self.gflops = max(gflopsBefore, gflopsAfter)
    }

    /// Combines the measurements before and after the grid.
    public func merged(withAfter after: RooflinePoint) -> RooflinePoint {
        RooflinePoint(threads: threads, m: m, n: n, k: k, samplesNs: samplesNs + after.samplesNs,
                      gflopsBefore: gflops, gflopsAfter: after.gflops)
    }
}

/// Summary statistics of one instance's samples, in seconds.
public struct SampleStats: Codable, Sendable, Equatable {
    public var count: Int
    public var median: Double
    public var mean: Double
    public var p90: Double
    public var p99: Double
    public var min: Double
    public var max: Double
    public var stddev: Double
    /// Coefficient of variation: stddev / mean.
    public var cv: Double

    public init(count: Int, median: Double, mean: Double, p90: Double, p99: Double,
                min: Double, max: Double, stddev: Double, cv: Double) {
        self.count = count
        self.median = median
        self.mean = mean
        self.p90 = p90
        self.p99 = p99
        self.min = min
        self.max = max
        self.stddev = stddev
        self.cv = cv
    }
}

/// Ratio of medians (baseline median / this median: > 1 is faster) with a bootstrap interval.
public struct Speedup: Codable, Sendable, Equatable {
    public var baseline: String
    public var ratio: Double
    public var low: Double
    public var high: Double
    /// Confidence level of [low, high], e.g. 0.95.
    public var confidence: Double
    /// True when the interval covers 1, or the ratio lies within its group's A/A deviation:
    /// the difference is inside the noise.
    public var withinNoise: Bool
    /// The seed this interval's resampling used (derived per row from the run's bootstrap seed).
    public var seed: UInt64?
    /// The group's A/A deviation: the larger distance of the A/A interval's ends from 1 (nil: no A/A).
    public var noiseFloor: Double?

    public init(baseline: String, ratio: Double, low: Double, high: Double, confidence: Double, seed: UInt64? = nil) {
        self.baseline = baseline
        self.ratio = ratio
        self.low = low
        self.high = high
        self.confidence = confidence
        self.withinNoise = low <= 1 && 1 <= high
        self.seed = seed
    }

    /// Labels the ratio inside the noise also when it lies within the A/A deviation `floor`.
    public mutating func apply(noiseFloor floor: Double) {
        noiseFloor = floor
        if abs(ratio - 1) <= floor { withinNoise = true }
    }
}

/// Output quality against the fp32 baseline on the same inputs.
public struct Quality: Codable, Sendable, Equatable {
    public var maxAbsDiff: Double
    /// Mean over output rows (tokens, images) of the cosine between output vectors.
    public var meanCosine: Double
    /// Fraction of rows whose arg-max (class or next token) matches; nil where meaningless.
    public var top1Agreement: Double?
    /// Fraction of rows whose five largest logits are the same classes (in any order); nil where
    /// meaningless (not logits, or ≤ 5 classes). ImageNet models are judged by top-5 as well as top-1.
    public var top5Agreement: Double?
    /// Encoders: mean over sequences of the cosine between mean-pooled outputs — the sentence
    /// embedding (sentence-transformers' mean pooling; L2 normalisation does not change a cosine).
    public var embeddingCosine: Double?
    /// Inputs in the evaluation set the figures come from (nil in schema 1 files: the timed batch).
    public var n: Int?
    /// What the evaluation set is, e.g. "test split", "256 seeded inputs × 32 tokens".
    public var evaluationSet: String?
    /// Runtime techniques that must not change outputs (KV cache, prediction cache): whether
    /// every output matched the baseline's within the stated tolerance.
    public var identical: Bool?
    /// Language models with held-out text: the variant's own perplexity on it, exp(mean next-token
    /// negative log-likelihood) — the quality figure a language-model user reads beside top-1 agreement.
    public var perplexity: Double?

    public init(maxAbsDiff: Double, meanCosine: Double, top1Agreement: Double?, top5Agreement: Double? = nil,
                embeddingCosine: Double? = nil, n: Int? = nil, evaluationSet: String? = nil, identical: Bool? = nil,
                perplexity: Double? = nil) {
        self.perplexity = perplexity
        self.maxAbsDiff = maxAbsDiff
        self.meanCosine = meanCosine
        self.top1Agreement = top1Agreement
        self.top5Agreement = top5Agreement
        self.embeddingCosine = embeddingCosine
        self.n = n
        self.evaluationSet = evaluationSet
        self.identical = identical
    }
}

/// One instance of the grid: model × variant × batch size × threads.
public struct ResultRow: Codable, Sendable {
    public var model: String
    public var variant: String
    /// What actually executed, e.g. "fp32 weights, OpenBLAS sgemm".
    public var executes: String
    public var batch: Int
    /// Tokens per sequence for transformers; nil for the CNN.
    public var sequenceLength: Int?
    public var threads: Int
    /// "seq", "img" or "tok".
    public var itemUnit: String
    public var itemsPerRun: Int
    /// Runs it took for timings to settle.
    public var warmupRuns: Int
    /// Every measured run, nanoseconds, in the order measured.
    public var samplesNs: [UInt64]
    public var stats: SampleStats
    /// items / median seconds.
    public var throughput: Double
    public var flopsPerRun: Double
    /// flopsPerRun / median seconds / 1e9.
    public var gflops: Double
    /// gflops as a percentage of the sgemm roofline at the same thread count.
    public var rooflinePercent: Double?
    /// Weight bytes one timed run reads: every matrix, bias and norm once per forward pass (or per
    /// decoding step), embedding tables not (a pass reads a few of their rows). Nil: not counted.
    public var bytesReadPerRun: Int?
    /// bytesReadPerRun over the median time, as a percentage of the triad bandwidth at the same
    /// thread count: near 100 a row is bound by memory, not arithmetic.
    public var bandwidthPercent: Double?
    public var weightBytes: Int
    /// Process peak resident set size after this instance (monotone over the run).
    public var peakRSSBytes: Int
    public var speedup: Speedup?
    public var quality: Quality?
    /// Accuracy on every test example of the dataset the model was trained on (models with an
    /// infbench_dataset only); the same figure on every row of a (model, variant).
    public var accuracy: Double?
    /// Where a forward pass spends its time (`run --profile`; every row but the A/A copy).
    public var profile: Profile?
    /// What one timed run is: "forward" (a batch forward pass; nil in schema 1), "generate"
    /// (a whole greedy generation), "stream" (a request stream), "output-layer", "serve", "spmm".
    public var workload: String?
    /// The workload point beyond batch, length and threads that tells rows apart, e.g. "16 + 512 tokens".
    public var point: String?
    /// Workload figures beside the time: hit rate, cache bytes, mean batch, …
    public var metrics: [String: Double]?
    /// Generation: median step time by position bucket.
    public var positions: [PositionBucket]?
    /// False when warm-up stopped at a limit before the timings settled.
    public var settled: Bool?
    /// The host that measured this row (merged results, which hold rows of many hosts).
    public var host: String?

    public init(model: String, variant: String, executes: String, batch: Int, sequenceLength: Int?,
                threads: Int, itemUnit: String, itemsPerRun: Int, warmupRuns: Int,
                samplesNs: [UInt64], stats: SampleStats, throughput: Double, flopsPerRun: Double,
                gflops: Double, rooflinePercent: Double?, weightBytes: Int, peakRSSBytes: Int,
                speedup: Speedup?, quality: Quality?, accuracy: Double? = nil, profile: Profile? = nil) {
        self.model = model
        self.variant = variant
        self.executes = executes
        self.batch = batch
        self.sequenceLength = sequenceLength
        self.threads = threads
        self.itemUnit = itemUnit
        self.itemsPerRun = itemsPerRun
        self.warmupRuns = warmupRuns
        self.samplesNs = samplesNs
        self.stats = stats
        self.throughput = throughput
        self.flopsPerRun = flopsPerRun
        self.gflops = gflops
        self.rooflinePercent = rooflinePercent
        self.weightBytes = weightBytes
        self.peakRSSBytes = peakRSSBytes
        self.speedup = speedup
        self.quality = quality
        self.accuracy = accuracy
        self.profile = profile
    }

    /// Whether this row is the A/A copy of its group's baseline ("fp32 A/A", "no cache A/A", …).
    public var isAA: Bool { variant.hasSuffix(" A/A") }
}

/// Median step time over positions start..<end of a generation, seconds.
public struct PositionBucket: Codable, Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var median: Double
    public init(start: Int, end: Int, median: Double) {
        self.start = start
        self.end = end
        self.median = median
    }
}

/// A scenario's own parameters, so `reproduce` can replay it. Each scenario sets its fields.
public struct WorkloadConfiguration: Codable, Sendable, Equatable {
    public var promptLength: Int?
    public var newTokens: Int?
    public var requests: Int?
    public var catalogue: Int?
    public var zipfExponent: Double?
    public var capacity: Int?
    public var cutoffs: [Int]?
    public var maxBatch: Int?
    public var maxDelaySeconds: Double?
    public var p99BoundSeconds: Double?
    public var trialSeconds: Double?
    public var steps: Int?
    /// Weight techniques a scenario applied besides its own variants (generate: the KV cache on q4, …).
    public var techniques: [String]?
    public var sparsities: [Double]?
    public var rows: [Int]?
    public var medianLength: Int?
    public var maxLength: Int?
    public init() {}
}

/// Per-phase wall time of a forward pass, from extra profiled runs made after the
/// measured ones (the profiler's clock reads perturb those runs slightly, so they
/// are not the row's samples).
public struct Profile: Codable, Sendable, Equatable {
    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        /// Mean seconds per forward pass.
        public var seconds: Double
        public init(name: String, seconds: Double) {
            self.name = name
            self.seconds = seconds
        }
    }
    public var runs: Int
    /// Mean wall time of a profiled pass, seconds.
    public var totalSeconds: Double
    /// In first-seen order; time outside every phase is listed as "other".
    public var phases: [Phase]

    public init(runs: Int, totalSeconds: Double, phases: [Phase]) {
        self.runs = runs
        self.totalSeconds = totalSeconds
        self.phases = phases
    }
}
