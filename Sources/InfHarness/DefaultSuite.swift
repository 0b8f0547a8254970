// The default suite — `infbench run` with no grid options: which technique is worth it on this
// server? Every bundled model (and the real models when `make models` fetched them) × every
// catalogue technique that applies to it (Techniques.defaultComparison; a technique that does not
// fit a model throws, and is left out), at batch 1 and a large batch, on all cores; then every
// runtime scenario below that applies to the model. Each scenario declares here, beside its
// code, which models it applies to; the suite itself never names a technique or a model.
import Foundation
import InfCore
import InfMeasure
import class InfMeasure.Progress  // not Foundation.Progress
import InfModels
import InfTechniques

/// What every scenario of the default suite shares.
public struct ScenarioContext {
    public var engine: Engine
    /// All cores: the threads a server would give the model.
    public var threads: Int
    public var seed: UInt64
    /// Tokens per sequence for transformers without a dataset of their own.
    public var sequenceLength: Int
    /// The model's large batch in this suite.
    public var largeBatch: Int
    public var say: (String) -> Void
}

/// A runtime technique measured by its own workload (generation, a request stream, a served load).
public struct SuiteScenario {
    public var name: String
    /// Groups it measures (units of progress).
    public var groups: Int
    /// Which models it applies to, declared with the scenario.
    public var applies: (LoadedModel) -> Bool
    public var run: (LoadedModel, ScenarioContext) throws -> SuiteResult
}

public enum DefaultSuite {
    /// Batch 1 (latency) and a large batch (throughput): where weight formats and threads trade places.
    /// The large batch is the largest of these whose fp32 forward pass stays within `largeBatchFlops`
    /// (the smallest when none does), so a heavy model (EfficientNet, MiniLM) keeps its groups short.
    public static let largeBatches = [32, 16, 8]
    public static let largeBatchFlops = 2.5e9
    /// Tokens per sequence for the transformers without a dataset (teachers run at their dataset's length).
    public static let sequenceLength = 32

    public static func batchSizes(_ m: LoadedModel) -> [Int] {
        let tokens = tokensPerSequence(m, default: sequenceLength)
        let large = largeBatches.first { m.model.flops(batch: $0, sequenceLength: tokens) <= largeBatchFlops } ?? largeBatches.last!
        return [1, large]
    }

    /// Tokens per sequence the grid and the scenarios run `m` at, chosen from the model as the grid
    /// does (SuiteRunner.datasetLength): 0 for images; a model trained on a sequence dataset at its
    /// length; a language model with held-out text at its context (fortunes-lm: 64, its text windows);
    /// any other transformer at `fallback`, cut to its context when that is shorter.
    public static func tokensPerSequence(_ m: LoadedModel, default fallback: Int) -> Int {
        if m.model.kind == .cnn || m.model.kind == .efficientnet { return 0 }
        if let length = (m.model.evaluationSet as? LabelledSequences)?.length { return length }
        if let window = (m.model as? any CausalLanguageModel)?.evaluationText?.first?.input.count { return window }
        return min(fallback, m.model.maxSequenceLength ?? fallback)
    }

    /// Short groups: about five minutes for the whole suite on 2 cores. Each variant still gets
    /// ≥ 6 samples, interleaved, with an A/A row per group and bootstrap intervals. The minimum time
    /// is short because rounds are interleaved: the fastest variant (a distilled student, 10× quicker)
    /// sets the number of rounds, and every slower one runs that many times too.
    public static func policy(seed: UInt64) -> MeasurementPolicy {
        MeasurementPolicy(minSeconds: 0.04, minRuns: 6, maxWarmupRuns: 6, maxWarmupSeconds: 0.3,
                          minWarmupSeconds: 0.02, orderSeed: seed)
    }

    /// A stream or a served load runs a model hundreds of times per timed run: only models whose
    /// batch-1 pass is small enough (under this many FLOPs) keep such a scenario near a second.
    static let requestScenarioFlops = 2e7

    static func isSmallRequestModel(_ m: LoadedModel) -> Bool {
        (m.model.kind == .bert || m.model.kind == .cnn)
            && m.model.flops(batch: 1, sequenceLength: requestLength) <= requestScenarioFlops
    }

    /// Tokens per request in the request-stream scenarios.
    static let requestLength = 16

    static func length(_ m: LoadedModel, _ context: ScenarioContext) -> Int {
        tokensPerSequence(m, default: context.sequenceLength)
    }

    /// Tokens generated after the 16-token prompt in the softmax scenario: 32, or what the context leaves.
    static func softmaxTokens(_ decoder: any CausalLanguageModel) -> Int { max(1, min(32, decoder.maxPositions - 16)) }

    /// The runtime scenarios, each with the models it applies to.
    public static let scenarios: [SuiteScenario] = [
        SuiteScenario(name: "threads", groups: 1, applies: { _ in ProcessInfo.processInfo.activeProcessorCount > 1 }) { m, c in
            threadsScenario(m, c)
        },
        SuiteScenario(name: "KV cache", groups: 1, applies: { $0.model is any CausalLanguageModel }) { m, c in
            let decoder = m.model as! any CausalLanguageModel
            return GenerationBench.run(model: decoder, promptLength: 8, newTokens: max(1, min(32, decoder.maxPositions - 8)), threads: c.threads,
                                       engine: c.engine, seed: c.seed, progress: c.say)
        },
        // A large vocabulary (random weights: the head is derived, and the 0% agreement says what that is
        // worth), or a trained adaptive head beside a model trained on text (fortunes-lm, 8 k tokens):
        // the trained head, test-split states and prompt, and the test perplexity of both heads.
        SuiteScenario(name: "adaptive softmax", groups: 2, applies: { m in
            // The bench decodes after a 16-token prompt: the context must hold it and one more token.
            guard let decoder = m.model as? any CausalLanguageModel, decoder.maxPositions > 16 else { return false }
            return decoder.vocabularySize >= 16_000 || AdaptiveSoftmaxHead.hasTrained(directory: m.source)
        }) { m, c in
            let decoder = m.model as! any CausalLanguageModel
            let text = try SoftmaxBench.textInputs(m, in: ExecutionContext(threads: c.threads), progress: c.say)
            return SoftmaxBench.run(model: decoder, cutoffs: text.trained?.cutoffs ?? [2000, 8000, decoder.vocabularySize],
                                    newTokens: softmaxTokens(decoder), threads: c.threads, engine: c.engine, seed: c.seed,
                                    weightsAreTrained: !m.weightsSource.hasPrefix("generated"), progress: c.say,
                                    trained: text.trained, prompt: text.prompt, states: text.states, perplexity: text.perplexity)
        },
        SuiteScenario(name: "prediction cache", groups: 1, applies: isSmallRequestModel) { m, c in
            CacheBench.run(model: m.model, sequenceLength: m.model.kind == .cnn ? 0 : requestLength, requests: 200,
                           catalogue: 400, exponent: 1.1, capacity: 100, threads: c.threads, engine: c.engine,
                           seed: c.seed, progress: c.say)
        },
        SuiteScenario(name: "dynamic batching", groups: 1, applies: isSmallRequestModel) { m, c in
            ServerBench.compare(model: m.model, sequenceLength: m.model.kind == .cnn ? 0 : requestLength, threads: c.threads,
                                dynamic: BatcherPolicy(maxBatch: 16, maxDelaySeconds: 0.005), p99Bound: 0.05,
                                trialSeconds: 0.3, steps: 2, engine: c.engine, seed: c.seed, progress: c.say).result
        },
    ]

    /// One thread against all cores on the fp32 baseline at the large batch: each body runs on its
    /// own execution context, so both run interleaved like any other pair of variants.
    static func threadsScenario(_ m: LoadedModel, _ c: ScenarioContext) -> SuiteResult {
        let model = m.model
        // The one-thread baseline and its A/A draw each run from a pool of copies (see TwinPool).
        let twins = TwinPool(model: model, seed: c.seed ^ stableHash("threads"))
        let all = c.threads
        let allCores = ExecutionContext(threads: all)
        let tokens = length(m, c)
        var rng = SeededRNG(seed: c.seed)
        let input = model.makeInput(batch: c.largeBatch, sequenceLength: tokens, rng: &rng)
        // Summation order changes with the split: say how much the outputs move.
        let one = model.forward(input, in: .serial)
        var acc = QualityAccumulator(logits: model.outputIsLogits)
        acc.add(reference: one, output: model.forward(input, in: allCores))
        let quality = acc.quality(n: c.largeBatch, set: "the timed batch")
        let flops = model.flops(batch: c.largeBatch, sequenceLength: tokens)
        let point = WorkloadPoint(model: model.name, workload: "forward", batch: c.largeBatch,
                                  sequenceLength: tokens > 0 ? tokens : nil, threads: all, itemUnit: model.itemUnit,
                                  itemsPerRun: c.largeBatch, point: "1 vs \(all) threads")
        var warnings: [String] = []
        let rows = c.engine.measureGroup(point, [
            EngineVariant(name: "1 thread", executes: "fp32 on one thread", weightBytes: model.weightBytes, flopsPerRun: flops) {
                _ = twins.next().forward(input, in: .serial)
            },
            EngineVariant(name: "1 thread A/A", executes: TwinPool<InferenceModel>.aaNote,
                          weightBytes: model.weightBytes, flopsPerRun: flops) {
                _ = twins.next().forward(input, in: .serial)
            },
            EngineVariant(name: "\(all) threads", executes: "fp32 on all \(all) cores (thread policy of the run)",
                          weightBytes: model.weightBytes, flopsPerRun: flops, quality: quality) {
                _ = model.forward(input, in: allCores)
            },
        ], warnings: &warnings, progress: c.say)
        return c.engine.result(kind: .run, name: "threads", models: [model.name], variants: rows.map(\.variant),
                               threads: [1, all], batchSizes: [c.largeBatch], sequenceLengths: tokens > 0 ? [tokens] : [],
                               seed: c.seed, workload: WorkloadConfiguration(), rows: rows, warnings: warnings)
    }

    /// Bundled models of the default suite that load; a fetched checkpoint without its weights
    /// (before `make models`) is left out with a note, not an error.
    public static func loadModels(_ specs: [String], say: (String) -> Void) -> (models: [LoadedModel], notes: [String]) {
        var models: [LoadedModel] = []
        var notes: [String] = []
        for spec in specs {
            say("loading \(spec)")
            do { models.append(try ModelLoader.load(spec)) } catch {
                notes.append("\(spec) left out of the default suite: \(error) (`make models` fetches the real models).")
            }
        }
        return (models, notes)
    }

    /// Runs the grid (every applicable catalogue technique), then every applicable scenario, and
    /// returns one result: the grid's rows followed by the scenarios' rows, warnings of all.
    public static func run(models: [LoadedModel], notes: [String], threads: Int, seed: UInt64, resamples: Int,
                           rooflineSize: Int, profile: Bool = false, progress: Progress) throws -> SuiteResult {
        let specs = Techniques.defaultComparison
        let techniques = try [FP32Baseline(), AABaseline()] + specs.map { try Techniques.parse($0) }
        let policy = Self.policy(seed: seed)
        var plan = SuitePlan(suite: "default", models: models.map(\.model.name), techniques: techniques,
                             batchSizes: [1] + largeBatches, threads: [threads], sequenceLengths: [sequenceLength],
                             policy: policy, inputSeed: seed, bootstrapSeed: seed &+ 1,
                             bootstrapResamples: resamples, rooflineSize: rooflineSize)
        plan.techniquesFor = { _ in Array(techniques.dropFirst(2)) }
        plan.profile = profile
        plan.batchSizesFor = batchSizes
        let applicable = models.map { m in scenarios.filter { $0.applies(m) } }
        progress.begin(units: Double(models.count * 2)
                       + Double(applicable.reduce(0) { $0 + $1.reduce(0) { $0 + $1.groups } }))
        var result = try SuiteRunner(plan: plan, progress: progress).run(models: models)
        result.configuration.defaultSuite = true
        result.warnings = notes + result.warnings
        let engine = Engine(policy: policy, bootstrapResamples: resamples, bootstrapSeed: seed &+ 1)
        scenarios: for (m, list) in zip(models, applicable) {
            for scenario in list {
                if Interrupt.requested || result.interrupted == true {
                    result.interrupted = true
                    result.warnings.append("interrupted (Ctrl-C) before \(m.model.name) \(scenario.name): the rows shown are complete; the rest was not measured.")
                    break scenarios
                }
                let context = ScenarioContext(engine: engine, threads: threads, seed: seed, sequenceLength: sequenceLength,
                                              largeBatch: batchSizes(m).max()!) { progress.say("\(m.model.name) \(scenario.name): \($0)") }
                let part = try scenario.run(m, context)
                result.rows += part.rows
                // The configuration lists what its rows hold (readers check every row against it).
                func add<T: Equatable>(_ values: [T], to list: inout [T]) { for v in values where !list.contains(v) { list.append(v) } }
                add(part.rows.map(\.variant), to: &result.configuration.variants)
                add(part.rows.map(\.batch), to: &result.configuration.batchSizes)
                add(part.rows.map(\.threads), to: &result.configuration.threads)
                add(part.rows.compactMap(\.sequenceLength), to: &result.configuration.sequenceLengths)
                result.warnings += part.warnings.filter { !result.warnings.contains($0) }
                progress.advance(Double(scenario.groups))
            }
        }
        progress.done()
        return result
    }
}
