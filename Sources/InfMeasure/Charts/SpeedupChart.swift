// Speed-up of each technique over the baseline, one horizontal bar per row that
// has one, with its bootstrap interval as whiskers and a reference line at 1×.
// A bar whose interval covers 1 is grey and says "~noise": no claim to make.

/// The chart of a suite result's speed-up rows (an SVG document).
public func speedupChart(_ result: SuiteResult) -> String {
    let bars = result.rows.compactMap { row -> (row: ResultRow, s: Speedup)? in
        guard let s = row.speedup, s.ratio.isFinite, s.low.isFinite, s.high.isFinite else { return nil }
        return (row, s)
    }
    let skipped = result.rows.filter { $0.speedup != nil }.count - bars.count
    // Techniques in first-seen order; the legend lists those with a bar outside the noise.
    var techniques: [String] = []
    for bar in bars where !techniques.contains(bar.row.variant) { techniques.append(bar.row.variant) }
    let coloured = Set(bars.filter { !$0.s.withinNoise }.map(\.row.variant))
    func color(_ bar: (row: ResultRow, s: Speedup)) -> String {
        bar.s.withinNoise ? noiseGrey : chartPalette[techniques.firstIndex(of: bar.row.variant)! % chartPalette.count]
    }
    // With one model, its name goes in the title instead of on every bar.
    let models = Set(bars.map(\.row.model))
    let labels = bars.map { (models.count == 1 ? "" : "\($0.row.model) · ") + "\($0.row.variant) · \(instanceShape($0.row))" }
    let title = "infbench \(result.suite): speed-up per technique" + (models.count == 1 ? " — \(models.first!)" : "")
    var legend = techniques.enumerated().filter { coloured.contains($0.element) }.map { i, name in
        LegendEntry(label: name, color: chartPalette[i % chartPalette.count], mark: .box)
    }
    if bars.contains(where: \.s.withinNoise) {
        legend.append(LegendEntry(label: "\(withinNoiseMark): the interval covers 1×", color: noiseGrey, mark: .box))
    }

    let rowHeight = 22.0
    let labelWidth = Swift.max((labels.map { textWidth($0, size: 11) }.max() ?? 0) + 12, 140)
    let width = Swift.max(960, 16 + labelWidth + 400 + 130)
    let confidence = bars.first?.s.confidence ?? 0.95
    let baseline = bars.first?.s.baseline ?? result.configuration.variants.first ?? "the baseline"
    var caption = "Bar = speed-up over \(baseline), a ratio of medians (baseline median / technique median; "
        + "> 1× is faster). Whiskers = \(fixed(confidence * 100, 0))% bootstrap confidence interval of that ratio "
        + "(\(result.configuration.bootstrapResamples) resamples of the raw samples). Grey bars labelled "
        + "\(withinNoiseMark): the interval covers 1×, the difference is inside the run-to-run noise. "
        + "The \(aaVariantName) row (baseline against itself) shows the noise floor."
    if skipped > 0 { caption += " \(skipped) row(s) with a non-finite ratio are left out." }
    let captions = captionLines(caption, width: width)

    let frame = Frame(left: 16 + labelWidth, top: 74, width: width - 16 - labelWidth - 130,
                      height: Swift.max(Double(bars.count), 1) * rowHeight,
                      x: Axis(title: "speed-up over \(baseline) (×)",
                              values: [0, 1] + bars.flatMap { [$0.s.low, $0.s.ratio, $0.s.high] }),
                      y: Axis(title: "", values: []))
    let legendTop = frame.bottom + 60
    let captionTop = legendTop + Double(legend.count) * legendRowHeight + 8
    var svg = SVG(width: width, height: captionTop + Double(captions.count) * 14 + 6)
    drawHeading(title: title, subtitle: environmentLine(result.environment), into: &svg)
    frame.drawXAxis(&svg, suffix: "×")
    if bars.isEmpty {
        svg.text("no speed-up rows (only the baseline was measured)", x: frame.left + frame.width / 2,
                 y: frame.top + 15, size: 13, anchor: "middle", fill: "#888")
    }
    for (i, bar) in bars.enumerated() {
        let mid = frame.top + (Double(i) + 0.5) * rowHeight
        let c = color(bar)
        // A rule between instances groups the techniques measured together.
        if i > 0 && instanceShape(bars[i - 1].row) + bars[i - 1].row.model != instanceShape(bar.row) + bar.row.model {
            svg.line(16, mid - rowHeight / 2, frame.right, mid - rowHeight / 2, stroke: "#d0d0d0", width: 0.8)
        }
        svg.text(labels[i], x: frame.left - 8, y: mid + 4, size: 11, anchor: "end")
        svg.rect(x: frame.px(0), y: mid - 7, width: frame.px(bar.s.ratio) - frame.px(0), height: 14, fill: c, opacity: 0.85,
                 role: "bar")
        let lo = frame.px(bar.s.low), hi = frame.px(bar.s.high)
        svg.line(lo, mid, hi, mid, stroke: "#222", width: 1.2)
        svg.line(lo, mid - 5, lo, mid + 5, stroke: "#222", width: 1.2)
        svg.line(hi, mid - 5, hi, mid + 5, stroke: "#222", width: 1.2)
        let value = "\(fixed(bar.s.ratio, 2))×" + (bar.s.withinNoise ? " \(withinNoiseMark)" : "")
        svg.text(value, x: Swift.max(hi, frame.px(bar.s.ratio)) + 6, y: mid + 4, size: 11,
                 fill: bar.s.withinNoise ? "#777" : "#222")
    }
    svg.line(frame.px(1), frame.top - 6, frame.px(1), frame.bottom, stroke: "#b22222", width: 1.2, dash: "5 3")
    svg.text("1× (no change)", x: frame.px(1), y: frame.top - 10, size: 10, anchor: "middle", fill: "#b22222")
    drawLegend(legend, x: 16, y: legendTop, into: &svg)
    drawCaption(captions, top: captionTop, into: &svg)
    return svg.render(title: title)
}

/// "b8×128 2 thr": batch (× tokens for transformers) and threads.
func instanceShape(_ row: ResultRow) -> String {
    "b\(row.batch)\(row.sequenceLength.map { "×\($0)" } ?? "") · \(row.threads) thr"
}
