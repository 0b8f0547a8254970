// Per-token latency against position in greedy generation, with and without the
// KV cache: without it every step re-runs the whole sequence, so the time grows
// with position; with it a step is one row through the model and stays nearly flat.

/// The chart of a `generate` result (an SVG document): one series per variant row with
/// per-position medians. Each point is a bucket of positions: its horizontal bar is the
/// span of positions, not a spread.
public func kvCacheChart(_ result: SuiteResult) -> String {
    let rows = result.rows.filter { $0.positions != nil && !$0.isAA }
    let series = rows.enumerated().map { i, row -> ChartSeries in
        let points = (row.positions ?? []).compactMap { b -> ChartPoint? in
            guard b.median > 0, b.median.isFinite else { return nil }
            let first = Double(b.start), last = Double(Swift.max(b.start, b.end - 1))
            return ChartPoint(x: (first + last) / 2, y: b.median * 1e3, xRange: first...last)
        }
        var label = "\(row.variant): \(fixed(row.throughput, 1)) tokens/s"
        if let s = row.speedup { label += ", \(speedupCell(s)) vs \(s.baseline)" }
        let style = seriesStyle(i)
        return ChartSeries(label: label, color: style.color, dash: style.dash, points: points)
    }
    let identical = !result.rows.contains { $0.quality?.identical == false }
    let first = rows.first
    let caption = "Each point is the median time of one generation step (one new token, ms, log scale) over a bucket of "
        + "positions, pooled over the \(first?.samplesNs.count ?? 0) measured generations of each variant; its horizontal bar "
        + "is the span of positions in the bucket, not a spread. \(first?.point ?? "") at batch 1, greedy; "
        + "cached and uncached tokens \(identical ? "are identical" : "DIFFER"). Speed-up in the legend: tokens/s ratio "
        + "(whole generations, interleaved with an A/A copy) with its bootstrap interval."
    return xyChart(title: "infbench generate: \(first?.model ?? "?"), per-token latency vs position, \(first?.threads ?? 0) thread(s)",
                   subtitle: environmentLine(result.environment), caption: caption,
                   xTitle: "position in the sequence (tokens)", xScale: .linear,
                   yTitle: "median ms per generated token (log)", yScale: .log, series: series)
}
