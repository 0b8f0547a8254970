// `infbench reproduce`: a stored suite result against a fresh run of its own
// configuration and seeds, row by row. Speed-ups (ratios within one run) and
// quality are judged; absolute times are shown but not judged, since they
// differ between machines.
//   speed-up: REPRODUCED when the verdict class is the same (faster / within noise / slower),
//             the new interval excludes 1× wherever the reported one did (on the same side),
//             and |ln(new / reported)| ≤ the two runs' log half-widths and A/A deviations
//             combined in quadrature (at least 2 %); A/A rows are the noise floor, not judged;
//   quality:  REPRODUCED when accuracy and top-1 agree within 0.5 points, cosines within
//             1e-4 and max|Δ| within a factor of 2 — fp32 arithmetic on the same inputs
//             and weights leaves little room, so the bounds are tight.
import Foundation

public enum ReproduceVerdict: String, Codable, Sendable {
    case reproduced = "REPRODUCED"
    case different = "DIFFERENT"
    /// Baseline rows: only absolute time, which is not judged.
    case notJudged = "—"
}

public struct ReproducedRow: Codable, Sendable {
    public var key: RowKey
    public var reportedMedian: Double
    public var newMedian: Double
    public var reportedSpeedup: Speedup?
    public var newSpeedup: Speedup?
    /// Relative tolerance the speed-up was judged with.
    public var tolerance: Double?
    public var speedupVerdict: ReproduceVerdict
    public var reportedQuality: Quality?
    public var newQuality: Quality?
    public var reportedAccuracy: Double?
    public var newAccuracy: Double?
    public var qualityVerdict: ReproduceVerdict
    /// What differed in quality, if anything.
    public var qualityNote: String?
    /// Why the speed-up did not reproduce, if it did not.
    public var speedupNote: String?

    public var verdict: ReproduceVerdict {
        if speedupVerdict == .different || qualityVerdict == .different { return .different }
        if speedupVerdict == .reproduced || qualityVerdict == .reproduced { return .reproduced }
        return .notJudged
    }
}

public struct Reproduction: Codable, Sendable {
    public var path: String
    public var reported: EnvironmentInfo
    public var new: EnvironmentInfo
    public var rows: [ReproducedRow]
    /// Reported rows the new run did not produce.
    public var missing: [RowKey]
    public var warnings: [String]
    /// Every judged row reproduced and none is missing.
    public var reproduced: Bool { missing.isEmpty && !rows.contains { $0.verdict == .different } }
}

public func reproduce(reported: SuiteResult, new: SuiteResult, path: String) -> Reproduction {
    let byKey = Dictionary(new.rows.map { (RowKey($0), $0) }, uniquingKeysWith: { first, _ in first })
    var rows: [ReproducedRow] = [], missing: [RowKey] = []
    for old in reported.rows {
        guard let fresh = byKey[RowKey(old)] else { missing.append(RowKey(old)); continue }
        var row = ReproducedRow(key: RowKey(old), reportedMedian: old.stats.median, newMedian: fresh.stats.median,
                                reportedSpeedup: old.speedup, newSpeedup: fresh.speedup, tolerance: nil, speedupVerdict: .notJudged,
                                reportedQuality: old.quality, newQuality: fresh.quality,
                                reportedAccuracy: old.accuracy, newAccuracy: fresh.accuracy, qualityVerdict: .notJudged, qualityNote: nil)
        if let a = old.speedup, let b = fresh.speedup, !old.isAA {
            let (tolerance, reason) = judgeSpeedup(reported: a, new: b,
                                                   aaReported: aaDeviation(reported, like: old), aaNew: aaDeviation(new, like: fresh))
            row.tolerance = tolerance
            row.speedupVerdict = reason == nil ? .reproduced : .different
            row.speedupNote = reason
        }
        let differences = qualityDifferences(old, fresh)
        if (old.quality != nil || old.accuracy != nil) && !old.isAA {
            row.qualityVerdict = differences.isEmpty ? .reproduced : .different
            row.qualityNote = differences.isEmpty ? nil : differences.joined(separator: "; ")
        }
        rows.append(row)
    }
    var warnings = environmentDifferences(reported, new).warnings
    warnings.append("Absolute times are shown for reference and not judged: they differ between machines. Speed-ups are ratios measured within one run, so they travel.")
    return Reproduction(path: path, reported: reported.environment, new: new.environment, rows: rows, missing: missing, warnings: warnings)
}

/// The class of a speed-up: faster, within the noise, or slower.
func verdictClass(_ s: Speedup) -> String {
    s.withinNoise ? "within noise" : (s.ratio > 1 ? "faster" : "slower")
}

/// The tolerance (relative) a reported speed-up is judged with, and nil when `new` reproduces
/// it, else the reason in words.
func judgeSpeedup(reported a: Speedup, new b: Speedup, aaReported: Double?, aaNew: Double?) -> (Double, String?) {
    func half(_ s: Speedup) -> Double { (log(max(s.high, 1e-12)) - log(max(s.low, 1e-12))) / 2 }
    let parts = [half(a), half(b), aaReported ?? 0, aaNew ?? 0]
    let tolerance = max(log(1.02), parts.map { $0 * $0 }.reduce(0, +).squareRoot())
    if verdictClass(a) != verdictClass(b) {
        return (exp(tolerance) - 1, "reported \(verdictClass(a)), now \(verdictClass(b))")
    }
    if a.low > 1 && !(b.low > 1) { return (exp(tolerance) - 1, "the new interval no longer excludes 1× (faster side)") }
    if a.high < 1 && !(b.high < 1) { return (exp(tolerance) - 1, "the new interval no longer excludes 1× (slower side)") }
    if abs(log(b.ratio / a.ratio)) > tolerance {
        return (exp(tolerance) - 1, String(format: "moved %.1f%%, beyond ±%.1f%%", 100 * (b.ratio / a.ratio - 1), 100 * (exp(tolerance) - 1)))
    }
    return (exp(tolerance) - 1, nil)
}

/// Quality fields that moved beyond the tight bounds, as "field reported → new".
func qualityDifferences(_ old: ResultRow, _ new: ResultRow) -> [String] {
    var out: [String] = []
    func check(_ name: String, _ a: Double?, _ b: Double?, _ ok: (Double, Double) -> Bool, _ show: (Double) -> String) {
        switch (a, b) {
        case (nil, nil): return
        case let (a?, b?): if !ok(a, b) { out.append("\(name) \(show(a)) → \(show(b))") }
        default: out.append("\(name) \(a.map(show) ?? "absent") → \(b.map(show) ?? "absent")")
        }
    }
    let points: (Double, Double) -> Bool = { abs($0 - $1) <= 0.005 }
    let cosines: (Double, Double) -> Bool = { abs($0 - $1) <= 1e-4 }
    let pct: (Double) -> String = { fixed($0 * 100, 2) + "%" }
    check("accuracy", old.accuracy, new.accuracy, points, pct)
    check("top1", old.quality?.top1Agreement, new.quality?.top1Agreement, points, pct)
    check("cos", old.quality?.meanCosine, new.quality?.meanCosine, cosines) { fixed($0, 6) }
    check("emb cos", old.quality?.embeddingCosine, new.quality?.embeddingCosine, cosines) { fixed($0, 6) }
    check("max|Δ|", old.quality?.maxAbsDiff, new.quality?.maxAbsDiff, { a, b in
        max(a, b) < 1e-6 || (b <= 2 * a && a <= 2 * b)
    }) { String(format: "%.1e", $0) }
    return out
}

public func renderReproduction(_ r: Reproduction) -> String {
    var out: [String] = []
    out.append("infbench reproduce \(r.path)")
    out.append("reported: \(r.reported.timestamp) · commit \(r.reported.gitCommit) · \(r.reported.cpuModel) · \(r.reported.hostname)")
    out.append("this run: \(r.new.timestamp) · commit \(r.new.gitCommit) · \(r.new.cpuModel) · \(r.new.hostname)")
    out.append("")
    out.append(contentsOf: alignedTable(
        header: ["model", "variant", "batch", "seq", "thr", "reported ms", "new ms", "reported speedup", "new speedup", "tolerance",
                 "speedup", "quality", "verdict"],
        numeric: [false, false, true, true, true, true, true, false, false, true, false, false, false],
        rows: r.rows.map { row in
            let k = row.key
            return [k.model, k.variant, String(k.batch), k.sequenceLength.map(String.init) ?? notApplicable, String(k.threads),
                    fourDigits(row.reportedMedian * 1e3), fourDigits(row.newMedian * 1e3),
                    row.reportedSpeedup.map(speedupCell) ?? notApplicable, row.newSpeedup.map(speedupCell) ?? notApplicable,
                    row.tolerance.map { "±" + fixed($0 * 100, 1) + "%" } ?? notApplicable,
                    row.speedupVerdict == .different ? "DIFFERENT: \(row.speedupNote ?? "")" : row.speedupVerdict.rawValue,
                    row.qualityVerdict == .different ? "DIFFERENT: \(row.qualityNote ?? "")" : row.qualityVerdict.rawValue,
                    row.verdict.rawValue]
        }))
    out.append("")
    for k in r.missing { out.append("MISSING: \(k.model) \(k.variant) batch \(k.batch) × \(k.threads) thread(s) was reported but not produced.") }
    for w in r.warnings { out.append("note: \(w)") }
    let judged = r.rows.filter { $0.verdict != .notJudged }
    let different = judged.filter { $0.verdict == .different }.count
    out.append("verdict: \(r.reproduced ? "REPRODUCED" : "DIFFERENT") — \(judged.count - different) of \(judged.count) judged rows reproduced"
               + (different > 0 ? ", \(different) different" : "") + (r.missing.isEmpty ? "" : ", \(r.missing.count) missing") + ".")
    return out.joined(separator: "\n") + "\n"
}
