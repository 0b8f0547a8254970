// A grid split into jobs for a cluster: `infbench plan` writes a plan file,
// `infbench run --plan P --job I` runs one job on whatever host a scheduler
// (a Slurm job array, a Kubernetes Indexed Job, GNU parallel, a loop) puts it.
// A job is one comparison group — every variant and the A/A of one (model,
// workload point, threads) — so each speed-up is measured interleaved on one
// host and never built from two hosts' latencies. Job ids hash the job's whole
// content, so a rerun finds its finished file and a widened grid keeps the ids
// of the jobs it already had.
import Foundation
import InfModels
import InfTechniques

/// One comparison group of a plan.
public struct PlanJob: Codable, Sendable, Equatable {
    /// Position in the plan: what `--job`, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX give.
    public var index: Int
    /// Content hash (16 hex digits) of the job and every setting it is measured with.
    public var id: String
    public var model: String
    public var batch: Int
    /// Tokens per sequence; nil for the CNNs (no sequence) and models trained on a dataset (its length).
    public var sequenceLength: Int?
    public var threads: Int
    /// 0-based repetition of the same group (plan --repeat), so a scheduler can spread it over hosts.
    public var repetition: Int

    /// "encoder-small batch 8 × 128 tokens × 1 thr (repeat 2)"
    public var label: String {
        "\(model) batch \(batch)" + (sequenceLength.map { " × \($0) tokens" } ?? "") + " × \(threads) thr"
            + (repetition > 0 ? " (repeat \(repetition + 1))" : "")
    }
}

/// Which job of which plan a result file holds (set on the results of `run --plan --job`).
public struct JobReference: Codable, Sendable, Equatable {
    public var planId: String
    public var jobId: String
    public var index: Int
    public var repetition: Int
    public init(planId: String, jobId: String, index: Int, repetition: Int) {
        self.planId = planId
        self.jobId = jobId
        self.index = index
        self.repetition = repetition
    }
}

/// The plan file: the grid's configuration and its jobs, versioned.
public struct BenchPlan: Codable, Sendable, Equatable {
    public static let currentVersion = 1
    public var planVersion: Int = BenchPlan.currentVersion
    /// Hash of the configuration and every job id.
    public var id: String
    public var suite: String
    /// The whole grid and its measurement settings; `variants` are technique names, fp32 (and its A/A) first.
    public var configuration: RunConfiguration
    public var repeats: Int
    /// The build that wrote the plan (results are checked against each other, not against this).
    public var gitCommit: String
    public var createdAt: String
    public var jobs: [PlanJob]

    /// Expands `configuration` into jobs: model × sequence length × batch × threads × repetition, in that
    /// order. `lengths(model)` says which sequence lengths apply to a model: nil for a model without
    /// one (a CNN) or with its own (trained on a dataset), so such a model gets one job per batch and threads.
    public static func expand(suite: String, configuration: RunConfiguration, repeats: Int,
                              lengths: (String) throws -> Bool) rethrows -> BenchPlan {
        precondition(repeats >= 1)
        var jobs: [PlanJob] = []
        for model in configuration.models {
            let seqs: [Int?] = try lengths(model) ? configuration.sequenceLengths.map { $0 } : [nil]
            for seq in seqs {
                for batch in configuration.batchSizes {
                    for threads in configuration.threads {
                        for r in 0..<repeats {
                            var job = PlanJob(index: jobs.count, id: "", model: model, batch: batch, sequenceLength: seq,
                                              threads: threads, repetition: r)
                            job.id = jobId(job, suite: suite, configuration: configuration)
                            jobs.append(job)
                        }
                    }
                }
            }
        }
        let id = hashHex(canonicalJSON(configuration) + suite + jobs.map(\.id).joined(separator: ","))
        return BenchPlan(id: id, suite: suite, configuration: configuration, repeats: repeats,
                         gitCommit: EnvironmentInfo.capture().gitCommit, createdAt: iso8601UTC(Date()), jobs: jobs)
    }

    /// Whether --seq-len applies to a model: transformers yes, unless trained on a dataset (they run at its length).
    public static func sequenceLengthApplies(_ model: String) throws -> Bool {
        let config = try ModelLoader.config(for: model)
        // Token models are the ones whose settings are a transformer's; images ignore --seq-len.
        return config.settings is TransformerConfig && config.dataset == nil
    }

    /// The hash of everything that decides what a job measures: its own point, and the configuration
    /// with the grid's lists narrowed to that point (so adding a batch size elsewhere keeps this id).
    static func jobId(_ job: PlanJob, suite: String, configuration: RunConfiguration) -> String {
        var c = configuration
        c.models = [job.model]
        c.batchSizes = [job.batch]
        c.threads = [job.threads]
        c.sequenceLengths = job.sequenceLength.map { [$0] } ?? []
        return hashHex(canonicalJSON(c) + "|suite=\(suite)|repetition=\(job.repetition)")
    }

    /// Reads and checks a plan file; every problem is one sentence naming the file.
    public static func load(path: String) throws -> BenchPlan {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw HarnessError("plan file \(path) does not exist; write one with `infbench plan --output \(path)`.")
        }
        guard !isDir.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError("plan file \(path) cannot be read (a directory, or no permission).")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError("plan file \(path) is not a JSON object (is it corrupt or truncated?).")
        }
        guard let version = object["planVersion"] as? Int else {
            throw HarnessError("plan file \(path) is not an infbench plan (it has no planVersion field).")
        }
        guard version == currentVersion else {
            throw HarnessError("plan file \(path) has plan version \(version), but this infbench reads version \(currentVersion).")
        }
        let plan: BenchPlan
        do { plan = try JSONDecoder().decode(BenchPlan.self, from: data) } catch {
            throw HarnessError("plan file \(path) is not a valid infbench plan (a field is missing or of the wrong type; was it edited by hand?).")
        }
        try plan.configuration.validate(source: .file(path), rooflineSize: plan.configuration.rooflineSize)
        guard !plan.jobs.isEmpty else { throw HarnessError("plan file \(path) has no jobs.") }
        for (i, job) in plan.jobs.enumerated() {
            guard job.index == i, job.id == jobId(job, suite: plan.suite, configuration: plan.configuration) else {
                throw HarnessError("plan file \(path): job \(i) does not match its id (the file was edited by hand); write the plan again with `infbench plan`.")
            }
        }
        return plan
    }

    /// The job at `index`, or one sentence saying which indices exist.
    public func job(_ index: Int, path: String) throws -> PlanJob {
        guard jobs.indices.contains(index) else {
            throw HarnessError("job index \(index) is out of range: plan \(path) has \(jobs.count) job\(jobs.count == 1 ? "" : "s"), numbered 0 to \(jobs.count - 1).")
        }
        return jobs[index]
    }

    /// Pretty, stable JSON of the plan.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}

/// Sorted-key JSON of a value: the same bytes for the same content in every process.
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = nonFiniteStrategy.encode
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

/// 16 hex digits: FNV-1a 64 of the text (stable across processes and machines).
func hashHex(_ text: String) -> String {
    let h = stableHash(text)
    let digits = String(h, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

/// What running one job came to.
public enum JobOutcome {
    /// Its result file was already there (a rerun): nothing was measured.
    case skipped(path: String)
    case finished(path: String, result: SuiteResult)
}

/// A job that threw instead of finishing: written beside the results as `<id>.failed.json`
/// so `merge` can list why it failed.
public struct JobFailure: Codable, Sendable, Equatable {
    public var planId: String
    public var jobId: String
    public var index: Int
    public var hostname: String
    public var timestamp: String
    public var error: String
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
