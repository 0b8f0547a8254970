// Runs a suite: a grid of instances (model × variant × batch × threads), like
// llama-bench. Within each (model, batch, threads) group the variants run
// interleaved round-robin, so drift hits all alike; the baseline is always the
// first variant, and an A/A copy of it shows the noise floor.
import Foundation
import InfCore
import InfMeasure
import class InfMeasure.Progress  // not Foundation.Progress
import InfModels
import InfTechniques

public struct SuitePlan {
    public var suite: String
    public var models: [String]
    /// The fp32 baseline first; the runner adds it when missing.
    public var techniques: [Technique]
    public var batchSizes: [Int]
    public var threads: [Int]
    /// Tokens per sequence for the transformers; the CNN runs once per batch size.
    public var sequenceLengths: [Int]
    public var policy: MeasurementPolicy
    public var inputSeed: UInt64
    public var bootstrapSeed: UInt64
    public var bootstrapResamples: Int
    /// Square sgemm size for the roofline.
    public var rooflineSize: Int
    /// Profile the baseline's phases after measuring each group.
    public var profile: Bool = false
    /// The techniques to compare on one model, when they differ by model (the default suite):
    /// the baseline and A/A are added in front, and one that throws a TechniqueError is left out.
    public var techniquesFor: ((LoadedModel) -> [Technique])?
    /// The batch sizes for one model, when they differ by model (the default suite's large batch).
    public var batchSizesFor: ((LoadedModel) -> [Int])?

    public init(suite: String, models: [String], techniques: [Technique], batchSizes: [Int], threads: [Int],
                sequenceLengths: [Int], policy: MeasurementPolicy, inputSeed: UInt64, bootstrapSeed: UInt64,
                bootstrapResamples: Int, rooflineSize: Int) {
        self.suite = suite
        self.models = models
        self.techniques = techniques
        self.batchSizes = batchSizes
        self.threads = threads
        self.sequenceLengths = sequenceLengths
        self.policy = policy
        self.inputSeed = inputSeed
        self.bootstrapSeed = bootstrapSeed
        self.bootstrapResamples = bootstrapResamples
        self.rooflineSize = rooflineSize
    }
}

extension SuitePlan {
    /// The plan's settings as the configuration a result stores (variants as planned).
    public var configuration: RunConfiguration {
        RunConfiguration(models: models, variants: techniques.map(\.name), batchSizes: batchSizes, threads: threads,
                         sequenceLengths: sequenceLengths, minSeconds: policy.minSeconds, minRuns: policy.minRuns,
                         maxWarmupRuns: policy.maxWarmupRuns, maxWarmupSeconds: policy.maxWarmupSeconds,
                         inputSeed: inputSeed, bootstrapSeed: bootstrapSeed, bootstrapResamples: bootstrapResamples,
                         threadPolicy: Engine.threadPolicy)
    }

    /// The one validation, applied to a plan (see `RunConfiguration.validate`).
    public func validate(source: RunConfiguration.Source = .commandLine) throws {
        try configuration.validate(source: source, rooflineSize: rooflineSize)
    }
}

public final class SuiteRunner {
    public let plan: SuitePlan
    private let progress: Progress

    public init(plan: SuitePlan, showProgress: Bool) {
        self.plan = plan
        self.progress = Progress(enabled: showProgress)
    }

    /// With a progress line shared with other work (the default suite's scenarios): one unit per group.
    public init(plan: SuitePlan, progress: Progress) {
        self.plan = plan
        self.progress = progress
    }

    var engine: Engine {
        Engine(policy: plan.policy, bootstrapResamples: plan.bootstrapResamples, bootstrapSeed: plan.bootstrapSeed)
    }

    /// Loads every model and checks the plan against it before anything is measured,
    /// so a bad option fails in a second, not after minutes of measuring.
    public func loadModels() throws -> [LoadedModel] {
        // Memory first, from the configs alone: a model that cannot fit must not start loading.
        try ResourceCheck.checkMemory(plan, configs: try plan.models.map { ($0, try ModelLoader.config(for: $0)) })
        return try plan.models.map { spec in
            let loaded = try ModelLoader.load(spec)
            if datasetLength(loaded) == nil, let maxT = loaded.model.maxSequenceLength, let longest = plan.sequenceLengths.max(), longest > maxT {
                throw HarnessError("--seq-len \(longest) exceeds \(loaded.model.name)'s max_position_embeddings \(maxT).")
            }
            return loaded
        }
    }

    /// Tokens per sequence of the model's dataset, if it was trained on a sequence dataset.
    func datasetLength(_ m: LoadedModel) -> Int? {
        // A language model with held-out text runs at its context (the length of its text windows).
        (m.model.evaluationSet as? LabelledSequences)?.length ?? (m.model as? any CausalLanguageModel)?.evaluationText?.first?.input.count
    }

    public func run(models: [LoadedModel]) throws -> SuiteResult {
        let environment = EnvironmentInfo.capture()
        // The printers flag a debug build themselves, loudly, from environment.buildConfiguration.
        var warnings = Engine.standardWarnings(environment, policy: plan.policy)
        for m in models { warnings += m.notes }

        var techniques = plan.techniques
        if !techniques.contains(where: { $0.name == FP32Baseline.name }) { techniques.insert(FP32Baseline(), at: 0) }

        // The roofline: sgemm at each thread count, measured in this run (again after the grid, below).
        var roofline: [Int: RooflinePoint] = [:]
        for t in plan.threads { roofline[t] = measureRoofline(threads: t, when: "before") }

        var rows: [ResultRow] = []
        // Sequence lengths apply to the transformers; the CNN runs once per batch size, and a model
        // trained on a generated dataset runs at its dataset's length, on its test sequences.
        func lengths(_ m: LoadedModel) -> [Int?] {
            if m.model.kind == .cnn { return [nil] }
            if let t = datasetLength(m) { return [t] }
            return plan.sequenceLengths.map { $0 }
        }
        for m in models {
            if let t = datasetLength(m), plan.sequenceLengths != [t] {
                warnings.append("\(m.model.name) runs at its dataset's \(t) tokens per sequence (its test sequences); --seq-len applies to the other transformers.")
            }
        }
        func batchSizes(_ m: LoadedModel) -> [Int] { plan.batchSizesFor?(m) ?? plan.batchSizes }
        let groups = models.reduce(0) { $0 + lengths($1).count * batchSizes($1).count } * plan.threads.count
        if !progress.isCounting { progress.begin(units: Double(groups)) }
        var groupIndex = 0
        var interrupted = false
        grid: for loaded in models {
            let own = plan.techniquesFor.map { Array(techniques.prefix { $0.name == FP32Baseline.name || $0.name == AABaseline.name }) + $0(loaded) }
            let variants = try (own ?? techniques).compactMap { t -> Variant? in
                progress.say("\(loaded.model.name): applying \(t.name)")
                let applied: InferenceModel
                // In a per-model list, a technique that does not fit this model says so by throwing.
                do { applied = try t.apply(to: loaded) } catch is TechniqueError where own != nil { return nil }
                return Variant(technique: t, model: applied, note: t.describe(applied, original: loaded))
            }
            // The baseline and its A/A draw each run from one pool of identical copies (see TwinPool).
            let twins = variants.firstIndex { $0.technique.name == AABaseline.name }.map { aa in
                TwinPool([variants[0].model, variants[aa].model] + (2..<TwinPool<InferenceModel>.size).map { _ in loaded.model.deepCopy() },
                         seed: plan.policy.orderSeed ^ stableHash(loaded.model.name))
            }
            // Quality and task accuracy on a fixed evaluation set, once per variant (all threads: it is not timed).
            let evaluation = EvaluationSet(for: loaded.model, seed: plan.inputSeed &+ 0xE7A1)
            progress.say("\(loaded.model.name): quality of \(variants.count) variants on \(evaluation.count) evaluation inputs")
            let evaluated = evaluation.evaluate(reference: variants[0].model, variants: variants.map(\.model),
                                                in: ExecutionContext(threads: plan.threads.max() ?? 1))
            // A NaN anywhere is never silent: a non-finite output makes its quality NaN, and says so here.
            for (v, e) in zip(variants, evaluated).dropFirst() where e.quality.maxAbsDiff.isNaN || e.quality.meanCosine.isNaN {
                warnings.append("\(loaded.model.name) \(v.technique.name): the outputs on the evaluation set hold non-finite values (NaN or ±inf), in this variant or in the fp32 baseline; its quality columns are NaN.")
            }
            for batch in batchSizes(loaded) {
                for seq in lengths(loaded) {
                    for threads in plan.threads {
                        if Interrupt.requested {
                            interrupted = true
                            warnings.append("interrupted (Ctrl-C) after \(groupIndex) of \(groups) groups: the rows shown are complete; the rest of the grid was not measured.")
                            break grid
                        }
                        groupIndex += 1
                        let label = "[\(groupIndex)/\(groups)] \(loaded.model.name) batch \(batch)"
                            + (seq.map { " × \($0) tokens" } ?? "") + " × \(threads) thread(s)"
                        rows += measureGroup(variants, evaluated: evaluated, batch: batch, sequenceLength: seq,
                                             threads: threads, twins: twins, label: label, warnings: &warnings)
                        progress.advance()
                    }
                }
            }
        }
        for t in plan.threads {
            // An interrupted run skips the second roofline measurement to stop promptly.
            let point = interrupted ? roofline[t]! : roofline[t]!.merged(withAfter: measureRoofline(threads: t, when: "after"))
            if abs(point.gflopsAfter - point.gflopsBefore) > 0.1 * point.gflops {
                warnings.append(String(format: "sgemm at %d thread(s) ran at %.1f GFLOP/s before the grid and %.1f after: the machine's speed changed during the run; %% roofline uses the higher.",
                                       t, point.gflopsBefore, point.gflopsAfter))
            }
            roofline[t] = point
            for i in rows.indices where rows[i].threads == t {
                rows[i].rooflinePercent = 100 * rows[i].gflops / point.gflops
                // Only fp32 rows are bounded near the sgemm roofline; bf16, sparse and fp16 kernels are not.
                // infbench's packed fp32 kernel reaches up to ~1.15× OpenBLAS's 1024³ rate on its
                // shapes here (no packing of W per call), so the bound allows 125%.
                let sgemmRow = rows[i].variant == FP32Baseline.name || rows[i].isAA
                if sgemmRow && rows[i].rooflinePercent! > 125 {
                    warnings.append(String(format: "%@ %@ batch %d × %d reached %.0f%% of the sgemm roofline: the roofline measurement was disturbed, or the FLOP count is off.",
                                           rows[i].model, rows[i].variant, rows[i].batch, t, rows[i].rooflinePercent!))
                }
            }
        }
        // After the grid and the rows' peak RSS: the triad's 192 MiB must not count in them.
        let bandwidth = interrupted ? nil : rows.measureBandwidthShares(policy: plan.policy) { progress.say($0) }.nilIfEmpty
        progress.done()

        let configuration = RunConfiguration(
            models: plan.models, variants: techniques.map(\.name), batchSizes: plan.batchSizes, threads: plan.threads,
            sequenceLengths: plan.sequenceLengths, minSeconds: plan.policy.minSeconds, minRuns: plan.policy.minRuns,
            maxWarmupRuns: plan.policy.maxWarmupRuns, maxWarmupSeconds: plan.policy.maxWarmupSeconds,
            inputSeed: plan.inputSeed, bootstrapSeed: plan.bootstrapSeed, bootstrapResamples: plan.bootstrapResamples,
            threadPolicy: Engine.threadPolicy, orderSeed: plan.policy.orderSeed,
            minWarmupSeconds: plan.policy.minWarmupSeconds, rooflineSize: plan.rooflineSize)
        var result = SuiteResult(suite: plan.suite, environment: environment, configuration: configuration,
                                 roofline: plan.threads.compactMap { roofline[$0] }, rows: rows, warnings: warnings,
                                 interrupted: interrupted ? true : nil)
        result.bandwidth = bandwidth
        return result
    }
}

/// A technique applied to a model: one column of a group.
struct Variant {
    let technique: Technique
    let model: InferenceModel
    /// What the technique changed in this model (parameters, shapes), appended to `executes`.
    let note: String?
}

extension SuiteRunner {
    /// One group of the grid: every variant on the same input, interleaved by the engine;
    /// rows in variant order, quality from the evaluation set.
    func measureGroup(_ variants: [Variant], evaluated: [(quality: Quality, accuracy: Double?)], batch: Int,
                      sequenceLength seq: Int?, threads: Int, twins: TwinPool<InferenceModel>?, label: String,
                      warnings: inout [String]) -> [ResultRow] {
        let baseline = variants[0]
        let tokens = seq ?? 0
        let context = ExecutionContext(threads: threads)
        var rng = SeededRNG(seed: plan.inputSeed)
        let input = baseline.model.makeInput(batch: batch, sequenceLength: tokens, rng: &rng)
        let point = WorkloadPoint(model: baseline.model.name, workload: "forward", batch: batch, sequenceLength: seq,
                                  threads: threads, itemUnit: baseline.model.itemUnit, itemsPerRun: batch)
        let engineVariants = zip(variants, evaluated).enumerated().map { i, pair in
            let (v, e) = pair
            return EngineVariant(
                name: v.technique.name, executes: v.technique.executes + (v.note.map { " (\($0))" } ?? ""),
                weightBytes: v.model.weightBytes,
                // The variant's own dense shapes: structured pruning shrinks them; unstructured zeros do not.
                flopsPerRun: v.model.flops(batch: batch, sequenceLength: tokens),
                quality: i == 0 && e.quality.perplexity == nil ? nil : e.quality, accuracy: e.accuracy, // a baseline row shows its perplexity
                bytesReadPerRun: v.model.bytesReadPerPass) {
                    if let twins, i == 0 || v.technique.name == AABaseline.name { _ = twins.next().forward(input, in: context) } else { _ = v.model.forward(input, in: context) }
                }
        }
        var rows = engine.measureGroup(point, engineVariants, warnings: &warnings) { self.progress.say(label + ": " + $0.components(separatedBy: ": ").last!) }
        if plan.profile {
            // Every variant but the A/A copy, so a technique's row shows where its time goes (int8: int8.quantize, int8.gemm).
            for (i, v) in variants.enumerated() where !rows[i].isAA {
                rows[i].profile = profilePhases(of: v.model, input: input, medianSeconds: rows[i].stats.median, in: context)
            }
        }
        return rows
    }

    /// Runs `model` with the profiler on for about a second (at least 3 passes).
    func profilePhases(of model: InferenceModel, input: ModelInput, medianSeconds: Double, in context: ExecutionContext) -> Profile {
        let runs = max(3, min(100, Int(1.0 / max(medianSeconds, 1e-6))))
        let profiler = Profiler()
        let profiling = context.profiling(profiler)
        let start = monotonicNanoseconds()
        for _ in 0..<runs { _ = model.forward(input, in: profiling) }
        let total = Double(monotonicNanoseconds() - start) / 1e9 / Double(runs)
        var phases = profiler.order.map { Profile.Phase(name: $0, seconds: Double(profiler.totalsNs[$0]!) / 1e9 / Double(runs)) }
        phases.append(Profile.Phase(name: "other", seconds: max(0, total - phases.reduce(0) { $0 + $1.seconds })))
        return Profile(runs: runs, totalSeconds: total, phases: phases)
    }

    func measureRoofline(threads: Int, when: String) -> RooflinePoint {
        progress.say("roofline (\(when) the grid): sgemm \(plan.rooflineSize)³ at \(threads) thread(s)")
        return measureSgemmRoofline(threads: threads, m: plan.rooflineSize, n: plan.rooflineSize,
                                    k: plan.rooflineSize, policy: plan.policy)
    }
}
