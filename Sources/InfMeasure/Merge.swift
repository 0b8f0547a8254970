// `infbench merge`: the job results of a plan, from one host or a whole cluster,
// combined into one result of kind `merge`. Raw latencies are never pooled
// across hosts: each row keeps its own host's samples, each speed-up is the one
// measured interleaved on one host, and only those ratios are summarised —
// across hosts of the same machine type, with an interval — while machine types
// stand side by side. Results of different builds or plans are refused unless
// asked for; jobs without a result are listed, with the error of a failed one.
import Foundation

/// What a merge adds to the envelope.
public struct MergeSummary: Codable, Sendable, Equatable {
    public var planId: String
    public var plannedJobs: Int
    /// Result files merged (a job repeated on two hosts, or in two directories, counts twice).
    public var mergedResults: Int
    public var hosts: [MergedHost]
    /// In order of first appearance.
    public var machineTypes: [String]
    public var speedups: [MergedSpeedup]
    /// Jobs of the plan with no result: never run (or killed), or failed with an error.
    public var missingJobs: [MissingJob]
    /// Mismatches `--allow-mismatch` let through (different builds, plans); nil when there were none.
    public var allowedMismatches: [String]?
}

/// One host's fingerprint, as its job results recorded it.
public struct MergedHost: Codable, Sendable, Equatable {
    public var hostname: String
    /// INFBENCH_MACHINE_TYPE when the job's environment set it, else the CPU model and logical cores.
    public var machineType: String
    public var cpuModel: String
    public var logicalCores: Int
    public var openblasCore: String
    public var kernelISA: String
    public var gitCommit: String
    public var buildConfiguration: String
    /// Ids of the jobs this host ran.
    public var jobs: [String]
    /// sgemm roofline of this host by thread count: the median over its jobs' own measurements.
    public var roofline: [HostRoofline]
}

public struct HostRoofline: Codable, Sendable, Equatable {
    public var threads: Int
    public var gflops: Double
    /// Jobs whose roofline measurements the median is taken over.
    public var jobs: Int
}

/// One variant's speed-up at one point on one machine type, summarised over that type's hosts.
public struct MergedSpeedup: Codable, Sendable, Equatable {
    public var machineType: String
    public var model: String
    public var variant: String
    public var baseline: String
    public var workload: String?
    public var batch: Int
    public var sequenceLength: Int?
    public var threads: Int
    /// Geometric mean over hosts of each host's speed-up (a host with repeats: their geometric mean).
    public var ratio: Double
    public var low: Double
    public var high: Double
    public var confidence: Double
    /// How [low, high] was found: a t interval over hosts, or one host's own bootstrap interval.
    public var interval: String
    public var hosts: Int
    public var withinNoise: Bool
    /// Every host's own speed-up, as measured on it.
    public var perHost: [HostSpeedup]
}

public struct HostSpeedup: Codable, Sendable, Equatable {
    public var host: String
    public var jobId: String
    public var ratio: Double
    public var low: Double
    public var high: Double
    public var withinNoise: Bool
}

public struct MissingJob: Codable, Sendable, Equatable {
    public var index: Int
    public var jobId: String
    public var label: String
    /// "missing" (no file: never ran, still running, or killed) or "failed" (it wrote its error).
    public var status: String
    public var error: String?
    public var host: String?
}

public enum Merger {
    /// The machine type a result's host counts as.
    public static func machineType(_ env: EnvironmentInfo) -> String {
        if let named = env.variables["INFBENCH_MACHINE_TYPE"], !named.isEmpty { return named }
        return "\(env.cpuModel), \(env.logicalCores) logical cores"
    }

    /// What must be equal for two results to be compared: the commit, the build configuration, the compiler.
    static func build(_ env: EnvironmentInfo) -> String {
        "commit \(env.gitCommit) (\(env.buildConfiguration) build, Swift \(env.swiftVersion))"
    }

    /// Reads every directory (its plan.json unless `planPath` names the plan, its `<job id>.json`
    /// results and `<job id>.failed.json` failures) and merges them.
    public static func merge(directories: [String], planPath: String?, allowMismatch: Bool) throws -> SuiteResult {
        guard !directories.isEmpty else { throw HarnessError("merge needs at least one results directory.") }
        var plans: [(path: String, plan: BenchPlan)] = []
        if let planPath { plans.append((planPath, try BenchPlan.load(path: planPath))) }
        var results: [(path: String, result: SuiteResult)] = []
        var failures: [JobFailure] = []
        var seen = Set<String>()
        for dir in directories {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw HarnessError("results directory \(dir) does not exist (or is not a directory).")
            }
            let copy = (dir as NSString).appendingPathComponent("plan.json")
            if FileManager.default.fileExists(atPath: copy) {
                plans.append((copy, try BenchPlan.load(path: copy)))
            } else if planPath == nil {
                throw HarnessError("results directory \(dir) has no plan.json; name the plan with --plan.")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            for name in names where name.hasSuffix(".json") && name != "plan.json" && !name.hasPrefix(".") {
                let path = (dir as NSString).appendingPathComponent(name)
                let real = (path as NSString).resolvingSymlinksInPath
                guard seen.insert(real).inserted else { continue }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw HarnessError("\(path) cannot be read.")
                }
                if name.hasSuffix(".failed.json") {
                    do { failures.append(try JSONDecoder().decode(JobFailure.self, from: data)) } catch {
                        throw HarnessError("\(path) is not a job failure record of infbench (corrupt?); remove it or run the job again.")
                    }
                    continue
                }
                let result = try decodeSuiteResult(from: data, path: path)
                if result.kind == .merge { continue } // an earlier merge written beside the jobs
                guard result.job != nil else {
                    throw HarnessError("\(path) is not the result of a plan job (it has no job field); only `run --plan --job` results merge.")
                }
                results.append((path, result))
            }
        }
        guard let primary = plans.first else { throw HarnessError("no plan: give --plan or a results directory with plan.json.") }
        var mismatches: [String] = []
        for other in plans.dropFirst() where other.plan.id != primary.plan.id {
            mismatches.append("\(other.path) is plan \(other.plan.id), but \(primary.path) is plan \(primary.plan.id): their configurations differ.")
        }
        return try combine(plan: primary.plan, results: results, failures: failures, allowMismatch: allowMismatch,
                           mismatches: mismatches)
    }

    /// Merges decoded job results of `plan`. Throws one sentence for a mismatch unless `allowMismatch`.
    public static func combine(plan: BenchPlan, results: [(path: String, result: SuiteResult)], failures: [JobFailure],
                               allowMismatch: Bool, mismatches known: [String] = []) throws -> SuiteResult {
        var mismatches = known
        // One plan (one configuration) …
        for (path, r) in results where r.job?.planId != plan.id {
            mismatches.append("\(path) is a job of plan \(r.job?.planId ?? "none"), not of plan \(plan.id): its configuration differs.")
        }
        // … and one build.
        var builds: [String: [String]] = [:]
        for (path, r) in results { builds[build(r.environment), default: []].append(path) }
        if builds.count > 1 {
            let list = builds.sorted { $0.key < $1.key }.map { "\($0.key) in \($0.value.count) file(s), e.g. \($0.value[0])" }
            mismatches.append("the results come from \(builds.count) different builds: " + list.joined(separator: "; ") + ".")
        }
        if !mismatches.isEmpty && !allowMismatch {
            throw HarnessError("refusing to merge: \(mismatches[0]) Rebuild and rerun one version everywhere, or pass --allow-mismatch to merge anyway.")
        }
        guard !results.isEmpty else {
            throw HarnessError("nothing to merge: none of the \(plan.jobs.count) jobs of plan \(plan.id) has a result yet.")
        }

        let ordered = results.map(\.result).sorted {
            ($0.job!.index, $0.environment.hostname, $0.environment.timestamp) < ($1.job!.index, $1.environment.hostname, $1.environment.timestamp)
        }
        // Hosts, in order of first appearance.
        var hosts: [MergedHost] = []
        var machineTypes: [String] = []
        var rooflines: [String: [Int: [Double]]] = [:]
        for r in ordered {
            let env = r.environment
            let type = machineType(env)
            if !machineTypes.contains(type) { machineTypes.append(type) }
            if let i = hosts.firstIndex(where: { $0.hostname == env.hostname }) {
                hosts[i].jobs.append(r.job!.jobId)
            } else {
                hosts.append(MergedHost(hostname: env.hostname, machineType: type, cpuModel: env.cpuModel, logicalCores: env.logicalCores,
                                        openblasCore: env.openblasCore, kernelISA: env.kernelISA, gitCommit: env.gitCommit,
                                        buildConfiguration: env.buildConfiguration, jobs: [r.job!.jobId], roofline: []))
            }
            for point in r.roofline { rooflines[env.hostname, default: [:]][point.threads, default: []].append(point.gflops) }
        }
        for i in hosts.indices {
            hosts[i].roofline = (rooflines[hosts[i].hostname] ?? [:]).sorted { $0.key < $1.key }
                .map { HostRoofline(threads: $0.key, gflops: median($0.value), jobs: $0.value.count) }
        }

        // Rows stay per host, each with its own samples.
        var rows: [ResultRow] = []
        var warnings: [String] = []
        for r in ordered {
            for var row in r.rows {
                row.host = r.environment.hostname
                rows.append(row)
            }
            for w in r.warnings {
                let line = "\(r.environment.hostname), job \(r.job!.index): \(w)"
                if !warnings.contains(line) { warnings.append(line) }
            }
        }

        let speedups = summarise(ordered)

        // Jobs without a result.
        let finished = Set(ordered.map { $0.job!.jobId })
        var missing: [MissingJob] = []
        for job in plan.jobs where !finished.contains(job.id) {
            if let f = failures.filter({ $0.jobId == job.id }).max(by: { $0.timestamp < $1.timestamp }) {
                missing.append(MissingJob(index: job.index, jobId: job.id, label: job.label, status: "failed", error: f.error, host: f.hostname))
            } else {
                missing.append(MissingJob(index: job.index, jobId: job.id, label: job.label, status: "missing"))
            }
        }
        var own: [String] = []
        if !missing.isEmpty {
            own.append("\(missing.count) of \(plan.jobs.count) jobs have no result (\(missing.filter { $0.status == "failed" }.count) failed): "
                       + "job \(missing.map { String($0.index) }.joined(separator: ", ")); rerun them — finished jobs are skipped.")
        }
        for m in mismatches { own.append("merged despite a mismatch (--allow-mismatch): \(m)") }

        var environment = ordered[0].environment
        environment.hostname = hosts.map(\.hostname).joined(separator: ", ")
        if machineTypes.count > 1 { environment.cpuModel = machineTypes.joined(separator: " | ") }
        if builds.count > 1 { environment.gitCommit = Set(ordered.map(\.environment.gitCommit)).sorted().joined(separator: ", ") }
        environment.timestamp = iso8601UTC(Date())
        environment.loadAverage = []
        let summary = MergeSummary(planId: plan.id, plannedJobs: plan.jobs.count, mergedResults: ordered.count, hosts: hosts,
                                   machineTypes: machineTypes, speedups: speedups, missingJobs: missing,
                                   allowedMismatches: mismatches.isEmpty ? nil : mismatches)
        var result = SuiteResult(kind: .merge, suite: plan.suite, environment: environment, configuration: plan.configuration,
                                 roofline: [], rows: rows, warnings: own + warnings)
        result.merge = summary
        return result
    }

    /// Speed-ups per (machine type, model, variant, point): each host's own ratio (the geometric mean of its
    /// repeats), then over the type's hosts the geometric mean with a t interval of the log ratios; with one
    /// host, that host's bootstrap interval (repeats: from the lowest to the highest bound).
    static func summarise(_ results: [SuiteResult]) -> [MergedSpeedup] {
        struct Key: Hashable {
            var type: String, model: String, variant: String, workload: String?, batch: Int, seq: Int?, threads: Int, point: String?
        }
        var order: [Key] = []
        var byKey: [Key: [(host: String, jobId: String, speedup: Speedup)]] = [:]
        for r in results {
            for row in r.rows {
                guard let s = row.speedup else { continue }
                let key = Key(type: machineType(r.environment), model: row.model, variant: row.variant, workload: row.workload,
                              batch: row.batch, seq: row.sequenceLength, threads: row.threads, point: row.point)
                if byKey[key] == nil { order.append(key) }
                byKey[key, default: []].append((r.environment.hostname, r.job?.jobId ?? "", s))
            }
        }
        return order.map { key in
            let entries = byKey[key]!
            var hostOrder: [String] = []
            for e in entries where !hostOrder.contains(e.host) { hostOrder.append(e.host) }
            let perHostLog = hostOrder.map { h in mean(entries.filter { $0.host == h }.map { log($0.speedup.ratio) }) }
            let confidence = entries[0].speedup.confidence
            var ratio = exp(mean(perHostLog)), low: Double, high: Double, how: String
            if hostOrder.count >= 2 {
                let n = Double(perHostLog.count)
                let m = mean(perHostLog)
                let sd = (perHostLog.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot()
                let half = tQuantile975(degreesOfFreedom: perHostLog.count - 1) * sd / n.squareRoot()
                (low, high) = (exp(m - half), exp(m + half))
                ratio = exp(m)
                how = "95% t interval of the log speed-ups over \(hostOrder.count) hosts"
            } else if entries.count == 1 {
                (low, high) = (entries[0].speedup.low, entries[0].speedup.high)
                how = "one host: its own bootstrap interval"
            } else {
                (low, high) = (entries.map(\.speedup.low).min()!, entries.map(\.speedup.high).max()!)
                how = "one host, \(entries.count) repeats: lowest to highest bootstrap bound"
            }
            let withinNoise = (low <= 1 && 1 <= high) || (hostOrder.count == 1 && entries.allSatisfy(\.speedup.withinNoise))
            return MergedSpeedup(machineType: key.type, model: key.model, variant: key.variant, baseline: entries[0].speedup.baseline,
                                 workload: key.workload, batch: key.batch, sequenceLength: key.seq, threads: key.threads, ratio: ratio,
                                 low: low, high: high, confidence: hostOrder.count >= 2 ? 0.95 : confidence, interval: how,
                                 hosts: hostOrder.count, withinNoise: withinNoise,
                                 perHost: entries.map { HostSpeedup(host: $0.host, jobId: $0.jobId, ratio: $0.speedup.ratio, low: $0.speedup.low,
                                                                    high: $0.speedup.high, withinNoise: $0.speedup.withinNoise) })
        }
    }

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Two-sided 95% quantile of Student's t (tables to 30 degrees of freedom, then the normal's 1.96).
    static func tQuantile975(degreesOfFreedom df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        return df >= 1 && df <= table.count ? table[df - 1] : 1.96
    }
}

/// The text `show` prints for a merged result: machine types and hosts, speed-ups with machine types
/// side by side, every host's rows, missing jobs, warnings.
public enum MergeReport {
    public static func render(_ result: SuiteResult) -> String {
        guard let m = result.merge else { return TablePrinter().render(result) }
        var out: [String] = []
        out.append("infbench merge: \(result.suite) — plan \(m.planId), \(m.mergedResults) result(s) for \(m.plannedJobs) job(s) on \(m.hosts.count) host(s)")
        out.append("build:      commit \(result.environment.gitCommit), \(result.environment.buildConfiguration) build, Swift \(result.environment.swiftVersion)")
        if result.environment.buildConfiguration == "debug" { out.append("WARNING: DEBUG build: these timings mean nothing.") }
        out.append("")
        out.append("Machine types (speed-ups are measured interleaved on one host; latencies are never pooled across hosts):")
        for (i, type) in m.machineTypes.enumerated() {
            out.append("  [\(i + 1)] \(type)")
            for h in m.hosts where h.machineType == type {
                let roof = h.roofline.map { "\($0.threads) thr \(fixed($0.gflops, 1)) GFLOP/s" }.joined(separator: ", ")
                out.append("      \(h.hostname): \(h.jobs.count) job(s); OpenBLAS core \(h.openblasCore), kernels \(h.kernelISA); sgemm roofline \(roof.isEmpty ? "—" : roof)")
            }
        }
        out.append("")
        // Speed-ups: one row per (model, variant, point), one column per machine type.
        struct Point: Hashable { var model: String, variant: String, batch: Int, seq: Int?, threads: Int, workload: String? }
        var points: [Point] = []
        for s in m.speedups {
            let p = Point(model: s.model, variant: s.variant, batch: s.batch, seq: s.sequenceLength, threads: s.threads, workload: s.workload)
            if !points.contains(p) { points.append(p) }
        }
        let header = ["model", "variant", "batch", "seq", "thr"] + m.machineTypes.indices.map { "speed-up on [\($0 + 1)]" }
        let cells = points.map { p -> [String] in
            [p.model, p.variant, String(p.batch), p.seq.map(String.init) ?? "—", String(p.threads)] + m.machineTypes.map { type in
                guard let s = m.speedups.first(where: { $0.machineType == type && $0.model == p.model && $0.variant == p.variant
                    && $0.batch == p.batch && $0.sequenceLength == p.seq && $0.threads == p.threads && $0.workload == p.workload }) else { return "—" }
                return "\(fixed(s.ratio, 3))× [\(fixed(s.low, 3))–\(fixed(s.high, 3))] \(s.hosts) host\(s.hosts == 1 ? "" : "s")\(s.withinNoise ? " ~" : "")"
            }
        }
        out.append("Speed-ups against the baseline (geometric mean over a machine type's hosts; ~ inside the noise):")
        out.append(contentsOf: alignedTable(header: header, numeric: header.indices.map { $0 >= 2 }, rows: cells).map { "  \($0)" })
        if !m.speedups.isEmpty { out.append("  interval: " + Set(m.speedups.map(\.interval)).sorted().joined(separator: "; ")) }
        out.append("")
        out.append("Every host's rows (its own samples):")
        let rowHeader = ["host", "model", "variant", "batch", "seq", "thr", "median ms", "p90 ms", "n", "speed-up"]
        let rowCells = result.rows.map { r -> [String] in
            [r.host ?? "?", r.model, r.variant, String(r.batch), r.sequenceLength.map(String.init) ?? "—", String(r.threads),
             fixed(r.stats.median * 1e3, 3), fixed(r.stats.p90 * 1e3, 3), String(r.stats.count),
             r.speedup.map { "\(fixed($0.ratio, 3))× [\(fixed($0.low, 3))–\(fixed($0.high, 3))]\($0.withinNoise ? " ~" : "")" } ?? "baseline"]
        }
        out.append(contentsOf: alignedTable(header: rowHeader, numeric: rowHeader.indices.map { $0 >= 3 }, rows: rowCells).map { "  \($0)" })
        out.append("")
        if m.missingJobs.isEmpty {
            out.append("Missing or failed jobs: none")
        } else {
            out.append("Missing or failed jobs (\(m.missingJobs.count) of \(m.plannedJobs)):")
            for j in m.missingJobs {
                out.append("  job \(j.index) \(j.jobId) \(j.label): \(j.status)" + (j.host.map { " on \($0)" } ?? "") + (j.error.map { ": \($0)" } ?? ""))
            }
        }
        if result.warnings.isEmpty {
            out.append("Warnings: none")
        } else {
            out.append("Warnings:")
            out.append(contentsOf: result.warnings.map { "  ! \($0)" })
        }
        return out.joined(separator: "\n") + "\n"
    }
}
