// `infbench run`: expand the grid, measure it interleaved, print and save the result.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels
import InfTechniques

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark grid: model × technique × batch size × threads.",
        discussion: """
        With neither --model nor --techniques, runs the default suite (about five minutes on 2 cores): every bundled model \
        (and the real ones `make models` fetched) × every catalogue technique that applies to it, at batch 1 and a large \
        batch (32, or 16 or 8 for a heavy model) on all cores, then the runtime techniques (threads, KV cache, adaptive \
        softmax, prediction cache, dynamic batching) where they apply; it prints a summary that fits 120 columns (--full \
        adds every row). Otherwise it runs the grid asked for. Variants of one (model, batch, threads) group run interleaved; every raw sample is kept in the JSON output.
        """)

    @Option(name: .customLong("model"), help: "Bundled model name or model directory/config.json; repeat or comma-separate. (default: every bundled model but the distilled students)")
    var models: [String] = []

    @Option(help: "Comma-separated techniques (see `infbench list`); fp32 is always measured as the baseline.")
    var techniques: String?

    @Option(help: "Comma-separated batch sizes.")
    var batch: IntList = IntList([1, 8, 32])

    @Option(help: "Comma-separated thread counts. (default: 1 and all cores)")
    var threads: IntList?

    @Option(name: .customLong("seq-len"), help: "Comma-separated tokens per sequence for the transformers (the CNN ignores it).")
    var sequenceLengths: IntList = IntList([128])

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    @Flag(name: .customLong("no-aa"), help: "Leave out the A/A row (baseline against itself) that shows the noise floor.")
    var noAA = false

    @Flag(help: "After measuring, profile each variant's phases (embedding, attention projections and heads, FFN (GELU inside ffn.up), LayerNorm, LM head, conv; int8's quantize and GEMM…).")
    var profile = false

    @Option(help: "Seed for the generated inputs.")
    var seed: UInt64 = 42

    @Flag(name: .customLong("allow-long"), help: "Run even when the grid is estimated to take more than an hour.")
    var allowLong = false

    @Flag(name: .customLong("allow-nonfinite"), help: "Load checkpoints with NaN or ±inf weights (for experiments; quality columns will be NaN) instead of refusing them.")
    var allowNonFinite = false

    @Option(name: .customLong("bootstrap-resamples"), help: "Bootstrap resamples for speed-up confidence intervals.")
    var resamples: Int = 2000

    @Option(name: .customLong("roofline-size"), help: "Size n of the n×n×n sgemm measured as the roofline.")
    var rooflineSize: Int = 1024

    @Option(help: "Format printed on the terminal: table, markdown, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "Also write the result to this file (atomically), in the format its extension names: .json (with raw samples), .md, .csv; anything else gets the table.")
    var output: String?

    @Option(help: "Name of the suite, recorded in the result.")
    var suite: String = "default"

    @OptionGroup(title: "Plan jobs (infbench plan)")
    var planJob: PlanJobOptions

    @Flag(help: "Default suite: print the full per-instance table after the summary.")
    var full = false

    @Option(help: "Also write a self-contained HTML report (summary, charts, environment, warnings, every row) to this file.")
    var html: String?

    var threadList: [Int] {
        threads?.values ?? Array(Set([1, ProcessInfo.processInfo.activeProcessorCount])).sorted()
    }

    func validate() throws {
        if planJob.plan != nil { return try planJob.check(models: models, output: output) }
        try batch.check("--batch")
        try threads?.check("--threads")
        try sequenceLengths.check("--seq-len")
        if let output, output.isEmpty { throw ValidationError("--output needs a file name.") }
        // The one validation every replayed configuration also gets (RunValidation.swift).
        let specs = try modelSpecs()
        let configuration = RunConfiguration(
            models: specs.isEmpty ? ["(default suite)"] : specs, variants: try parsedTechniques().map(\.name),
            batchSizes: batch.values, threads: threadList, sequenceLengths: sequenceLengths.values,
            minSeconds: measurement.minSeconds, minRuns: measurement.minRuns, maxWarmupRuns: measurement.maxWarmupRuns,
            maxWarmupSeconds: measurement.maxWarmupSeconds, inputSeed: seed, bootstrapSeed: seed &+ 1,
            bootstrapResamples: resamples, threadPolicy: "")
        do { try configuration.validate(rooflineSize: rooflineSize) } catch let e as HarnessError { throw ValidationError(e.message) }
        _ = try parsedTechniques()
    }

    /// --model entries, comma-split; none means the default suite. An empty entry
    /// (`--model ""`, `--model a,,b`) is an error, not a request for every model.
    func modelSpecs() throws -> [String] {
        var specs: [String] = []
        for option in models {
            let parts = option.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !parts.contains(where: \.isEmpty) else {
                throw ValidationError("--model \"\(option)\" has an empty entry; give model names or paths separated by single commas (leave --model out for the default suite).")
            }
            specs += parts
        }
        if let dup = firstDuplicateEntry(specs) {
            throw ValidationError("--model lists \"\(dup)\" twice; the rows would not be told apart.")
        }
        return specs
    }

    func parsedTechniques() throws -> [Technique] {
        let techniques = self.techniques ?? "fp32"
        let names = techniques.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ValidationError("--techniques needs comma-separated names, got \"\(techniques)\".")
        }
        var list = try names.map { name -> Technique in
            do { return try Techniques.parse(name) } catch let e as TechniqueError { throw ValidationError("--techniques: \(e.message)") }
        }
        let parsed = list.map(\.name)
        if let dup = parsed.first(where: { n in parsed.filter { $0 == n }.count > 1 }) {
            throw ValidationError("--techniques lists \"\(dup)\" twice; rows would not be told apart.")
        }
        if !list.contains(where: { $0.name == FP32Baseline.name }) { list.insert(FP32Baseline(), at: 0) }
        // Keep fp32 first: it is the baseline everything is compared with.
        list.sort { a, _ in a.name == FP32Baseline.name }
        if !noAA && !list.contains(where: { $0.name == AABaseline.name }) { list.insert(AABaseline(), at: 1) }
        return list
    }

    func run() throws {
        if let planPath = planJob.plan { return try planJob.run(planPath) } // one job of a plan (PlanJob.swift)
        if allowNonFinite { ModelLoader.allowNonFiniteWeights = true }
        if isDefaultSuite { return try runDefaultSuite() }
        let modelSpecs = try modelSpecs()
        let specs = modelSpecs.isEmpty ? ModelLoader.defaultSuite() : modelSpecs
        guard !specs.isEmpty else {
            throw ValidationError("no models: none given with --model and none bundled in \(ModelLoader.modelsDirectory).")
        }
        var plan = SuitePlan(suite: suite, models: specs, techniques: try parsedTechniques(),
                             batchSizes: batch.values, threads: threadList, sequenceLengths: sequenceLengths.values,
                             policy: measurement.policy(seed: seed), inputSeed: seed, bootstrapSeed: seed &+ 1,
                             bootstrapResamples: resamples, rooflineSize: rooflineSize)
        plan.profile = profile
        let runner = SuiteRunner(plan: plan, showProgress: true)
        let loaded = try runner.loadModels()
        try checkDistinctModelNames(zip(specs, loaded).map { ($0, $1.model.name) })
        warnAboutOversubscription(threadList)
        if !allowLong {
            try ResourceCheck.checkDuration(ResourceCheck.estimatedSeconds(plan, models: loaded, sgemmGflopsPerThread: ResourceCheck.quickSgemmGflops()))
        }
        if let output {
            // Fail on an unwritable destination (or one of the inputs) now, not after minutes of measuring.
            try checkOutput(output, inputs: specs.flatMap { [$0, "\($0)/config.json", "\($0)/model.safetensors"] })
        }
        if isDebugBuild {
            FileHandle.standardError.write(Data("WARNING: this is a DEBUG build; its timings mean nothing. Use `make run` or `swift build -c release`.\n".utf8))
        }
        Interrupt.install() // Ctrl-C: stop after the group in hand, keep (print and save) the rows measured
        let result = try runner.run(models: loaded)
        print(printer(for: format).render(result), terminator: "")
        try save(result)
    }

    /// The end of every run: --output and --html written atomically, exit 130 when interrupted.
    func save(_ result: SuiteResult) throws {
        if let output {
            try writeAtomically(printer(for: OutputFormat.inferred(fromPath: output)).render(result), to: output)
            FileHandle.standardError.write(Data("wrote \(output)\(result.interrupted == true ? " (interrupted: the rows measured so far)" : "")\n".utf8))
        }
        if let html { try writeHTML(result, to: html) }
        if result.interrupted == true { throw ExitCode(130) }
    }
}

extension OutputFormat {
    /// json/csv/md by file extension, else the table.
    static func inferred(fromPath path: String) -> OutputFormat {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "json": return .json
        case "csv": return .csv
        case "md", "markdown": return .markdown
        default: return .table
        }
    }
}

/// Throws one sentence if `path` is a directory, or its directory does not exist or cannot be written.
func checkWritable(_ path: String) throws {
    var isDir: ObjCBool = false
    if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue) {
        throw ValidationError("--output \(path) is a directory; give a file name.")
    }
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        throw ValidationError("--output \(path): directory \(dir) does not exist.")
    }
    guard FileManager.default.isWritableFile(atPath: dir) else {
        throw ValidationError("--output \(path): directory \(dir) is not writable.")
    }
}
