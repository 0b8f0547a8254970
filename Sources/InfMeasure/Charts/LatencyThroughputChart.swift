// Latency against throughput as the batch grows: one line per model × variant ×
// sequence length × threads, one point per batch size. Where a line turns flat,
// bigger batches only add latency.

/// The chart of a suite result (an SVG document).
public func latencyThroughputChart(_ result: SuiteResult) -> String {
    // A series is named by these parts; the ones all series share go to the title
    // (and the unit to the y axis) instead of being repeated in every legend line.
    func parts(_ row: ResultRow) -> [String] {
        [row.model, row.variant, row.sequenceLength.map { "×\($0) tok" } ?? "", "\(row.threads) thr", "\(row.itemUnit)/s"]
    }
    var order: [[String]] = []
    var groups: [[String]: [ResultRow]] = [:]
    var dropped = 0
    // The A/A rows re-measure the baseline: on this chart they would only repeat its lines.
    for row in result.rows where !isAARow(row) {
        // A log axis has no place for a zero median (nothing was measured).
        guard row.stats.median > 0, row.throughput.isFinite else { dropped += 1; continue }
        if groups[parts(row)] == nil { order.append(parts(row)) }
        groups[parts(row), default: []].append(row)
    }
    let shared = Set((0..<5).filter { i in order.count > 1 && order.allSatisfy { $0[i] == order[0][i] } })
    let unit = shared.contains(4) ? order[0][4] : "items/s"
    let series = order.enumerated().map { i, key in
        let style = seriesStyle(i)
        let points = groups[key]!.sorted { $0.batch < $1.batch }.map { row in
            ChartPoint(x: row.stats.median * 1e3, y: row.throughput, label: "b\(row.batch)")
        }
        let label = key.indices.filter { !shared.contains($0) && !key[$0].isEmpty }.map { key[$0] }
        return ChartSeries(label: label.joined(separator: " · "), color: style.color, dash: style.dash, points: points)
    }
    let common = (0..<4).filter { shared.contains($0) && !order[0][$0].isEmpty }.map { order[0][$0] }
    var caption = "Each point is one instance of the grid: x = median wall time of one forward pass (ms, log scale), "
        + "y = throughput at that median (\(unit == "items/s" ? "items/s: sequences, images or tokens, as the legend says" : unit)); "
        + "labels give the batch size. No whiskers: the run-to-run spread is in the table's p90, p99 and CV columns."
    if let runs = result.rows.map(\.stats.count).min() { caption += " Every median is of at least \(runs) runs." }
    if result.rows.contains(where: isAARow) { caption += " The \(aaVariantName) rows (the baseline re-measured) are left out." }
    if dropped > 0 { caption += " \(dropped) row(s) without a positive median are left out." }
    return xyChart(title: "infbench \(result.suite): latency vs throughput by batch size"
                       + (common.isEmpty ? "" : " — " + common.joined(separator: " · ")),
                   subtitle: environmentLine(result.environment), caption: caption,
                   xTitle: "median latency per run (ms, log scale)", xScale: .log,
                   yTitle: "throughput (\(unit))", yScale: .linear, yIncludesZero: true, series: series)
}
