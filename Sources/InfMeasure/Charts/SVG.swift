// A small SVG 1.1 builder for infbench's charts: escaped text, axes with round
// ticks (linear or log), a legend, a title and a caption, and the x–y line plot
// three of the charts share. Output is a standalone file any browser opens.
import Foundation

/// Escapes text for XML character data and attribute values.
func xmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}

/// A coordinate with one decimal. Chart code never passes a non-finite value on
/// purpose; should one slip through, 0 keeps the file valid rather than "nan".
func svgNumber(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let text = String(format: "%.1f", v)
    return text == "-0.0" ? "0.0" : text
}

/// Ten distinguishable colours (Tableau 10); series past ten reuse them dashed.
let chartPalette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
let noiseGrey = "#a0a0a0"

/// Colour and dash pattern of series number `i`.
func seriesStyle(_ i: Int) -> (color: String, dash: String?) {
    let dashes: [String?] = [nil, "6 3", "2 2", "8 3 2 3"]
    return (chartPalette[i % chartPalette.count], dashes[(i / chartPalette.count) % dashes.count])
}

/// Rough width in pixels of `text` at `size` px in a sans-serif font.
func textWidth(_ text: String, size: Double) -> Double {
    Double(text.count) * size * 0.6
}

/// Greedy word wrap to lines of at most `width` characters.
func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && line.count + 1 + word.count > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}

// MARK: Document

struct SVG {
    let width: Double
    let height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
                       stroke: String, width: Double = 1, dash: String? = nil, role: String? = nil) {
        elements.append("<line\(classAttribute(role)) x1=\"\(svgNumber(x1))\" y1=\"\(svgNumber(y1))\" x2=\"\(svgNumber(x2))\" y2=\"\(svgNumber(y2))\" "
                        + "stroke=\"\(stroke)\" stroke-width=\"\(svgNumber(width))\"\(dashAttribute(dash))/>")
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, opacity: Double = 1,
                       role: String? = nil) {
        elements.append("<rect\(classAttribute(role)) x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(max(width, 0)))\" "
                        + "height=\"\(svgNumber(max(height, 0)))\" fill=\"\(fill)\""
                        + (opacity < 1 ? " fill-opacity=\"\(svgNumber(opacity))\"" : "") + "/>")
    }

    mutating func circle(_ cx: Double, _ cy: Double, r: Double, fill: String, role: String? = nil) {
        elements.append("<circle\(classAttribute(role)) cx=\"\(svgNumber(cx))\" cy=\"\(svgNumber(cy))\" r=\"\(svgNumber(r))\" fill=\"\(fill)\"/>")
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        guard points.count > 1 else { return }
        let list = points.map { "\(svgNumber($0.x)),\(svgNumber($0.y))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" "
                        + "stroke-width=\"\(svgNumber(width))\"\(dashAttribute(dash))/>")
    }

    /// `anchor`: start, middle or end. `rotate`: degrees about (x, y).
    mutating func text(_ text: String, x: Double, y: Double, size: Double = 11, anchor: String = "start",
                       fill: String = "#222", bold: Bool = false, rotate: Double? = nil) {
        var attributes = "x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" font-size=\"\(svgNumber(size))\" fill=\"\(fill)\""
        if anchor != "start" { attributes += " text-anchor=\"\(anchor)\"" }
        if bold { attributes += " font-weight=\"bold\"" }
        if let rotate { attributes += " transform=\"rotate(\(svgNumber(rotate)) \(svgNumber(x)) \(svgNumber(y)))\"" }
        elements.append("<text \(attributes)>\(xmlEscape(text))</text>")
    }

    /// `role` names what an element shows ("bar", "point", "axis"), for tests and stylesheets.
    private func classAttribute(_ role: String?) -> String {
        role.map { " class=\"\($0)\"" } ?? ""
    }

    private func dashAttribute(_ dash: String?) -> String {
        dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
    }

    /// The standalone document; `title` also names the browser tab.
    func render(title: String) -> String {
        let size = "width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\""
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" \(size) font-family="Helvetica, Arial, sans-serif">
        <title>\(xmlEscape(title))</title>
        <rect x="0" y="0" width="\(svgNumber(width))" height="\(svgNumber(height))" fill="#ffffff"/>
        \(elements.joined(separator: "\n"))
        </svg>

        """
    }
}

// MARK: Axes

/// A numeric axis over round tick values: its domain runs from the first tick
/// to the last, so every plotted value lies inside.
struct Axis {
    enum Scale { case linear, log }
    let title: String
    let scale: Scale
    let ticks: [Double]
    var lo: Double { ticks.first! }
    var hi: Double { ticks.last! }

    /// Fits `values` (non-finite ones, and non-positive ones on a log axis, are ignored).
    init(title: String, values: [Double], scale: Scale = .linear, includeZero: Bool = false) {
        self.title = title
        self.scale = scale
        switch scale {
        case .linear:
            var usable = values.filter(\.isFinite)
            if includeZero { usable.append(0) }
            ticks = linearTicks(min: usable.min() ?? 0, max: usable.max() ?? 1)
        case .log:
            let usable = values.filter { $0.isFinite && $0 > 0 }
            ticks = logTicks(min: usable.min() ?? 1, max: usable.max() ?? 10)
        }
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi`.
    func fraction(_ v: Double) -> Double {
        switch scale {
        case .linear: return (v - lo) / (hi - lo)
        case .log: return (log10(Swift.max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo))
        }
    }
}

/// 1, 2 or 5 × a power of ten, at least `rough`.
private func niceStep(_ rough: Double) -> Double {
    let power = pow(10, floor(log10(rough)))
    let f = rough / power
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power
}

/// About six round ticks covering [min, max]; a single value gets a span around it.
private func linearTicks(min: Double, max: Double) -> [Double] {
    var lo = min, hi = max
    if hi - lo <= abs(hi) * 1e-9 {
        let pad = lo == 0 ? 1 : abs(lo) * 0.1
        lo -= lo == 0 ? 0 : pad
        hi += pad
    }
    let step = niceStep((hi - lo) / 6)
    // A denormal or overflowing span (a hostile result file: every throughput 5e-324) has no
    // round step, and striding by a zero or NaN step never ends: two ticks will do.
    guard step.isNormal, step > 0, ((hi - lo) / step).isFinite else {
        return lo.isFinite && hi.isFinite && lo < hi ? [lo, hi] : [0, 1]
    }
    let first = (lo / step).rounded(.down), last = Swift.max((hi / step).rounded(.up), first + 1)
    // Multiplying whole step counts keeps 0.1 × 3 from drifting to 0.30000000000000004.
    return stride(from: first, through: last, by: 1).map { ($0 * step * 1e12).rounded() / 1e12 }
}

/// Powers of ten covering [min, max], with 2× and 5× in between when the span is
/// three decades or fewer.
private func logTicks(min: Double, max: Double) -> [Double] {
    let first = Int(floor(log10(min))), last = Swift.max(Int(ceil(log10(max))), first + 1)
    var ticks: [Double] = []
    for e in first...last {
        let decade = pow(10, Double(e))
        ticks.append(decade)
        if last - first <= 3 && e < last { ticks += [2 * decade, 5 * decade] }
    }
    // Trim the round ticks beyond the data, keeping one on each side.
    let below = ticks.lastIndex { $0 <= min } ?? 0
    let above = ticks.firstIndex { $0 >= max } ?? ticks.count - 1
    return Array(ticks[below...Swift.max(above, below + 1)])
}

/// "0", "0.25", "2", "1500", "1e+06".
func tickLabel(_ v: Double) -> String {
    String(format: "%g", v)
}

/// The plotting rectangle and the axes mapped onto it.
struct Frame {
    let left, top, width, height: Double
    let x: Axis
    let y: Axis

    func px(_ v: Double) -> Double { left + x.fraction(v) * width }
    func py(_ v: Double) -> Double { top + height - y.fraction(v) * height }
    var bottom: Double { top + height }
    var right: Double { left + width }

    /// Vertical grid lines, ticks and labels of the x axis, and its title.
    func drawXAxis(_ svg: inout SVG, suffix: String = "") {
        for t in x.ticks {
            svg.line(px(t), top, px(t), bottom, stroke: "#e4e4e4")
            svg.line(px(t), bottom, px(t), bottom + 4, stroke: "#555")
            svg.text(tickLabel(t) + suffix, x: px(t), y: bottom + 16, size: 10, anchor: "middle", fill: "#444")
        }
        svg.line(left, bottom, right, bottom, stroke: "#555", role: "axis")
        svg.text(x.title, x: left + width / 2, y: bottom + 34, size: 12, anchor: "middle")
    }

    /// Horizontal grid lines, ticks and labels of the y axis, and its title.
    func drawYAxis(_ svg: inout SVG) {
        for t in y.ticks {
            svg.line(left, py(t), right, py(t), stroke: "#e4e4e4")
            svg.line(left - 4, py(t), left, py(t), stroke: "#555")
            svg.text(tickLabel(t), x: left - 7, y: py(t) + 3.5, size: 10, anchor: "end", fill: "#444")
        }
        svg.line(left, top, left, bottom, stroke: "#555", role: "axis")
        svg.text(y.title, x: left - 50, y: top + height / 2, size: 12, anchor: "middle", rotate: -90)
    }
}

// MARK: Title, caption, legend

struct LegendEntry {
    enum Mark { case line, box }
    var label: String
    var color: String
    var dash: String? = nil
    var mark: Mark = .line
}

let legendRowHeight = 16.0

/// Width the legend's longest label needs.
func legendWidth(_ entries: [LegendEntry]) -> Double {
    Swift.max((entries.map { textWidth($0.label, size: 11) }.max() ?? 0) + 36, 120)
}

func drawLegend(_ entries: [LegendEntry], x: Double, y: Double, into svg: inout SVG) {
    for (i, e) in entries.enumerated() {
        let cy = y + Double(i) * legendRowHeight
        switch e.mark {
        case .line:
            svg.line(x, cy - 4, x + 22, cy - 4, stroke: e.color, width: 2, dash: e.dash)
            svg.circle(x + 11, cy - 4, r: 2.5, fill: e.color)
        case .box:
            svg.rect(x: x + 4, y: cy - 10, width: 14, height: 10, fill: e.color)
        }
        svg.text(e.label, x: x + 28, y: cy, size: 11)
    }
}

/// Title (bold), subtitle (where it was measured) at the top.
func drawHeading(title: String, subtitle: String, into svg: inout SVG) {
    svg.text(title, x: 16, y: 24, size: 15, bold: true)
    svg.text(subtitle, x: 16, y: 42, size: 11, fill: "#555")
}

/// Lines of the caption, wrapped to the chart's width.
func captionLines(_ caption: String, width: Double) -> [String] {
    wrap(caption, width: Int((width - 32) / textWidth("x", size: 11)))
}

func drawCaption(_ lines: [String], top: Double, into svg: inout SVG) {
    for (i, line) in lines.enumerated() {
        svg.text(line, x: 16, y: top + Double(i) * 14, size: 11, fill: "#444")
    }
}

/// "2026-11-26T06:25:55Z · commit 4ce454720ebc · AMD EPYC · 2 cores · OpenBLAS Haswell · release build"
func environmentLine(_ env: EnvironmentInfo) -> String {
    "\(env.timestamp) · commit \(env.gitCommit) · \(env.cpuModel) · \(env.logicalCores) cores · "
        + "OpenBLAS \(env.openblasCore) · \(env.buildConfiguration) build"
        + (env.buildConfiguration == "debug" ? " (DEBUG: timings mean nothing)" : "")
}

// MARK: The shared x–y plot

struct ChartPoint {
    var x: Double
    var y: Double
    /// Drawn beside the marker (e.g. "b8").
    var label: String? = nil
    /// Whiskers, drawn when given.
    var xRange: ClosedRange<Double>? = nil
    var yRange: ClosedRange<Double>? = nil
}

struct ChartSeries {
    var label: String
    var color: String
    var dash: String? = nil
    var points: [ChartPoint]
}

/// A complete x–y chart: heading, axes, one polyline with markers per series,
/// whiskers, a legend on the right (one entry per series unless `legend` is
/// given) and the caption underneath. Points must
/// already be finite (and positive on a log axis); axes are fitted to them and
/// their whiskers.
func xyChart(title: String, subtitle: String, caption: String, xTitle: String, xScale: Axis.Scale,
             yTitle: String, yScale: Axis.Scale, yIncludesZero: Bool = false,
             series: [ChartSeries], legend customLegend: [LegendEntry]? = nil) -> String {
    let points = series.flatMap(\.points)
    let xs = points.flatMap { p in [p.x] + (p.xRange.map { [$0.lowerBound, $0.upperBound] } ?? []) }
    let ys = points.flatMap { p in [p.y] + (p.yRange.map { [$0.lowerBound, $0.upperBound] } ?? []) }
    let legend = customLegend ?? series.map { LegendEntry(label: $0.label, color: $0.color, dash: $0.dash) }

    // The chart widens rather than squeeze the plot below 520 px for a long legend.
    let legendW = legendWidth(legend)
    let width = Swift.max(960, 76 + 520 + 36 + legendW)
    let captions = captionLines(caption, width: width)
    let plotHeight = Swift.max(380, Double(legend.count) * legendRowHeight - 10)
    let frame = Frame(left: 76, top: 64, width: width - 76 - legendW - 36, height: plotHeight,
                      x: Axis(title: xTitle, values: xs, scale: xScale),
                      y: Axis(title: yTitle, values: ys, scale: yScale, includeZero: yIncludesZero))
    var svg = SVG(width: width, height: frame.bottom + 60 + Double(captions.count) * 14)
    drawHeading(title: title, subtitle: subtitle, into: &svg)
    frame.drawYAxis(&svg)
    frame.drawXAxis(&svg)
    if points.isEmpty {
        svg.text("no data to plot", x: frame.left + frame.width / 2, y: frame.top + frame.height / 2,
                 size: 14, anchor: "middle", fill: "#888")
    }
    for s in series {
        for p in s.points {
            if let r = p.xRange { svg.line(frame.px(r.lowerBound), frame.py(p.y), frame.px(r.upperBound), frame.py(p.y), stroke: s.color) }
            if let r = p.yRange { svg.line(frame.px(p.x), frame.py(r.lowerBound), frame.px(p.x), frame.py(r.upperBound), stroke: s.color) }
        }
        svg.polyline(s.points.map { (frame.px($0.x), frame.py($0.y)) }, stroke: s.color, dash: s.dash)
        for p in s.points {
            svg.circle(frame.px(p.x), frame.py(p.y), r: 3, fill: s.color, role: "point")
            if let label = p.label { svg.text(label, x: frame.px(p.x) + 5, y: frame.py(p.y) - 5, size: 9, fill: "#333") }
        }
    }
    drawLegend(legend, x: frame.right + 24, y: frame.top + 8, into: &svg)
    drawCaption(captions, top: frame.bottom + 56, into: &svg)
    return svg.render(title: title)
}
