// Comparing results (two machines, two commits, two settings): rows are matched
// by configuration. A verdict must survive a second run, so it never rests on the
// spread inside one run alone: a variant with a speed-up in both sides is judged
// on its within-run speed-ups (drift between runs cancels in a ratio measured
// interleaved); an absolute time is judged only with several independent runs per
// side, on run-level medians, against the run-to-run spread those runs show.
import Foundation

/// What identifies a row in both files.
public struct RowKey: Codable, Hashable, Sendable {
    public var model: String
    public var variant: String
    public var batch: Int
    public var sequenceLength: Int?
    public var threads: Int
    /// The workload and its point (nil: a forward pass, as in schema 1).
    public var workload: String?
    public var point: String?

    public init(_ row: ResultRow) {
        model = row.model
        variant = row.variant
        batch = row.batch
        sequenceLength = row.sequenceLength
        threads = row.threads
        workload = row.workload == "forward" ? nil : row.workload
        point = row.point
    }

    /// "encoder-small · fp16 · b8×128 · 2 thr", with the workload and point when not a forward pass.
    public var label: String {
        "\(model) · \(variant) · b\(batch)\(sequenceLength.map { "×\($0)" } ?? "") · \(threads) thr"
            + (workload.map { " · \($0)" } ?? "") + (point.map { " (\($0))" } ?? "")
    }
}

public enum ChangeVerdict: String, Codable, Sendable {
    case faster, slower
    /// The interval covers 1, or the change is within the noise floor.
    case noise = "~noise"
    /// A side has no samples or a zero median: there is nothing to compare.
    case unmeasured = "not measured"
    /// An absolute time with one run per side: its run-to-run variance is unknown, so no verdict.
    case unjudged = "not judged"
}

public struct RowComparison: Codable, Sendable {
    public var key: RowKey
    /// Median seconds per run in A and in B.
    public var medianA: Double
    public var medianB: Double
    /// medianB / medianA (< 1: B is faster), with its bootstrap interval; nil when unmeasured.
    public var ratio: Double?
    public var low: Double?
    public var high: Double?
    /// The smallest |ratio − 1| that counts as a change for this row.
    public var noiseFloor: Double
    public var verdict: ChangeVerdict
    /// What the verdict rests on: "speed-up" (B's speed-up over A's, within-run ratios),
    /// "run medians" (several runs per side) or "one run per side" (shown, not judged).
    public var basis: String = "one run per side"
    /// Runs (files) on each side.
    public var runsA: Int = 1
    public var runsB: Int = 1
    public var qualityA: Quality?
    public var qualityB: Quality?
}

public struct SuiteComparison: Codable, Sendable {
    public var pathA: String
    public var pathB: String
    public var suiteA: String
    public var suiteB: String
    public var environmentA: EnvironmentInfo
    public var environmentB: EnvironmentInfo
    /// "gitCommit: 4ce454720ebc → da8c1dc07ef9" for each environment or configuration
    /// field that differs (the timestamp and load average always do and are left out).
    public var differences: [String]
    public var warnings: [String]
    public var confidence: Double
    public var resamples: Int
    /// The noise floor where no A/A row says it is higher, as a fraction (0.02 = 2%).
    public var minChange: Double
    public var rows: [RowComparison]
    public var onlyInA: [RowKey]
    public var onlyInB: [RowKey]
}

/// Matches the rows of `a` and `b` by (model, variant, batch, sequence length,
/// threads) and compares each pair. The noise floor of a row is the larger of
/// `minChange` and |ratio − 1| of either file's A/A row for the same instance.
/// Bootstrap resampling is seeded (`seed` + row index), so the output is reproducible.
public func compareSuites(_ a: SuiteResult, _ b: SuiteResult, pathA: String, pathB: String,
                          minChange: Double = 0.02, resamples: Int = 2000, confidence: Double = 0.95,
                          seed: UInt64 = 1) -> SuiteComparison {
    compareSuites([a], [b], pathA: pathA, pathB: pathB, minChange: minChange, resamples: resamples,
                  confidence: confidence, seed: seed)
}

/// Compares side A (one or more independent runs of the same configuration) with side B.
public func compareSuites(_ sideA: [SuiteResult], _ sideB: [SuiteResult], pathA: String, pathB: String,
                          minChange: Double = 0.02, resamples: Int = 2000, confidence: Double = 0.95,
                          seed: UInt64 = 1) -> SuiteComparison {
    let a = sideA[0], b = sideB[0]
    func index(_ result: SuiteResult) -> [RowKey: ResultRow] {
        Dictionary(result.rows.map { (RowKey($0), $0) }, uniquingKeysWith: { first, _ in first })
    }
    let restA = sideA.map(index), restB = sideB.map(index)
    let keysB = Set(b.rows.map(RowKey.init))
    var rows: [RowComparison] = []
    for rowA in a.rows {
        let key = RowKey(rowA)
        guard let rowB = restB[0][key] else { continue }
        let runsA = restA.compactMap { $0[key] }, runsB = restB.compactMap { $0[key] }
        let floor = [minChange, aaSpread(a, like: rowA), aaSpread(b, like: rowB)].compactMap { $0 }.max()!
        var c = RowComparison(key: key, medianA: rowA.stats.median, medianB: rowB.stats.median, ratio: nil, low: nil,
                              high: nil, noiseFloor: floor, verdict: .unmeasured, qualityA: rowA.quality, qualityB: rowB.quality)
        c.runsA = runsA.count
        c.runsB = runsB.count
        guard !rowA.samplesNs.isEmpty, !rowB.samplesNs.isEmpty, rowA.stats.median > 0, rowB.stats.median > 0 else {
            rows.append(c)
            continue
        }
        // Shown on every row: B/A of the medians with a bootstrap interval of the pooled samples.
        let s = Bootstrap.speedup(baselineNs: rowB.samplesNs, variantNs: rowA.samplesNs, baselineName: pathB,
                                  resamples: resamples, confidence: confidence, seed: seed ^ stableHash(key.label))
        c.ratio = s.ratio
        c.low = s.low
        c.high = s.high
        if rowA.isAA {
            c.verdict = .unjudged
            c.basis = "A/A row: the noise floor itself"
        } else if runsA.allSatisfy({ $0.speedup != nil }) && runsB.allSatisfy({ $0.speedup != nil }) {
            // B's speed-up against A's, in log space: the mean over each side's runs, with an
            // uncertainty from the runs' own intervals and, with several runs, their spread.
            func side(_ runs: [ResultRow]) -> (centre: Double, u: Double) {
                let logs = runs.map { log($0.speedup!.ratio) }
                let halves = runs.map { (log($0.speedup!.high) - log($0.speedup!.low)) / 2 }
                let n = Double(runs.count), centre = logs.reduce(0, +) / n
                let within = (halves.map { $0 * $0 }.reduce(0, +) / n).squareRoot() / n.squareRoot()
                let between = runs.count > 1
                    ? (logs.map { ($0 - centre) * ($0 - centre) }.reduce(0, +) / (n - 1)).squareRoot() / n.squareRoot() * 1.96 : 0
                return (centre, max(within, between))
            }
            let (ca, ua) = side(runsA), (cb, ub) = side(runsB)
            // Each run's A/A deviation is noise its bootstrap interval does not see (order, neighbours,
            // the machine's state that run): it joins the quadrature sum.
            let aa = [aaDeviation(a, like: rowA), aaDeviation(b, like: rowB)].compactMap { $0 }
            let d = cb - ca, u = (ua * ua + ub * ub + aa.map { $0 * $0 }.reduce(0, +)).squareRoot()
            // Shown as the time ratio B/A implied by the speed-ups (< 1: B's variant is relatively faster).
            c.ratio = exp(-d)
            c.low = exp(-d - u)
            c.high = exp(-d + u)
            c.basis = "speed-up"
            let beyond = abs(d) > u && abs(exp(d) - 1) > floor
            c.verdict = beyond ? (d > 0 ? .faster : .slower) : .noise
        } else if runsA.count >= 2 && runsB.count >= 2 {
            // Run-level medians: the floor is the run-to-run spread these runs show, and the two
            // sides' ranges must not overlap.
            let ma = runsA.map(\.stats.median), mb = runsB.map(\.stats.median)
            let meanA = ma.reduce(0, +) / Double(ma.count), meanB = mb.reduce(0, +) / Double(mb.count)
            let spread = max((ma.max()! - ma.min()!) / meanA, (mb.max()! - mb.min()!) / meanB)
            c.noiseFloor = max(floor, spread)
            c.ratio = meanB / meanA
            c.low = mb.min()! / ma.max()!
            c.high = mb.max()! / ma.min()!
            c.basis = "run medians"
            let beyond = abs(meanB / meanA - 1) > c.noiseFloor
            c.verdict = beyond && mb.max()! < ma.min()! ? .faster : beyond && mb.min()! > ma.max()! ? .slower : .noise
        } else {
            c.verdict = .unjudged
            c.basis = "one run per side"
        }
        rows.append(c)
    }
    let keysA = Set(a.rows.map(RowKey.init))
    let onlyInA = a.rows.map(RowKey.init).filter { !keysB.contains($0) }
    let onlyInB = b.rows.map(RowKey.init).filter { !keysA.contains($0) }
    var (differences, warnings) = environmentDifferences(a, b)
    for (side, results) in [("A", sideA), ("B", sideB)] where results.count > 1 {
        let commits = Set(results.map(\.environment.gitCommit)), hosts = Set(results.map(\.environment.hostname))
        if commits.count > 1 || hosts.count > 1 {
            warnings.append("the \(side) runs come from \(commits.count) commits and \(hosts.count) hosts: they are meant to repeat one configuration.")
        }
    }
    if sideA.count < 2 || sideB.count < 2 {
        warnings.append("absolute times are not judged with one run per side (run-to-run variance is unknown); "
                        + "give each side several runs (--more-a/--more-b) to judge them.")
    }
    return SuiteComparison(pathA: pathA, pathB: pathB, suiteA: a.suite, suiteB: b.suite,
                           environmentA: a.environment, environmentB: b.environment,
                           differences: differences, warnings: warnings, confidence: confidence,
                           resamples: resamples, minChange: minChange, rows: rows, onlyInA: onlyInA, onlyInB: onlyInB)
}

extension SuiteComparison {
    /// Rows that break a CI gate "slower:5%" (or "faster:X%", "change:X%"): judged in that
    /// direction and by more than the given share. Throws one sentence for a malformed gate.
    public static func parseGate(_ text: String) throws -> (verdicts: Set<ChangeVerdict>, threshold: Double) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kinds: [String: Set<ChangeVerdict>] = ["slower": [.slower], "faster": [.faster], "change": [.slower, .faster]]
        guard parts.count == 2, let verdicts = kinds[parts[0]],
              let percent = Double(parts[1].hasSuffix("%") ? String(parts[1].dropLast()) : parts[1]),
              percent.isFinite, percent >= 0 else {
            throw HarnessError("--fail-if \"\(text)\" must read slower:P%, faster:P% or change:P%, e.g. slower:5%.")
        }
        return (verdicts, percent / 100)
    }

    /// The rows a gate from `parseGate` fails on.
    public func failing(_ gate: (verdicts: Set<ChangeVerdict>, threshold: Double)) -> [RowComparison] {
        rows.filter { r in gate.verdicts.contains(r.verdict) && abs((r.ratio ?? 1) - 1) > gate.threshold }
    }
}

/// The A/A row's deviation in log space (the larger distance of its interval's ends from 1×)
/// in `row`'s group, if the group has one.
func aaDeviation(_ result: SuiteResult, like row: ResultRow) -> Double? {
    result.rows.first { isAARow($0) && $0.model == row.model && $0.batch == row.batch
        && $0.sequenceLength == row.sequenceLength && $0.threads == row.threads
        && $0.workload == row.workload && $0.point == row.point }?
        .speedup.map { max(abs(log($0.low)), abs(log($0.high))) }
}

/// |ratio − 1| of the A/A row measured with `row`'s model, batch, tokens and threads, if any.
func aaSpread(_ result: SuiteResult, like row: ResultRow) -> Double? {
    result.rows.first { isAARow($0) && $0.model == row.model && $0.batch == row.batch
        && $0.sequenceLength == row.sequenceLength && $0.threads == row.threads
        && $0.workload == row.workload && $0.point == row.point }?
        .speedup.map { abs($0.ratio - 1) }
}

/// Fields that differ, and the warnings they call for.
func environmentDifferences(_ a: SuiteResult, _ b: SuiteResult) -> (differences: [String], warnings: [String]) {
    let ignored: Set = ["timestamp", "loadAverage"]
    let fieldsB = Dictionary(fieldList(b.environment) + fieldList(b.configuration), uniquingKeysWith: { first, _ in first })
    var differing: [String] = []
    var differences: [String] = []
    for (name, valueA) in fieldList(a.environment) + fieldList(a.configuration) where !ignored.contains(name) {
        let valueB = fieldsB[name] ?? ""
        guard valueA != valueB else { continue }
        differing.append(name)
        differences.append("\(name): \(valueA.isEmpty ? "(none)" : valueA) → \(valueB.isEmpty ? "(none)" : valueB)")
    }
    var warnings: [String] = []
    let machine = differing.filter { ["cpuModel", "cpuFeatures", "logicalCores", "hostname"].contains($0) }
    if !machine.isEmpty {
        warnings.append("A and B were measured on different machines (\(machine.joined(separator: ", ")) differ): "
                        + "absolute times from different machines are not comparable; compare each file's own speed-ups instead.")
    }
    let software = differing.filter { ["openblasConfig", "openblasCore", "kernelISA", "variables", "swiftVersion", "threadPolicy"].contains($0) }
    if !software.isEmpty {
        warnings.append("\(software.joined(separator: ", ")) differ: a change may come from them rather than from the code.")
    }
    if isDebug(a.environment) || isDebug(b.environment) { warnings.append(debugBuildWarning) }
    return (differences, warnings)
}

// MARK: Printing

/// The comparison as a table (terminal), Markdown, CSV or JSON.
public func renderComparison(_ c: SuiteComparison, format: OutputFormat) -> String {
    switch format {
    case .table, .markdown: return comparisonReport(c, markdown: format == .markdown)
    case .csv: return comparisonCSV(c)
    case .json:
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = nonFiniteStrategy.encode
        return String(decoding: try! encoder.encode(c), as: UTF8.self) + "\n"
    }
}

private let comparisonColumns: [(header: String, numeric: Bool)] = [
    ("model", false), ("variant", false), ("batch", true), ("seq", true), ("thr", true),
    ("A median ms", true), ("B median ms", true), ("change %", true), ("B/A [interval]", false),
    ("verdict", false), ("basis", false), ("quality A → B", false),
]

private func comparisonCells(_ r: RowComparison) -> [String] {
    let k = r.key
    let change = r.ratio.map { ($0 >= 1 ? "+" : "") + fixed(($0 - 1) * 100, 1) } ?? notApplicable
    let interval = r.ratio.map { "\(fixed($0, 3)) [\(fixed(r.low!, 3))–\(fixed(r.high!, 3))]" } ?? notApplicable
    return [k.model, k.variant, String(k.batch), k.sequenceLength.map(String.init) ?? notApplicable, String(k.threads),
            fourDigits(r.medianA * 1e3), fourDigits(r.medianB * 1e3), change, interval, r.verdict.rawValue,
            r.basis + (r.runsA > 1 || r.runsB > 1 ? " (\(r.runsA)+\(r.runsB) runs)" : ""), qualityChange(r.qualityA, r.qualityB)]
}

/// "identical", "cos 0.999998 → 0.999990", "A only: …", or "—". Fields are compared
/// as printed, so a difference below the printed precision reads as "same as printed".
func qualityChange(_ a: Quality?, _ b: Quality?) -> String {
    switch (a, b) {
    case (nil, nil): return notApplicable
    case let (a?, nil): return "A only: \(qualityCell(a))"
    case let (nil, b?): return "B only: \(qualityCell(b))"
    case let (a?, b?):
        if a == b { return "identical" }
        func pct(_ x: Double?) -> String { x.map { fixed($0 * 100, 1) + "%" } ?? notApplicable }
        func cos(_ x: Double?) -> String { x.map { fixed($0, 6) } ?? notApplicable }
        let fields: [(name: String, a: String, b: String)] = [
            ("max|Δ|", String(format: "%.1e", a.maxAbsDiff), String(format: "%.1e", b.maxAbsDiff)),
            ("cos", cos(a.meanCosine), cos(b.meanCosine)),
            ("top1", pct(a.top1Agreement), pct(b.top1Agreement)),
            ("emb cos", cos(a.embeddingCosine), cos(b.embeddingCosine)),
        ]
        let parts = fields.filter { $0.a != $0.b }.map { "\($0.name) \($0.a) → \($0.b)" }
        return parts.isEmpty ? "same as printed" : parts.joined(separator: " · ")
    }
}

/// What the columns mean and how a change is called.
private func comparisonLegend(_ c: SuiteComparison) -> String {
    "change = B time / A time − 1 (negative: B is faster). basis speed-up: a variant measured against its baseline in "
        + "both runs is judged on its speed-ups (B's over A's; shown as the time ratio they imply), faster/slower when "
        + "the difference exceeds both runs' intervals combined in quadrature and the noise floor "
        + "(\(fixed(c.minChange * 100, 1))%, or either file's A/A deviation when larger). basis run medians: an absolute "
        + "time with several runs per side, judged when the sides' run medians do not overlap and differ by more than "
        + "the floor and the run-to-run spread. One run per side: absolute times are shown with a "
        + "\(fixed(c.confidence * 100, 0))% bootstrap interval of the samples but not judged — a single run's spread "
        + "says nothing about the next run."
}

private func comparisonReport(_ c: SuiteComparison, markdown: Bool) -> String {
    func environment(_ env: EnvironmentInfo) -> String {
        let variables = env.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return environmentLine(env) + (variables.isEmpty ? "" : " · " + variables.joined(separator: " "))
    }
    func list(_ items: [String]) -> [String] { items.map { markdown ? "- \($0)" : "  \($0)" } }
    var out: [String] = []
    out.append(markdown ? "# infbench compare" : "infbench compare")
    if markdown { out.append("") }
    out.append(contentsOf: list([
        "A: \(c.pathA) (suite \(c.suiteA)) — \(environment(c.environmentA))",
        "B: \(c.pathB) (suite \(c.suiteB)) — \(environment(c.environmentB))",
    ]))
    out.append("")
    if c.differences.isEmpty {
        out.append("Environment and configuration: the same in A and B (apart from time and load).")
    } else {
        out.append("Environment and configuration differ:")
        if markdown { out.append("") }
        out.append(contentsOf: list(c.differences))
    }
    if !c.warnings.isEmpty {
        out.append("")
        out.append(contentsOf: c.warnings.map { markdown ? "> **WARNING** \($0)" : "! \($0)" })
    }
    out.append("")
    let header = comparisonColumns.map(\.header), numeric = comparisonColumns.map(\.numeric)
    let cells = c.rows.map(comparisonCells)
    if markdown {
        out.append(markdownTable(header: header, numeric: numeric, rows: cells))
        out.append("")
    } else {
        out.append(contentsOf: alignedTable(header: header, numeric: numeric, rows: cells))
    }
    out.append(comparisonLegend(c))
    out.append("")
    for (title, keys) in [("Only in A", c.onlyInA), ("Only in B", c.onlyInB)] where !keys.isEmpty {
        out.append("\(title) (\(keys.count)):")
        if markdown { out.append("") }
        out.append(contentsOf: list(keys.map(\.label)))
        out.append("")
    }
    let count = { (v: ChangeVerdict) in c.rows.filter { $0.verdict == v }.count }
    var summary = "\(c.rows.count) matched rows: \(count(.faster)) faster, \(count(.slower)) slower, "
        + "\(count(.noise)) \(ChangeVerdict.noise.rawValue)"
    if count(.unjudged) > 0 { summary += ", \(count(.unjudged)) not judged" }
    if count(.unmeasured) > 0 { summary += ", \(count(.unmeasured)) not measured" }
    out.append(summary + "; \(c.onlyInA.count) only in A, \(c.onlyInB.count) only in B.")
    return out.joined(separator: "\n") + "\n"
}

private func comparisonCSV(_ c: SuiteComparison) -> String {
    let header = ["model", "variant", "batch", "seq", "threads", "in", "median_a_s", "median_b_s",
                  "ratio_b_over_a", "ratio_low", "ratio_high", "noise_floor", "verdict", "basis"]
    var lines = [header.joined(separator: ",")]
    func line(_ k: RowKey, _ present: String, _ rest: [String]) {
        let fields = [k.model, k.variant, String(k.batch), k.sequenceLength.map(String.init) ?? "", String(k.threads), present] + rest
        lines.append(fields.map(csvField).joined(separator: ","))
    }
    for r in c.rows {
        line(r.key, "both", ["\(r.medianA)", "\(r.medianB)", r.ratio.map { "\($0)" } ?? "", r.low.map { "\($0)" } ?? "",
                             r.high.map { "\($0)" } ?? "", "\(r.noiseFloor)", r.verdict.rawValue, r.basis])
    }
    for k in c.onlyInA { line(k, "A", Array(repeating: "", count: 8)) }
    for k in c.onlyInB { line(k, "B", Array(repeating: "", count: 8)) }
    return lines.joined(separator: "\n") + "\n"
}
