// The result format: one JSON document per suite run, carrying configuration,
// seeds, environment and every raw sample, so a later run can reproduce it.
// Printers (table, Markdown, CSV, JSON) all read this one structure.

public struct SuiteResult: Codable, Sendable {
    /// Bumped when a field changes meaning.
    public var schemaVersion: Int = 1
    public var suite: String
    public var environment: EnvironmentInfo
    public var configuration: RunConfiguration
    /// OpenBLAS sgemm measured in the same run: the roofline the models are compared with.
    public var roofline: [RooflinePoint]
    public var rows: [ResultRow]
    /// Things the reader must know (debug build, high load, noisy rows, …).
    public var warnings: [String]
    /// True when Ctrl-C stopped the run early: the rows are complete, the grid is not. Nil: ran to the end.
    public var interrupted: Bool?

    public init(suite: String, environment: EnvironmentInfo, configuration: RunConfiguration,
                roofline: [RooflinePoint], rows: [ResultRow], warnings: [String], interrupted: Bool? = nil) {
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

    public init(models: [String], variants: [String], batchSizes: [Int], threads: [Int],
                sequenceLengths: [Int], minSeconds: Double, minRuns: Int,
                maxWarmupRuns: Int, maxWarmupSeconds: Double,
                inputSeed: UInt64, bootstrapSeed: UInt64, bootstrapResamples: Int,
                threadPolicy: String) {
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
    /// True when the interval covers 1: the difference is inside the noise.
    public var withinNoise: Bool

    public init(baseline: String, ratio: Double, low: Double, high: Double, confidence: Double) {
        self.baseline = baseline
        self.ratio = ratio
        self.low = low
        self.high = high
        self.confidence = confidence
        self.withinNoise = low <= 1 && 1 <= high
    }
}

/// Output quality against the fp32 baseline on the same inputs.
public struct Quality: Codable, Sendable, Equatable {
    public var maxAbsDiff: Double
    /// Mean over output rows (tokens, images) of the cosine between output vectors.
    public var meanCosine: Double
    /// Fraction of rows whose arg-max (class or next token) matches; nil where meaningless.
    public var top1Agreement: Double?
    /// Encoders: mean over sequences of the cosine between mean-pooled outputs — the sentence
    /// embedding (sentence-transformers' mean pooling; L2 normalisation does not change a cosine).
    public var embeddingCosine: Double?

    public init(maxAbsDiff: Double, meanCosine: Double, top1Agreement: Double?, embeddingCosine: Double? = nil) {
        self.maxAbsDiff = maxAbsDiff
        self.meanCosine = meanCosine
        self.top1Agreement = top1Agreement
        self.embeddingCosine = embeddingCosine
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
