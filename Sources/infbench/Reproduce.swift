// `infbench reproduce`: replay a stored result's configuration and seeds here —
// a suite (`run`) or any scenario, from the configuration the file carries.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels
import InfTechniques
import InfTrain

struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run a stored result's configuration and seeds on this machine and judge each row REPRODUCED or DIFFERENT.",
        discussion: """
        Speed-ups and quality are judged (tolerances come from both runs' measured noise); absolute times are shown \
        but not judged, since they differ between machines. Exit status 0 when every judged row reproduced, 1 otherwise.
        """)

    @Argument(help: "A result written with --output FILE.json by any command (run, generate, cache, lengths, serve, softmax, sparsity, distill).")
    var path: String

    @Option(help: "Also write the new run's result to this file (atomically), in the format its extension names.")
    var output: String?

    @Flag(name: .customLong("allow-long"), help: "Replay even when the stored grid is estimated to take more than an hour here.")
    var allowLong = false

    @Option(help: "Format printed on the terminal: table or json.")
    var format: OutputFormat = .table

    func run() throws {
        let reported = try decodeSuiteResult(from: try readResultFile(path), path: path)
        if let output { try checkOutput(output, inputs: [path]) }
        Interrupt.install()
        let fresh = try replay(reported)
        if let output {
            try writeAtomically(printer(for: OutputFormat.inferred(fromPath: output)).render(fresh), to: output)
            FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
        }
        let result = reproduce(reported: reported, new: fresh, path: path)
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(renderReproduction(result), terminator: "")
        }
        if fresh.interrupted == true { throw ExitCode(130) }
        if !result.reproduced { throw ExitCode(1) }
    }

    /// Runs the stored configuration again, through the same code that wrote it.
    func replay(_ reported: SuiteResult) throws -> SuiteResult {
        let c = reported.configuration
        let policy = MeasurementPolicy(minSeconds: c.minSeconds, minRuns: c.minRuns, maxWarmupRuns: c.maxWarmupRuns,
                                       maxWarmupSeconds: c.maxWarmupSeconds, minWarmupSeconds: c.minWarmupSeconds ?? 0,
                                       orderSeed: c.orderSeed ?? c.inputSeed &+ 2)
        let engine = Engine(policy: policy, bootstrapResamples: c.bootstrapResamples, bootstrapSeed: c.bootstrapSeed)
        let w = c.workload ?? WorkloadConfiguration()
        let threads = c.threads.first ?? 1
        func need<T>(_ value: T?, _ field: String) throws -> T {
            guard let value else { throw ValidationError("\(path): field configuration.workload.\(field) is missing, so the \(reported.kind.rawValue) run cannot be replayed.") }
            return value
        }
        func model() throws -> LoadedModel {
            guard let spec = c.models.first else { throw ValidationError("\(path): configuration.models is empty.") }
            return try ModelLoader.load(spec)
        }
        let progress = ScenarioOptions.progressLine()
        defer { progress.done() }
        switch reported.kind {
        case .merge:
            throw ValidationError("\(path) merges the results of many hosts and cannot be replayed on one; reproduce one job's result file (in its results directory) instead.")
        case .run where c.defaultSuite == true:
            // The default suite decides per model what runs (DefaultSuite.swift): run it again, same seeds.
            let (loaded, notes) = DefaultSuite.loadModels(c.models, say: progress.say)
            guard loaded.count == c.models.count else { throw ValidationError("\(path): \(notes.joined(separator: " "))") }
            warnAboutOversubscription(c.threads)
            return try DefaultSuite.run(models: loaded, notes: [], threads: c.threads.max() ?? 1, seed: c.inputSeed,
                                        resamples: c.bootstrapResamples, rooflineSize: c.rooflineSize ?? 1024,
                                        progress: Progress(enabled: true))
        case .run:
            let techniques = try c.variants.map { name -> Technique in
                do { return try Techniques.parse(name) } catch let e as TechniqueError {
                    throw ValidationError("\(path): variant \"\(name)\" cannot be replayed here: \(e.message)")
                }
            }
            let plan = SuitePlan(suite: reported.suite, models: c.models, techniques: techniques, batchSizes: c.batchSizes,
                                 threads: c.threads, sequenceLengths: c.sequenceLengths, policy: policy, inputSeed: c.inputSeed,
                                 bootstrapSeed: c.bootstrapSeed, bootstrapResamples: c.bootstrapResamples,
                                 rooflineSize: c.rooflineSize ?? 1024)
            let runner = SuiteRunner(plan: plan, showProgress: true)
            let loaded = try runner.loadModels()
            try checkDistinctModelNames(zip(c.models, loaded).map { ($0, $1.model.name) })
            warnAboutOversubscription(c.threads)
            if !allowLong { try ResourceCheck.checkDuration(ResourceCheck.estimatedSeconds(plan, models: loaded, sgemmGflopsPerThread: ResourceCheck.quickSgemmGflops())) }
            return try runner.run(models: loaded)
        case .generate:
            let loaded = try model()
            guard let d = loaded.model as? any CausalLanguageModel else { throw ValidationError("\(path): \(loaded.model.name) is not a GPT-style decoder.") }
            return GenerationBench.run(model: d, promptLength: try need(w.promptLength, "promptLength"),
                                       newTokens: try need(w.newTokens, "newTokens"), threads: threads, engine: engine, seed: c.inputSeed,
                                       techniques: try decodingTechniques(w.techniques ?? [], loaded: loaded, option: "\(path): configuration.workload.techniques"),
                                       progress: progress.say)
        case .cache:
            let m = try model().model
            return CacheBench.run(model: m, sequenceLength: c.sequenceLengths.first ?? 0, requests: try need(w.requests, "requests"),
                                  catalogue: try need(w.catalogue, "catalogue"), exponent: try need(w.zipfExponent, "zipfExponent"),
                                  capacity: try need(w.capacity, "capacity"), threads: threads, engine: engine, seed: c.inputSeed,
                                  progress: progress.say)
        case .lengths:
            guard let encoder = try model().model as? any TokenModel else { throw ValidationError("\(path): the model is not a BERT-style encoder.") }
            return LengthBench.run(model: encoder, requests: try need(w.requests, "requests"), batch: c.batchSizes.first ?? 16,
                                   medianLength: Double(try need(w.medianLength, "medianLength")), threads: threads,
                                   engine: engine, seed: c.inputSeed, progress: progress.say)
        case .softmax:
            let loaded = try model()
            guard let d = loaded.model as? any CausalLanguageModel else { throw ValidationError("\(path): the model is not a GPT-style decoder.") }
            return SoftmaxBench.run(model: d, cutoffs: try need(w.cutoffs, "cutoffs"), newTokens: try need(w.newTokens, "newTokens"),
                                    threads: threads, engine: engine, seed: c.inputSeed,
                                    weightsAreTrained: !loaded.weightsSource.hasPrefix("generated"), progress: progress.say)
        case .serve:
            let m = try model().model
            return ServerBench.compare(model: m, sequenceLength: c.sequenceLengths.first ?? 0, threads: threads,
                                       dynamic: BatcherPolicy(maxBatch: try need(w.maxBatch, "maxBatch"),
                                                              maxDelaySeconds: try need(w.maxDelaySeconds, "maxDelaySeconds")),
                                       p99Bound: try need(w.p99BoundSeconds, "p99BoundSeconds"),
                                       trialSeconds: try need(w.trialSeconds, "trialSeconds"), steps: try need(w.steps, "steps"),
                                       engine: engine, seed: c.inputSeed, progress: progress.say).result
        case .sparsity:
            let m = try model().model
            let shapes = matrixShapes(of: m)
            let grid = try need(w.rows, "rows").flatMap { rows in shapes.map { (m: rows, n: $0.n, k: $0.k) } }
            var warnings: [String] = []
            let (_, rows) = measureSparseCrossover(shapes: grid, sparsities: try need(w.sparsities, "sparsities"), threads: threads,
                                                   engine: engine, seed: c.inputSeed, model: m.name, warnings: &warnings,
                                                   progress: progress.say)
            return engine.result(kind: .sparsity, name: reported.suite, models: c.models, variants: c.variants, threads: c.threads,
                                 batchSizes: c.batchSizes, sequenceLengths: [], seed: c.inputSeed, workload: w, rows: rows,
                                 warnings: warnings)
        case .distill:
            var models: [(task: String, role: String, loaded: LoadedModel)] = []
            for name in c.models {
                guard let task = DistillationTask.all.first(where: { $0.name == name }) else {
                    throw ValidationError("\(path): \"\(name)\" is not a distillation task.")
                }
                for role in DistillationTask.Role.allCases {
                    models.append((task.name, role.rawValue, try ModelLoader.load("\(ModelLoader.modelsDirectory)/\(task.checkpointName(role))")))
                }
            }
            let result = try DistillBench.run(models, threads: threads, largeBatch: try need(w.maxBatch, "maxBatch"), policy: policy,
                                              seed: c.inputSeed, bootstrapResamples: c.bootstrapResamples, progress: progress.say)
            guard let envelope = result.envelope else { throw ValidationError("\(path): the distill replay produced no result.") }
            return envelope
        }
    }
}
