// `infbench run --plan P --job I`: one job of a plan, on whichever host the
// scheduler chose; the result goes to DIR/<job id>.json, atomically, and a
// rerun skips a job whose result is already there.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure

struct PlanJobOptions: ParsableArguments {
    @Option(help: "Run one job of this plan (written by `infbench plan`) instead of a grid.")
    var plan: String?

    @Option(help: "The job's index in the plan. (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)")
    var job: Int?

    @Option(help: "Directory for the job's result, <job id>.json (with a copy of the plan).")
    var results: String = "results"

    /// Run's grid options come from the plan: giving them too is a mistake worth a sentence.
    func check(models: [String], output: String?) throws {
        if !models.isEmpty { throw ValidationError("--plan takes its models from the plan file; leave out --model.") }
        if output != nil { throw ValidationError("--plan writes its result into --results DIR as <job id>.json; leave out --output.") }
        if let job, job < 0 { throw ValidationError("--job must be 0 or more, got \(job).") }
        if results.isEmpty { throw ValidationError("--results needs a directory name.") }
    }

    func run(_ planPath: String) throws {
        let plan = try BenchPlan.load(path: planPath)
        guard let index = try job ?? PlanRunner.indexFromEnvironment() else {
            throw ValidationError("--plan needs --job I (or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX from the scheduler); \(planPath) has jobs 0 to \(plan.jobs.count - 1).")
        }
        let job = try plan.job(index, path: planPath)
        if isDebugBuild {
            FileHandle.standardError.write(Data("WARNING: this is a DEBUG build; its timings mean nothing. Use `make build` (release).\n".utf8))
        }
        let outcome = try PlanRunner.run(plan: plan, path: planPath, index: index, directory: results) { suite in
            let runner = SuiteRunner(plan: suite, showProgress: true)
            let loaded = try runner.loadModels()
            Interrupt.install() // Ctrl-C: the job is not finished and writes no result
            return try runner.run(models: loaded)
        }
        switch outcome {
        case .skipped(let path):
            FileHandle.standardError.write(Data("job \(index) (\(job.id), \(job.label)) already finished: \(path); skipping it (delete that file to measure it again).\n".utf8))
        case .finished(let path, let result):
            print(printer(for: .table).render(result), terminator: "")
            FileHandle.standardError.write(Data("job \(index) (\(job.id), \(job.label)) finished on \(result.environment.hostname): wrote \(path)\n".utf8))
        }
    }
}
