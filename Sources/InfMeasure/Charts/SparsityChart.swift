// Where unstructured sparsity starts to pay: time of one product y = x · Wᵀ
// against sparsity, dense sgemm (dashed) and the CSR kernel (solid) in one
// colour per matrix shape. Where the solid line drops below the dashed one,
// the sparse kernel wins.

/// The chart of a `sparsity` result (an SVG document).
public func sparsityChart(_ result: SuiteResult) -> String {
    var shapes: [String] = []
    var byShape: [String: [CrossoverRow]] = [:]
    let dense = result.rows.filter { $0.workload == "spmm" && $0.speedup == nil }
    let sparse = result.rows.filter { $0.workload == "spmm" && $0.speedup != nil && !$0.isAA }
    for row in zip(dense, sparse).compactMap({ CrossoverRow(dense: $0, sparse: $1) }) {
        let key = "M=\(row.m) · W \(row.n)×\(row.k)"
        if byShape[key] == nil { shapes.append(key) }
        byShape[key, default: []].append(row)
    }
    var series: [ChartSeries] = []
    var legend: [LegendEntry] = []
    for (i, shape) in shapes.enumerated() {
        let rows = byShape[shape]!.sorted { $0.sparsity < $1.sparsity }
        let color = chartPalette[i % chartPalette.count]
        func points(_ median: (CrossoverRow) -> Double, _ samples: (CrossoverRow) -> [UInt64]) -> [ChartPoint] {
            rows.compactMap { r in
                let us = median(r) / 1e3
                guard us > 0, us.isFinite else { return nil }
                return ChartPoint(x: r.sparsity * 100, y: us, yRange: interquartileMicroseconds(samples(r), calls: r.callsPerSample))
            }
        }
        series.append(ChartSeries(label: "\(shape) dense", color: color, dash: "6 3",
                                  points: points(\.denseMedianNs, \.denseSamplesNs)))
        series.append(ChartSeries(label: "\(shape) CSR", color: color, points: points(\.sparseMedianNs, \.sparseSamplesNs)))
        // The lowest sparsity from which CSR is faster beyond the noise, if any.
        let wins = rows.filter { $0.ratio > 1 && !$0.withinNoise }.map(\.sparsity)
        let verdict = wins.min().map { "CSR faster from \(fixed($0 * 100, 0))%" } ?? "CSR never faster"
        legend.append(LegendEntry(label: "\(shape): \(verdict)", color: color))
    }
    legend += [LegendEntry(label: "dashed: dense sgemm (zeros multiplied)", color: "#555", dash: "6 3"),
               LegendEntry(label: "solid: CSR kernel (nonzeros only)", color: "#555")]
    let caption = "Time of one product y = x · Wᵀ (µs, log scale) against the fraction of W's weights pruned to zero "
        + "(magnitude pruning), x of M rows, W of N×K; both kernels multiply the same pruned matrix, timed interleaved. "
        + "Points are medians; whiskers span the middle half of the timed samples (25th–75th percentile). "
        + "\"CSR faster\" needs the bootstrap interval of dense/CSR to exclude 1."
    let threads = result.configuration.threads.first.map { ", \($0) thread(s)" } ?? ""
    return xyChart(title: "infbench sparsity: \(result.configuration.models.first ?? "?")'s matrix shapes, dense vs CSR\(threads)",
                   subtitle: environmentLine(result.environment), caption: caption,
                   xTitle: "sparsity (% of weights zero)", xScale: .linear,
                   yTitle: "µs per product (log)", yScale: .log, series: series, legend: legend)
}

/// 25th–75th percentile of samples of `calls` products each, in µs per product; nil without samples.
private func interquartileMicroseconds(_ samplesNs: [UInt64], calls: Int) -> ClosedRange<Double>? {
    guard !samplesNs.isEmpty else { return nil }
    let us = samplesNs.map { Double($0) / Double(Swift.max(calls, 1)) / 1e3 }.sorted()
    let lo = samplePercentile(sorted: us, 0.25), hi = samplePercentile(sorted: us, 0.75)
    return lo > 0 ? lo...hi : nil
}
