// The answer first: one block per model, one line per technique and point, best first, in at
// most 120 columns — speed-up with its 95 % interval, latency or throughput, weight change,
// quality change on the evaluation set and a verdict in words. The full per-instance table
// (`--full`, and every output file) holds everything else.
import Foundation

public enum Summary {
    /// No summary line is wider than this.
    public static let width = 120

    /// Cosine at or above this, with every top-1 in agreement, counts as "outputs unchanged".
    public static let unchangedCosine = 0.9999
    /// Accuracy drops up to this (a fraction) count as no cost: two examples in a thousand-example test split.
    public static let accuracyTolerance = 0.002

    public enum Verdict: Equatable, CustomStringConvertible {
        case fasterUnchanged
        case fasterCosts(String)
        case fasterUnmeasured
        case fasterAccuracyKept
        case withinNoise
        case slower

        public var description: String {
            switch self {
            case .fasterUnchanged: return "faster, outputs unchanged"
            case .fasterCosts(let cost): return "faster, costs \(cost)"
            case .fasterUnmeasured: return "faster, quality not measured"
            case .fasterAccuracyKept: return "faster, no accuracy lost"
            case .withinNoise: return "within noise"
            case .slower: return "slower"
            }
        }
    }

    /// The verdict on a row against its group's baseline: within noise when the interval covers 1×
    /// or the row is labelled ~noise (within the A/A deviation); else faster or slower, and a faster
    /// row says what it costs in quality.
    public static func verdict(_ row: ResultRow, baseline: ResultRow?) -> Verdict? {
        guard let s = row.speedup else { return nil }
        if s.withinNoise || (s.low <= 1 && 1 <= s.high) { return .withinNoise }
        if s.ratio < 1 { return .slower }
        guard row.quality != nil || row.accuracy != nil else { return .fasterUnmeasured }
        if outputsUnchanged(row) { return .fasterUnchanged }
        // With labels, the task's accuracy is what a change in outputs costs.
        if let a = row.accuracy, let b = baseline?.accuracy {
            return b - a > accuracyTolerance ? .fasterCosts("\(percent((b - a) * 100))pp accuracy") : .fasterAccuracyKept
        }
        return qualityCost(row).map { .fasterCosts($0) } ?? .fasterUnchanged
    }

    /// Bit-identical, or every top-1 in agreement with a cosine within `unchangedCosine`.
    static func outputsUnchanged(_ row: ResultRow) -> Bool {
        guard let q = row.quality else { return false }
        // A checked difference outranks the other fields: a scenario that compares only tokens
        // (adaptive softmax) leaves maxAbsDiff at 0 while its top-1 agreement says what changed.
        if q.identical == false || q.meanCosine.isNaN { return false }
        if let t = q.top1Agreement, t < 1 { return false }
        if q.identical == true || q.maxAbsDiff == 0 { return true }
        return (q.embeddingCosine ?? q.meanCosine) >= unchangedCosine
    }

    /// What a row's outputs give up against the baseline without labels: top-1 agreement, else
    /// the cosine of embeddings or outputs; nil for nothing.
    public static func qualityCost(_ row: ResultRow) -> String? {
        guard let q = row.quality, !outputsUnchanged(row) else { return nil }
        if q.meanCosine.isNaN { return "NaN outputs" }
        if q.identical == false && q.top1Agreement == nil { return "outputs differ" }
        if let t = q.top1Agreement, t < 1 { return "\(percent((1 - t) * 100))% top-1" }
        if let e = q.embeddingCosine { return "emb cos \(fixed(e, 4))" }
        return "cos \(fixed(q.meanCosine, 4))"
    }

    /// One decimal, two below 0.1 (so a cost never reads "0.0").
    static func percent(_ x: Double) -> String { fixed(x, abs(x) < 0.1 ? 2 : 1) }

    /// "top1 99.2%", "emb cos 0.99993", "acc −1.2pp", "identical", "—".
    static func qualityCell(_ row: ResultRow, baseline: ResultRow?) -> String {
        if let a = row.accuracy, let b = baseline?.accuracy, abs(a - b) > accuracyTolerance {
            return "acc \(a > b ? "+" : "−")\(fixed(abs(a - b) * 100, 1))pp"
        }
        guard let q = row.quality else { return row.accuracy != nil ? "acc same" : notApplicable }
        if q.identical == true || (q.identical == nil && q.maxAbsDiff == 0 && (q.top1Agreement ?? 1) == 1) { return "identical" }
        if let t = q.top1Agreement { return "top1 \(fixed(t * 100, 1))%" }
        if let e = q.embeddingCosine { return "cos \(fixed(e, 5))" }
        return "cos \(fixed(q.meanCosine, 5))"
    }

    /// "b1×64", "b32", "gen 64 tok", "stream", "queue 128", "lm head".
    static func pointLabel(_ row: ResultRow) -> String {
        switch row.workload ?? "forward" {
        case "forward": return "b\(row.batch)" + (row.sequenceLength.map { "×\($0)" } ?? "")
        case "generate": return "gen \(row.itemsPerRun)"
        case "stream": return "stream"
        case "drain": return "queue \(row.itemsPerRun)"
        case "output-layer": return "lm head"
        case let other: return other
        }
    }

    /// Latency at batch 1 of a forward pass, throughput everywhere else.
    static func performanceCell(_ row: ResultRow) -> String {
        if (row.workload ?? "forward") == "forward" && row.batch == 1 { return "\(fourDigits(row.stats.median * 1e3)) ms" }
        return "\(row.throughput >= 100 ? fixed(row.throughput, 0) : fourDigits(row.throughput)) \(row.itemUnit)/s"
    }

    /// "−74%", "+3%", "=".
    static func weightsCell(_ row: ResultRow, baseline: ResultRow?) -> String {
        guard let b = baseline, b.weightBytes > 0, row.weightBytes > 0 else { return notApplicable }
        let change = Double(row.weightBytes - b.weightBytes) / Double(b.weightBytes) * 100
        if abs(change) < 0.05 { return "=" }
        return (change > 0 ? "+" : "−") + fixed(abs(change), abs(change) < 10 ? 1 : 0) + "%"
    }

    /// The first clause of what executes: "W8A8 dynamic", "fp16 weight storage".
    static func shortExecutes(_ executes: String, width: Int) -> String {
        var text = executes
        for separator in [":", ";", ",", " ("] {
            if let r = text.range(of: separator) { text = String(text[..<r.lowerBound]) }
        }
        return clip(text.trimmingCharacters(in: .whitespaces), width)
    }

    /// Shorter technique names for the summary's first column; the full table keeps the names as typed.
    static func shortName(_ name: String) -> String {
        name.replacingOccurrences(of: "prune-unstructured-global", with: "prune-global")
            .replacingOccurrences(of: "prune-unstructured", with: "prune-unstr")
    }

    static func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(width - 1, 0))) + "…"
    }

    /// Key of the group a row was measured in: its baseline is the row of that group without a speed-up.
    static func groupKey(_ row: ResultRow) -> String {
        "\(row.model)|\(row.workload ?? "forward")|\(row.batch)|\(row.sequenceLength ?? 0)|\(row.threads)|\(row.point ?? "")"
    }

    /// One model's part of the summary: its heading and one row of cells per technique and point.
    public struct Block {
        public var model: String
        public var heading: String
        /// Cells in `header` order; a technique's second row carries its short "executes" in the first cell.
        public var rows: [[String]]
        /// The verdict of each row (nil on a row that only carries "executes").
        public var verdicts: [Verdict?]
    }

    public static let header = ["technique / executes", "point", "speed-up [95% CI]", "time/rate", "weights", "quality", "verdict"]
    static let numericColumns = [false, false, false, true, true, false, false]

    /// The blocks of a result, models in the order measured, techniques best first.
    public static func blocks(_ result: SuiteResult) -> [Block] {
        var baselines: [String: ResultRow] = [:]
        for row in result.rows where row.speedup == nil && !row.isAA {
            if baselines[groupKey(row)] == nil { baselines[groupKey(row)] = row }
        }
        var models: [String] = []
        for row in result.rows where !models.contains(row.model) { models.append(row.model) }
        return models.compactMap { model in
            let rows = result.rows.filter { $0.model == model && $0.speedup != nil && !$0.isAA }
            guard !rows.isEmpty else { return nil }
            // Techniques (and scenario variants) in order of their best speed-up.
            var byVariant: [(name: String, rows: [ResultRow])] = []
            for row in rows {
                if let i = byVariant.firstIndex(where: { $0.name == row.variant }) { byVariant[i].rows.append(row) } else {
                    byVariant.append((row.variant, [row]))
                }
            }
            byVariant.sort { a, b in
                let ra = a.rows.map { $0.speedup!.ratio }.max()!, rb = b.rows.map { $0.speedup!.ratio }.max()!
                return ra != rb ? ra > rb : a.name < b.name
            }
            var cells: [[String]] = []
            var verdicts: [Verdict?] = []
            for (name, list) in byVariant {
                for (i, row) in list.enumerated() {
                    let baseline = baselines[groupKey(row)]
                    let first = i == 0 ? shortName(name) : i == 1 ? "  " + shortExecutes(list[0].executes, width: 22) : ""
                    let v = verdict(row, baseline: baseline)!
                    cells.append([first, pointLabel(row), speedupCellPlain(row.speedup!), performanceCell(row),
                                  weightsCell(row, baseline: baseline), qualityCell(row, baseline: baseline), v.description])
                    verdicts.append(v)
                }
                if list.count == 1 {
                    cells.append(["  " + shortExecutes(list[0].executes, width: 22), "", "", "", "", "", ""])
                    verdicts.append(nil)
                }
            }
            return Block(model: model, heading: modelLine(model, result: result), rows: cells, verdicts: verdicts)
        }
    }

    /// The opening lines: what the numbers are and how to read them.
    static func preamble(_ result: SuiteResult) -> [String] {
        let env = result.environment
        return [
            "Which technique is worth it here? \(env.cpuModel), \(env.logicalCores) cores, \(env.buildConfiguration) build, \(env.timestamp)",
            "speed-up = fp32 median / technique median [95% bootstrap interval], > 1× is faster; best first within a model.",
            "quality: against fp32 on the model's evaluation set; \"outputs unchanged\": every top-1 agrees, cosine ≥ \(unchangedCosine).",
        ]
    }

    /// The summary lines (none wider than `width`).
    public static func render(_ result: SuiteResult) -> String {
        var out: [String] = []
        if isDebug(result.environment) { out.append("!!! DEBUG BUILD: these timings mean nothing; use `make run` !!!") }
        out += preamble(result)
        for block in blocks(result) {
            out.append("")
            out.append(block.heading)
            out.append(contentsOf: fitted(header: header, rows: block.rows, numeric: numericColumns))
        }
        out.append("")
        out.append("\(result.warnings.count) warning(s); the full table (--full, --html, every --output file) lists them with every row.")
        return out.map { clip($0, width) }.joined(separator: "\n") + "\n"
    }

    /// "encoder-small · fp32 b1×64 1.234 ms, b32×64 812 seq/s · 12.3 MB weights · A/A ±1.2%"
    static func modelLine(_ model: String, result: SuiteResult) -> String {
        let base = result.rows.filter { $0.model == model && $0.speedup == nil && !$0.isAA && ($0.workload ?? "forward") == "forward" && $0.point == nil }
        let aa = result.rows.filter { $0.model == model && $0.isAA && ($0.workload ?? "forward") == "forward" && $0.point == nil }
            .compactMap(\.speedup).map { max(abs($0.low - 1), abs($0.high - 1)) }.max()
        var parts = [model]
        if !base.isEmpty {
            parts.append("fp32 " + base.map { "\(pointLabel($0)) \(performanceCell($0))" }.joined(separator: ", "))
            parts.append("\(megabytes(base[0].weightBytes)) MB weights")
        }
        if let aa { parts.append("A/A noise ±\(fixed(aa * 100, 1))%") }
        return parts.joined(separator: " · ")
    }

    /// "1.52× [1.48–1.57]" (the verdict says whether it is within the noise).
    static func speedupCellPlain(_ s: Speedup) -> String {
        "\(fixed(s.ratio, 2))× [\(fixed(s.low, 2))–\(fixed(s.high, 2))]"
    }

    /// An aligned table indented by two, its first column narrowed and its last clipped until it fits `width`.
    static func fitted(header: [String], rows: [[String]], numeric: [Bool]) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        let fixedPart = 2 + widths.dropLast().reduce(0, +) + 2 * (widths.count - 1)
        if fixedPart + widths.last! > width {
            let excess = fixedPart + widths.last! - width
            let shrink = min(excess, max(0, widths[0] - 16))
            widths[0] -= shrink
        }
        func line(_ cells: [String]) -> String {
            let text = cells.enumerated().map { i, cell in
                let c = clip(cell, widths[i])
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return numeric[i] ? pad + c : (i == cells.count - 1 ? c : c + pad)
            }.joined(separator: "  ")
            var trimmed = "  " + text
            while trimmed.hasSuffix(" ") { trimmed.removeLast() }
            return clip(trimmed, width)
        }
        return [line(header)] + rows.map(line)
    }
}
