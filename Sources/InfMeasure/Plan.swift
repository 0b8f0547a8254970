// A grid split into jobs for a cluster: `infbench plan` writes a plan file,
// `infbench run --plan P --job I` runs one job on whatever host a scheduler
// (a Slurm job array, a Kubernetes Indexed Job, GNU parallel, a loop) puts it.
// A job is one comparison group — every variant and the A/A of one (model,
// workload point, threads) — so each speed-up is measured interleaved on one
// host and never built from two hosts' latencies. Job ids hash the job's whole
// content, so a rerun finds its finished file and a widened grid keeps the ids
// of the jobs it already had.
// Running a job (PlanRunner, in InfHarness) needs the techniques, so it is not here.
import Foundation

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
public func canonicalJSON<T: Encodable>(_ value: T) -> String {
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

/// A job that threw instead of finishing: written beside the results as `<id>.failed.json`
/// so `merge` can list why it failed.
public struct JobFailure: Codable, Sendable, Equatable {
    public var planId: String
    public var jobId: String
    public var index: Int
    public var hostname: String
    public var timestamp: String
    public var error: String

    public init(planId: String, jobId: String, index: Int, hostname: String, timestamp: String, error: String) {
        (self.planId, self.jobId, self.index) = (planId, jobId, index)
        (self.hostname, self.timestamp, self.error) = (hostname, timestamp, error)
    }
}
