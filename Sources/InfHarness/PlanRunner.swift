// Runs one job of a plan (Plan.swift in InfMeasure: the plan file, its jobs and ids) on
// this host: the job's suite plan, its result or failure file written atomically, the
// job index a scheduler sets. Here rather than beside the plan because a job's suite plan
// names techniques and models.
import Foundation
import InfMeasure
import InfModels
import InfTechniques

extension BenchPlan {
    /// Whether --seq-len applies to a model: transformers yes, unless trained on a dataset (they run at its length).
    public static func sequenceLengthApplies(_ model: String) throws -> Bool {
        let config = try ModelLoader.config(for: model)
        // Token models are the ones whose settings are a transformer's; images ignore --seq-len.
        return config.settings is TransformerConfig && config.dataset == nil
    }
}

/// What running one job came to.
public enum JobOutcome {
    /// Its result file was already there (a rerun): nothing was measured.
    case skipped(path: String)
    case finished(path: String, result: SuiteResult)
}

public enum PlanRunner {
    /// `<dir>/<job id>.json`
    public static func resultPath(_ job: PlanJob, in directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(job.id).json")
    }

    public static func failurePath(_ job: PlanJob, in directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(job.id).failed.json")
    }

    /// The finished result of `job` in `directory`, if one is there and really is that job's.
    public static func finishedResult(_ job: PlanJob, plan: BenchPlan, in directory: String) -> SuiteResult? {
        let path = resultPath(job, in: directory)
        guard let data = FileManager.default.contents(atPath: path),
              let result = try? decodeSuiteResult(from: data, path: path),
              result.job?.jobId == job.id, result.job?.planId == plan.id, result.interrupted != true else { return nil }
        return result
    }

    /// Makes `directory` (and its parents) and puts the plan there as plan.json, or checks that the one
    /// there is the same plan: one results directory never mixes two configurations.
    public static func prepare(directory: String, plan: BenchPlan) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError("cannot create the results directory \(directory): \(error.localizedDescription)")
        }
        let copy = (directory as NSString).appendingPathComponent("plan.json")
        if FileManager.default.fileExists(atPath: copy) {
            let there = try BenchPlan.load(path: copy)
            guard there.id == plan.id else {
                throw HarnessError("results directory \(directory) holds results of another plan (\(there.id), not \(plan.id)); give each plan its own directory.")
            }
        } else {
            try writeAtomically(plan.json(), to: copy)
        }
    }

    /// Runs job `index` of `plan` unless its result is already in `directory`; writes the result
    /// atomically as `<job id>.json`, or `<job id>.failed.json` with the error when the job throws.
    /// `measure` runs the job's suite plan (the real one loads the model and measures; tests pass a stand-in).
    public static func run(plan: BenchPlan, path: String, index: Int, directory: String,
                           measure: (SuitePlan) throws -> SuiteResult) throws -> JobOutcome {
        let job = try plan.job(index, path: path)
        try prepare(directory: directory, plan: plan)
        let output = resultPath(job, in: directory)
        if finishedResult(job, plan: plan, in: directory) != nil { return .skipped(path: output) }
        var result: SuiteResult
        do {
            result = try measure(try suitePlan(for: job, of: plan))
            if result.interrupted == true { throw HarnessError("the job was interrupted before it finished; run it again.") }
        } catch {
            let failure = JobFailure(planId: plan.id, jobId: job.id, index: job.index, hostname: readHostName(),
                                     timestamp: iso8601UTC(Date()), error: "\(error)")
            try? writeAtomically(canonicalJSON(failure) + "\n", to: failurePath(job, in: directory))
            throw error
        }
        result.job = JobReference(planId: plan.id, jobId: job.id, index: job.index, repetition: job.repetition)
        try writeAtomically(JSONPrinter().render(result), to: output)
        try? FileManager.default.removeItem(atPath: failurePath(job, in: directory))
        return .finished(path: output, result: result)
    }

    /// The one-group suite a job measures: its model, batch, length and threads; the plan's techniques,
    /// measurement settings and seeds.
    public static func suitePlan(for job: PlanJob, of plan: BenchPlan) throws -> SuitePlan {
        let c = plan.configuration
        let techniques = try c.variants.map { name -> Technique in
            do { return try Techniques.parse(name) } catch let e as TechniqueError {
                throw HarnessError("plan: technique \"\(name)\" is unknown to this infbench: \(e.message)")
            }
        }
        let policy = MeasurementPolicy(minSeconds: c.minSeconds, minRuns: c.minRuns, maxWarmupRuns: c.maxWarmupRuns,
                                       maxWarmupSeconds: c.maxWarmupSeconds, minWarmupSeconds: c.minWarmupSeconds ?? 0,
                                       orderSeed: c.orderSeed ?? c.inputSeed &+ 2)
        // A model without a sequence length of its own ignores this one (a CNN) or runs at its dataset's.
        let seq = job.sequenceLength ?? c.sequenceLengths.first ?? 128
        return SuitePlan(suite: plan.suite, models: [job.model], techniques: techniques, batchSizes: [job.batch],
                         threads: [job.threads], sequenceLengths: [seq], policy: policy, inputSeed: c.inputSeed,
                         bootstrapSeed: c.bootstrapSeed, bootstrapResamples: c.bootstrapResamples,
                         rooflineSize: c.rooflineSize ?? 1024)
    }

    /// The job index from the environment a scheduler sets: Slurm array tasks, Kubernetes Indexed Jobs.
    public static func indexFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
        for key in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] {
            guard let value = environment[key] else { continue }
            guard let index = Int(value), index >= 0 else {
                throw HarnessError("\(key)=\(value) is not a job index (a whole number from 0).")
            }
            return index
        }
        return nil
    }
}
