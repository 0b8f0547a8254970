// `infbench plan`: split a grid (run's options) into jobs — one comparison group
// each — and write the plan file; with --slurm, also an sbatch script that runs
// one array task per job on a whole node.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels
import InfTechniques

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split a benchmark grid into jobs for a cluster; write the plan (and a Slurm script).",
        discussion: """
        Takes run's grid options. A job is one comparison group: every variant and the A/A row of one \
        (model, batch, sequence length, threads), measured interleaved on one host. Run job I with \
        `infbench run --plan PLAN --job I --results DIR` (or let SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX \
        give I), then combine with `infbench merge DIR --output merged.json`.
        """)

    @Option(name: .customLong("model"), help: "Bundled model name or model directory; repeat or comma-separate. Paths must be the same on every node. (default: every bundled model but the distilled students)")
    var models: [String] = []

    @Option(help: "Comma-separated techniques (see `infbench list`); fp32 is always the baseline.")
    var techniques: String = "fp32"

    @Option(help: "Comma-separated batch sizes.")
    var batch: IntList = IntList([1, 8, 32])

    @Option(help: "Comma-separated thread counts (the nodes' cores are not known here: give them).")
    var threads: IntList = IntList([1])

    @Option(name: .customLong("seq-len"), help: "Comma-separated tokens per sequence for the transformers.")
    var sequenceLengths: IntList = IntList([128])

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    @Flag(name: .customLong("no-aa"), help: "Leave out the A/A row.")
    var noAA = false

    @Option(help: "Seed for the generated inputs.")
    var seed: UInt64 = 42

    @Option(name: .customLong("bootstrap-resamples"), help: "Bootstrap resamples for speed-up confidence intervals.")
    var resamples: Int = 2000

    @Option(name: .customLong("roofline-size"), help: "Size n of the n×n×n sgemm measured as each host's roofline.")
    var rooflineSize: Int = 1024

    @Option(help: "Name of the suite, recorded in every result.")
    var suite: String = "default"

    @Option(name: .customLong("repeat"), help: "Jobs per comparison group, so a scheduler can spread each over several hosts.")
    var repeats: Int = 1

    @Option(help: "Write the plan here (atomically).")
    var output: String = "plan.json"

    @Option(help: "Also write an sbatch script here: one array task per job, whole nodes.")
    var slurm: String?

    @Option(help: "The script's results directory (where each job writes <job id>.json).")
    var results: String = "results"

    @Option(name: .customLong("max-running"), help: "The script's limit on array tasks in flight (sbatch --array …%N).")
    var maxRunning: Int = 4

    @Option(help: "The script's Slurm partition (default: the cluster's default).")
    var partition: String?

    @Option(name: .customLong("time-limit"), help: "The script's time limit per task, e.g. 00:30:00.")
    var timeLimit: String = "01:00:00"

    @Option(help: "The infbench the script runs on the nodes. (default: this binary)")
    var infbench: String?

    func validate() throws {
        try batch.check("--batch", RunConfiguration.Limits.batch)
        try threads.check("--threads", RunConfiguration.Limits.threads)
        try sequenceLengths.check("--seq-len", RunConfiguration.Limits.sequenceLength)
        try checkRange("--repeat", repeats, 1...1000)
        try checkRange("--max-running", maxRunning, 1...100_000)
        if output.isEmpty { throw ValidationError("--output needs a file name.") }
        if let slurm, slurm.isEmpty { throw ValidationError("--slurm needs a file name.") }
        if results.isEmpty { throw ValidationError("--results needs a directory name.") }
        if let slurm, slurm == output { throw ValidationError("--slurm and --output are the same file, \(output).") }
        _ = try techniqueNames()
    }

    /// Technique names as `run` orders them: fp32 first, then its A/A (unless --no-aa), then the rest.
    func techniqueNames() throws -> [String] {
        let typed = techniques.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !typed.contains(where: \.isEmpty) else {
            throw ValidationError("--techniques needs comma-separated names, got \"\(techniques)\".")
        }
        var names = try typed.map { name -> String in
            do { return try Techniques.parse(name).name } catch let e as TechniqueError { throw ValidationError("--techniques: \(e.message)") }
        }
        if let dup = firstDuplicateEntry(names) { throw ValidationError("--techniques lists \"\(dup)\" twice; rows would not be told apart.") }
        names.removeAll { $0 == FP32Baseline.name || $0 == AABaseline.name }
        return [FP32Baseline.name] + (noAA ? [] : [AABaseline.name]) + names
    }

    func run() throws {
        var specs: [String] = []
        for option in models {
            let parts = option.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !parts.contains(where: \.isEmpty) else { throw ValidationError("--model \"\(option)\" has an empty entry.") }
            specs += parts
        }
        if let dup = firstDuplicateEntry(specs) { throw ValidationError("--model lists \"\(dup)\" twice; the rows would not be told apart.") }
        if specs.isEmpty { specs = ModelLoader.defaultSuite() }
        guard !specs.isEmpty else { throw ValidationError("no models: none given with --model and none bundled in \(ModelLoader.modelsDirectory).") }
        let policy = measurement.policy(seed: seed)
        let configuration = RunConfiguration(
            models: specs, variants: try techniqueNames(), batchSizes: batch.values, threads: threads.values,
            sequenceLengths: sequenceLengths.values, minSeconds: policy.minSeconds, minRuns: policy.minRuns,
            maxWarmupRuns: policy.maxWarmupRuns, maxWarmupSeconds: policy.maxWarmupSeconds, inputSeed: seed,
            bootstrapSeed: seed &+ 1, bootstrapResamples: resamples, threadPolicy: Engine.threadPolicy,
            orderSeed: policy.orderSeed, minWarmupSeconds: policy.minWarmupSeconds, rooflineSize: rooflineSize)
        do { try configuration.validate(rooflineSize: rooflineSize) } catch let e as HarnessError { throw ValidationError(e.message) }
        // Every problem is found before anything is written: models resolve, outputs can be written.
        let plan = try BenchPlan.expand(suite: suite, configuration: configuration, repeats: repeats,
                                        lengths: BenchPlan.sequenceLengthApplies)
        try checkOutput(output, inputs: [])
        let script: String? = try slurm.map { path in
            try checkOutput(path, inputs: [output])
            let logs = (absolute(results) as NSString).appendingPathComponent("logs")
            return SlurmScript.render(plan: plan, planPath: absolute(output), results: absolute(results), logs: logs,
                                      infbench: infbench ?? absolute(CommandLine.arguments[0]), maxRunning: maxRunning,
                                      partition: partition, timeLimit: timeLimit)
        }
        try writeAtomically(plan.json(), to: output)
        FileHandle.standardError.write(Data("wrote \(output): plan \(plan.id), \(plan.jobs.count) job\(plan.jobs.count == 1 ? "" : "s")\n".utf8))
        if let slurm, let script {
            // sbatch opens a task's log before the task runs: its directory must exist at submission.
            let logs = (absolute(results) as NSString).appendingPathComponent("logs")
            do { try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true) } catch {
                throw ValidationError("cannot create the log directory \(logs): \(error.localizedDescription)")
            }
            try writeAtomically(script, to: slurm)
            chmod(slurm, 0o755)
            FileHandle.standardError.write(Data("wrote \(slurm): submit with `sbatch \(slurm)`\n".utf8))
        }
        for job in plan.jobs { print("\(job.index)\t\(job.id)\t\(job.label)") }
    }
}

/// `path` made absolute against the working directory (the script runs elsewhere).
func absolute(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    if !path.contains("/"), let found = searchPath(path) { return found }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
}

/// Where a bare command name (argv[0] without a slash) is found on PATH.
private func searchPath(_ name: String) -> String? {
    guard name == (CommandLine.arguments.first ?? "") else { return nil }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// The sbatch script for a plan.
enum SlurmScript {
    static func render(plan: BenchPlan, planPath: String, results: String, logs: String, infbench: String,
                       maxRunning: Int, partition: String?, timeLimit: String) -> String {
        var lines = [
            "#!/bin/bash",
            "# infbench plan \(plan.id): \(plan.jobs.count) job(s), one Slurm array task each. Submit with `sbatch <this file>`;",
            "# then `\(infbench) merge \(results) --output merged.json`. Rerunning skips finished jobs.",
            "#SBATCH --job-name=infbench-\(plan.id.prefix(8))",
            // One task per job; at most maxRunning in flight, so a sweep leaves the cluster room.
            "#SBATCH --array=0-\(plan.jobs.count - 1)%\(maxRunning)",
            // Whole nodes: two jobs never share a node's cores, caches or memory bandwidth.
            "#SBATCH --exclusive",
            "#SBATCH --nodes=1",
            "#SBATCH --ntasks=1",
            "#SBATCH --time=\(timeLimit)",
            // %A the array's job id, %a the task index: one log per task.
            "#SBATCH --output=\(logs)/infbench-%A_%a.log",
        ]
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        lines += [
            "set -euo pipefail",
            "echo \"infbench job ${SLURM_ARRAY_TASK_ID} of plan \(plan.id) on $(hostname)\"",
            "exec \(shellQuote(infbench)) run --plan \(shellQuote(planPath)) --job \"${SLURM_ARRAY_TASK_ID}\" --results \(shellQuote(results))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func shellQuote(_ s: String) -> String {
        if s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
