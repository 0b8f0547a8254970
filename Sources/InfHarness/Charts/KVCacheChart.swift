// Per-token latency against position in greedy generation, with and without the
// KV cache: without it every step re-runs the whole sequence, so the time grows
// with position; with it a step is one row through the model and stays nearly flat.

/// The chart of a `generate` result (an SVG document). The result stores the
/// median step time per bucket of positions (not every step), so each point is
/// a bucket: its horizontal bar is the span of positions, not a spread.
public func kvCacheChart(_ result: GenerationResult) -> String {
    let end = result.promptLength + result.newTokens
    let series = result.variants.enumerated().map { i, v -> ChartSeries in
        let points = v.bucketStarts.indices.compactMap { b -> ChartPoint? in
            guard b < v.bucketMedians.count, v.bucketMedians[b] > 0, v.bucketMedians[b].isFinite else { return nil }
            let first = Double(v.bucketStarts[b])
            let last = Double(b + 1 < v.bucketStarts.count ? v.bucketStarts[b + 1] - 1 : end - 1)
            return ChartPoint(x: (first + last) / 2, y: v.bucketMedians[b] * 1e3, xRange: first...Swift.max(first, last))
        }
        var label = "\(v.variant): \(fixed(v.tokensPerSecond, 1)) tokens/s"
        if let s = v.speedup { label += ", \(speedupCell(s)) vs \(s.baseline)" }
        let style = seriesStyle(i)
        return ChartSeries(label: label, color: style.color, dash: style.dash, points: points)
    }
    let caption = "Each point is the median time of one generation step (one new token, ms, log scale) over a bucket of "
        + "positions, pooled over \(result.repeats) repeat(s); its horizontal bar is the span of positions in the bucket, "
        + "not a spread. Only these bucket medians are stored in the result (not each step's time), so no interval is drawn. "
        + "Prompt \(result.promptLength) tokens, then \(result.newTokens) generated greedily at batch 1; "
        + "cached and uncached tokens \(result.identicalTokens ? "are identical" : "DIFFER").  Speed-up in the legend: "
        + "tokens/s ratio with its bootstrap interval over the repeats."
    return xyChart(title: "infbench generate: \(result.model), per-token latency vs position, \(result.threads) thread(s)",
                   subtitle: environmentLine(result.environment), caption: caption,
                   xTitle: "position in the sequence (tokens)", xScale: .linear,
                   yTitle: "median ms per generated token (log)", yScale: .log, series: series)
}
