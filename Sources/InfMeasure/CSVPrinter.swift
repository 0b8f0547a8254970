// One CSV line per result row with a header line, for spreadsheets and
// scripts: full-precision numbers in seconds and bytes, RFC 4180 quoting.
// Lines end in "\n" (RFC 4180 permits readers to accept it; every common one does).

public struct CSVPrinter: ResultPrinter {
    public init() {}

    public static let columns = [
        "model", "variant", "executes", "batch", "seq", "threads", "item_unit", "items_per_run",
        "warmup_runs", "n", "median_s", "mean_s", "p90_s", "p99_s", "min_s", "max_s", "stddev_s",
        "cv", "throughput", "gflops", "roofline_pct", "bandwidth_pct", "bytes_read_per_run", "speedup", "speedup_low", "speedup_high",
        "within_noise", "max_abs_diff", "mean_cosine", "top1_agreement", "accuracy", "weight_bytes", "peak_rss_bytes",
    ]

    public func render(_ result: SuiteResult) -> String {
        var lines = [Self.columns.map(csvField).joined(separator: ",")]
        for row in result.rows {
            let s = row.stats
            // Empty field: the value does not apply (no sequence, no baseline, no quality).
            let fields: [String] = [
                row.model, row.variant, row.executes, String(row.batch),
                row.sequenceLength.map(String.init) ?? "", String(row.threads), row.itemUnit,
                String(row.itemsPerRun), String(row.warmupRuns), String(s.count),
                number(s.median), number(s.mean), number(s.p90), number(s.p99),
                number(s.min), number(s.max), number(s.stddev), number(s.cv),
                number(row.throughput), number(row.gflops), row.rooflinePercent.map(number) ?? "",
                row.bandwidthPercent.map(number) ?? "", row.bytesReadPerRun.map(String.init) ?? "",
                row.speedup.map { number($0.ratio) } ?? "",
                row.speedup.map { number($0.low) } ?? "",
                row.speedup.map { number($0.high) } ?? "",
                row.speedup.map { String($0.withinNoise) } ?? "",
                row.quality.map { number($0.maxAbsDiff) } ?? "",
                row.quality.map { number($0.meanCosine) } ?? "",
                row.quality?.top1Agreement.map(number) ?? "",
                row.accuracy.map(number) ?? "",
                String(row.weightBytes), String(row.peakRSSBytes),
            ]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Shortest text that reads back as the same Double.
    private func number(_ x: Double) -> String { "\(x)" }
}

/// RFC 4180: a field holding a comma, quote, CR or LF is quoted, inner quotes doubled.
func csvField(_ text: String) -> String {
    let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    guard needsQuotes else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
