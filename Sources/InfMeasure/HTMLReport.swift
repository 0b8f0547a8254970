// A self-contained HTML report of one result: the summary (verdicts coloured), each model's
// charts as inline SVG, the environment, the warnings and the full per-instance table. No
// scripts, no fonts, no stylesheets or images from anywhere: it opens from disk in any browser,
// offline, and says the same thing years later.
import Foundation

public enum HTMLReport {
    public static func render(_ result: SuiteResult) -> String {
        let env = result.environment
        var h: [String] = []
        h.append("""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>infbench \(esc(result.suite)) — \(esc(env.timestamp))</title>
        <style>
        body { font: 14px/1.4 Helvetica, Arial, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
        th, td { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; vertical-align: top; }
        th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.executes { color: #666; font-size: 12px; padding-left: 1.5em; }
        .v-faster-unchanged { color: #0a6b1f; font-weight: bold; } .v-faster-costs { color: #8a5a00; font-weight: bold; }
        .v-faster-unmeasured { color: #0a4f6b; } .v-noise { color: #777; } .v-slower { color: #b00020; }
        .debug { background: #b00020; color: #fff; padding: .5em; font-weight: bold; }
        .warnings li { color: #8a5a00; } .charts svg { max-width: 100%; height: auto; margin: .5em 0; display: block; }
        details { margin: 1em 0; } summary { cursor: pointer; font-weight: bold; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 2px 1em; font-size: 13px; } dt { color: #666; }
        </style></head><body>
        """)
        if isDebug(env) { h.append("<p class=\"debug\">\(esc(debugBuildWarning))</p>") }
        h.append("<h1>infbench: which technique is worth it on this server?</h1>")
        h.append("<p id=\"preamble\">" + Summary.preamble(result).map(esc).joined(separator: "<br>") + "</p>")
        if result.interrupted == true { h.append("<p class=\"debug\">Interrupted (Ctrl-C): the rows shown are complete, the grid is not.</p>") }

        h.append("<section id=\"summary\"><h2>Summary</h2>")
        for block in Summary.blocks(result) {
            h.append("<h3>\(esc(block.heading))</h3>")
            h.append("<table class=\"summary\"><tr>" + Summary.header.map { "<th>\(esc($0))</th>" }.joined() + "</tr>")
            for (cells, verdict) in zip(block.rows, block.verdicts) {
                guard let verdict else {
                    h.append("<tr><td class=\"executes\" colspan=\"\(cells.count)\">\(esc(cells[0].trimmingCharacters(in: .whitespaces)))</td></tr>")
                    continue
                }
                var row = "<tr>"
                for (i, cell) in cells.enumerated() {
                    if i == cells.count - 1 {
                        row += "<td class=\"verdict \(verdictClass(verdict))\">\(esc(cell))</td>"
                    } else if i == 0 && cell.hasPrefix("  ") {
                        row += "<td class=\"executes\">\(esc(cell.trimmingCharacters(in: .whitespaces)))</td>"
                    } else {
                        row += "<td\(Summary.numericColumns[i] ? " class=\"num\"" : "")>\(esc(cell))</td>"
                    }
                }
                h.append(row + "</tr>")
            }
            h.append("</table>")
        }
        h.append("</section>")

        h.append("<section id=\"charts\" class=\"charts\"><h2>Charts</h2>")
        for (title, svg) in charts(result) {
            h.append("<h3>\(esc(title))</h3>")
            h.append(inlineSVG(svg))
        }
        h.append("</section>")

        h.append("<section id=\"warnings\" class=\"warnings\"><h2>Warnings (\(result.warnings.count))</h2>")
        h.append(result.warnings.isEmpty ? "<p>none</p>" : "<ul>" + result.warnings.map { "<li>\(esc($0))</li>" }.joined() + "</ul>")
        h.append("</section>")

        h.append("<section id=\"environment\"><h2>Environment</h2><dl>")
        for (name, value) in fieldList(env) { h.append("<dt>\(esc(name))</dt><dd>\(esc(value))</dd>") }
        h.append("<dt>sgemm roofline</dt><dd>\(esc(rooflineLine(result.roofline)))</dd>")
        if let line = bandwidthLine(result.bandwidth) { h.append("<dt>memory bandwidth</dt><dd>\(esc(line))</dd>") }
        h.append("</dl></section>")

        h.append("<section id=\"full\"><details><summary>Every instance (\(result.rows.count) rows)</summary>")
        h.append("<table><tr>" + resultColumns.map { "<th>\(esc($0.header))</th>" }.joined() + "</tr>")
        for row in result.rows {
            h.append("<tr>" + zip(resultCells(row), resultColumns).map { cell, column in
                "<td\(column.numeric ? " class=\"num\"" : "")>\(esc(cell))</td>"
            }.joined() + "</tr>")
        }
        h.append("</table>")
        if let legend = speedupLegend(result) { h.append("<p>\(esc(legend))</p>") }
        h.append("<ul>" + executesLines(result).map { "<li>\(esc($0))</li>" }.joined() + "</ul>")
        h.append("</details></section>")
        h.append("</body></html>")
        return h.joined(separator: "\n") + "\n"
    }

    /// Per model: the speed-up and latency/throughput charts of its forward-pass grid; then the
    /// KV-cache chart of every generation measured.
    static func charts(_ result: SuiteResult) -> [(title: String, svg: String)] {
        var models: [String] = []
        for row in result.rows where !models.contains(row.model) { models.append(row.model) }
        var list: [(title: String, svg: String)] = []
        for model in models {
            var part = result
            part.rows = result.rows.filter { $0.model == model }
            part.warnings = []
            let forward = part.rows.filter { ($0.workload ?? "forward") == "forward" && $0.point == nil }
            if forward.contains(where: { $0.speedup != nil }) {
                var grid = part
                grid.rows = forward
                list.append(("\(model): speed-up by technique", speedupChart(grid)))
                list.append(("\(model): latency and throughput", latencyThroughputChart(grid)))
            }
            let generation = part.rows.filter { $0.positions != nil }
            if !generation.isEmpty {
                var kv = part
                kv.kind = .generate
                kv.rows = generation
                list.append(("\(model): per-token latency by position", kvCacheChart(kv)))
            }
        }
        return list
    }

    /// An SVG document as an element of the page: without its XML declaration.
    static func inlineSVG(_ svg: String) -> String {
        guard svg.hasPrefix("<?xml"), let end = svg.range(of: "?>") else { return svg }
        return String(svg[end.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func verdictClass(_ v: Summary.Verdict) -> String {
        switch v {
        case .fasterUnchanged: return "v-faster-unchanged"
        case .fasterCosts: return "v-faster-costs"
        case .fasterUnmeasured, .fasterAccuracyKept: return "v-faster-unmeasured"
        case .withinNoise: return "v-noise"
        case .slower: return "v-slower"
        }
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
