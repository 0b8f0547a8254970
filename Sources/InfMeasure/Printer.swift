// Printing a SuiteResult: one small printer type per output format, chosen by
// one flag, all reading the same structure. This file holds the shared
// pieces: the format enum, the protocol, and the cells both tables use.
import Foundation

public enum OutputFormat: String, CaseIterable, Sendable {
    /// Aligned plain text for a terminal (the default).
    case table
    /// GitHub Markdown, with a full environment section: for Results/.
    case markdown
    /// One line per row, RFC 4180 quoting: for spreadsheets and scripts.
    case csv
    /// The whole result including raw samples: for `reproduce` and `compare`.
    case json
}

public protocol ResultPrinter {
    func render(_ result: SuiteResult) -> String
}

public func printer(for format: OutputFormat) -> ResultPrinter {
    switch format {
    case .table: return TablePrinter()
    case .markdown: return MarkdownPrinter()
    case .csv: return CSVPrinter()
    case .json: return JSONPrinter()
    }
}

/// The variant name of the A/A row: the fp32 baseline measured against itself,
/// interleaved like any other variant. Its speedup interval is the noise floor.
/// This exact spelling is the one every part of infbench uses: InfTechniques' `AABaseline.name`
/// spells it too (a test checks they agree), so printers need not import the techniques.
public let aaVariantName = "fp32 A/A"

/// True for a baseline-against-itself row ("fp32 A/A", "no cache A/A", …).
public func isAARow(_ row: ResultRow) -> Bool {
    row.isAA
}

// MARK: Shared cells (table and Markdown print the same columns)

/// Columns of the results table; `numeric` columns are right-aligned.
let resultColumns: [(header: String, numeric: Bool)] = [
    ("model", false), ("variant", false), ("batch", true), ("seq", true), ("thr", true),
    ("n", true), ("median ms", true), ("p90 ms", true), ("p99 ms", true), ("CV %", true),
    ("throughput", true), ("GFLOP/s", true), ("% OpenBLAS sgemm", true), ("% bandwidth", true), ("speedup", false),
    ("quality", false), ("test acc", true), ("weights MB", true), ("peak RSS MB", true), ("warm-up", true),
]

/// Shown after a speedup whose interval covers 1.
let withinNoiseMark = "~noise"

/// Shown where a value does not apply.
let notApplicable = "—"

func resultCells(_ row: ResultRow) -> [String] {
    [
        row.model,
        row.variant,
        String(row.batch),
        row.sequenceLength.map(String.init) ?? notApplicable,
        String(row.threads),
        String(row.stats.count),
        fourDigits(row.stats.median * 1e3),
        // A tail percentile from too few samples is just the maximum: shown only where n supports it.
        row.stats.p90IfSupported.map { fourDigits($0 * 1e3) } ?? notApplicable,
        row.stats.p99IfSupported.map { fourDigits($0 * 1e3) } ?? notApplicable,
        fixed(row.stats.cv * 100, 1),
        "\(fixed(row.throughput, 1)) \(row.itemUnit)/s",
        fixed(row.gflops, 1),
        row.rooflinePercent.map { fixed($0, 1) } ?? notApplicable,
        row.bandwidthPercent.map { fixed($0, 1) } ?? notApplicable,
        row.speedup.map(speedupCell) ?? notApplicable,
        row.quality.map(qualityCell) ?? notApplicable,
        row.accuracy.map { fixed($0 * 100, 2) + "%" } ?? notApplicable,
        megabytes(row.weightBytes),
        megabytes(row.peakRSSBytes),
        String(row.warmupRuns),
    ]
}

/// "1.02× [0.98–1.05] ~noise"
public func speedupCell(_ s: Speedup) -> String {
    let text = "\(fixed(s.ratio, 2))× [\(fixed(s.low, 2))–\(fixed(s.high, 2))]"
    return s.withinNoise ? "\(text) \(withinNoiseMark)" : text
}

/// "max|Δ| 3.1e-04 cos 0.999998 top1 100.0% n=256"
func qualityCell(_ q: Quality) -> String {
    var text = "max|Δ| \(String(format: "%.1e", q.maxAbsDiff)) cos \(fixed(q.meanCosine, 6))"
    if let top1 = q.top1Agreement { text += " top1 \(fixed(top1 * 100, 1))%" }
    if let top5 = q.top5Agreement { text += " top5 \(fixed(top5 * 100, 1))%" }
    if let emb = q.embeddingCosine { text += " emb cos \(fixed(emb, 6))" }
    if let identical = q.identical { text += identical ? " identical" : " DIFFERENT" }
    if let ppl = q.perplexity { text += " ppl \(fixed(ppl, 2))" }
    if let n = q.n { text += " n=\(n)" }
    return text
}

/// "generate: decoder-small, 16-token prompt + 256 generated", once per distinct workload point
/// that is not a plain forward pass; and the evaluation sets quality was measured on.
func workloadLines(_ result: SuiteResult) -> [String] {
    var seen = Set<String>()
    var lines = result.rows.compactMap { row -> String? in
        guard let w = row.workload, w != "forward" else { return nil }
        let line = "\(w): \(row.model)" + (row.point.map { ", \($0)" } ?? "")
        return seen.insert(line).inserted ? line : nil
    }
    for row in result.rows {
        guard let q = row.quality, let set = q.evaluationSet else { continue }
        let line = "quality of \(row.model) on \(set)" + (q.n.map { " (n = \($0))" } ?? "")
        if seen.insert(line).inserted { lines.append(line) }
    }
    return lines
}

/// The line under the table that explains the speedup column.
func speedupLegend(_ result: SuiteResult) -> String? {
    guard let any = result.rows.lazy.compactMap(\.speedup).first else { return nil }
    let level = fixed(any.confidence * 100, 0)
    return "speedup = baseline median / variant median (> 1× is faster), [\(level)% bootstrap interval]; "
        + "\(withinNoiseMark): the interval covers 1×, or the ratio lies within its group's A/A deviation. "
        + "p90/p99 need n ≥ 20/200 (two samples beyond them), else —."
}

/// "sgemm roofline: 1 thr 98.1 GFLOP/s, 2 thr 187.0 GFLOP/s (1024³)"
func rooflineLine(_ points: [RooflinePoint]) -> String {
    guard let first = points.first else { return "sgemm roofline: not measured" }
    let sameShape = points.allSatisfy { $0.m == first.m && $0.n == first.n && $0.k == first.k }
    func shape(_ p: RooflinePoint) -> String {
        p.m == p.n && p.n == p.k ? "\(p.m)³" : "m\(p.m) n\(p.n) k\(p.k)"
    }
    let parts = points.map { p in
        "\(p.threads) thr \(fixed(p.gflops, 1)) GFLOP/s" + (sameShape ? "" : " (\(shape(p)))")
    }
    return "sgemm roofline: " + parts.joined(separator: ", ") + (sameShape ? " (\(shape(first)))" : "")
}

/// The roofline line, and the bandwidth roof after it when measured.
func roofLines(_ result: SuiteResult) -> [String] {
    [rooflineLine(result.roofline)] + [bandwidthLine(result.bandwidth)].compactMap { $0 }
}

/// One line per A/A row: "bert-tiny b8 4 thr: |ratio−1| 0.4% [0.991–1.012]".
func noiseFloorLines(_ result: SuiteResult) -> [String] {
    result.rows.filter(isAARow).map { row in
        let place = instanceLabel(row)
        guard let s = row.speedup else { return "\(place): no speedup measured" }
        return "\(place): |ratio−1| \(fixed(abs(s.ratio - 1) * 100, 1))% "
            + "[\(fixed(s.low, 3))–\(fixed(s.high, 3))]"
    }
}

/// The loud line every report of a debug build carries.
let debugBuildWarning = "!!! DEBUG BUILD: these timings come from an unoptimised binary and mean nothing; "
    + "build with `swift build -c release` (make run) !!!"

func isDebug(_ env: EnvironmentInfo) -> Bool {
    env.buildConfiguration == "debug"
}

// MARK: Number formatting

public func fixed(_ x: Double, _ decimals: Int) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    return String(format: "%.\(decimals)f", x)
}

/// About four significant digits without exponent: 0.1234, 1.234, 12.34, 123.4, 1234.
public func fourDigits(_ x: Double) -> String {
    let m = abs(x)
    let decimals = m >= 1000 ? 0 : m >= 100 ? 1 : m >= 10 ? 2 : m >= 1 ? 3 : 4
    return fixed(x, decimals)
}

/// Megabytes, 10⁶ bytes, one decimal.
func megabytes(_ bytes: Int) -> String {
    fixed(Double(bytes) / 1e6, 1)
}

/// Every stored property of an Environment/RunConfiguration value, by its
/// Swift (and JSON) name, so a field added later is listed without edits here.
func fieldList<T>(_ value: T) -> [(name: String, value: String)] {
    Mirror(reflecting: value).children.compactMap { child in
        guard let name = child.label else { return nil }
        return (name, describeField(child.value))
    }
}

private func describeField(_ value: Any) -> String {
    if let array = value as? [Any] { return array.map(describeField).joined(separator: ", ") }
    // Sorted: a dictionary's own order changes from process to process.
    if let dict = value as? [String: String] { return dict.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
    return String(describing: value)
}

/// Lines of the per-phase breakdown of every profiled row, e.g.
/// "encoder-small b32 1 thr fp32 (254.1 ms per pass, 12 runs): ffn.up 31.0% · …".
func profileLines(_ result: SuiteResult) -> [String] {
    result.rows.compactMap { row in
        guard let p = row.profile, p.totalSeconds > 0 else { return nil }
        let phases = p.phases.sorted { $0.seconds > $1.seconds }.map { phase in
            "\(phase.name) \(fixed(100 * phase.seconds / p.totalSeconds, 1))%"
        }
        return "\(instanceLabel(row)) \(row.variant) (\(fourDigits(p.totalSeconds * 1e3)) ms per pass, \(p.runs) runs): "
            + phases.joined(separator: " · ")
    }
}

/// "encoder-small b8×128 2 thr": model, batch (× tokens for transformers) and threads.
func instanceLabel(_ row: ResultRow) -> String {
    "\(row.model) b\(row.batch)\(row.sequenceLength.map { "×\($0)" } ?? "") \(row.threads) thr"
}

/// Thread scaling of the baseline: for each (model, batch, tokens) measured at several
/// thread counts, throughput relative to the fewest threads and parallel efficiency
/// (speed-up / thread ratio), e.g. "encoder-small b32×128: 2 thr 1.87× (94% efficient)".
func scalingLines(_ result: SuiteResult) -> [String] {
    let baseline = result.configuration.variants.first ?? "fp32"
    var groups: [String: [ResultRow]] = [:]
    var order: [String] = []
    for row in result.rows where row.variant == baseline {
        let key = "\(row.model) b\(row.batch)\(row.sequenceLength.map { "×\($0)" } ?? "")"
        if groups[key] == nil { order.append(key) }
        groups[key, default: []].append(row)
    }
    return order.compactMap { key in
        let rows = groups[key]!.sorted { $0.threads < $1.threads }
        guard rows.count > 1, let base = rows.first else { return nil }
        let parts = rows.dropFirst().map { r -> String in
            let speedup = r.throughput / base.throughput
            let efficiency = speedup / (Double(r.threads) / Double(base.threads))
            return "\(r.threads) thr \(fixed(speedup, 2))× (\(fixed(efficiency * 100, 0))% efficient)"
        }
        return "\(key): vs \(base.threads) thr " + parts.joined(separator: ", ")
    }
}

/// "model · variant: what executed", once per distinct pair, in row order.
func executesLines(_ result: SuiteResult) -> [String] {
    var seen = Set<String>()
    return result.rows.compactMap { row in
        let line = "\(row.model) · \(row.variant): \(row.executes)"
        return seen.insert(line).inserted ? line : nil
    }
}
