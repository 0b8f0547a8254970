// GitHub Markdown: the same results table as the terminal report, for
// Results/*.md, plus an Environment section that lists every field of the
// environment and the run configuration, so the file stands on its own.

public struct MarkdownPrinter: ResultPrinter {
    public init() {}

    public func render(_ result: SuiteResult) -> String {
        let env = result.environment
        var out: [String] = []
        out.append("# infbench: \(escape(result.suite))")
        out.append("")
        if isDebug(env) {
            out.append("> **WARNING** \(debugBuildWarning)")
            out.append("")
        }
        out.append("\(env.timestamp) · commit `\(env.gitCommit)` · \(escape(env.cpuModel)) · "
                   + "\(env.logicalCores) logical cores · \(escape(env.openblasCore)) · "
                   + "Swift \(env.swiftVersion), \(env.buildConfiguration) build")
        out.append("")
        out.append(roofLines(result).joined(separator: "  \n"))
        out.append("")

        out.append(markdownTable(header: resultColumns.map(\.header),
                                 numeric: resultColumns.map(\.numeric),
                                 rows: result.rows.map(resultCells)))
        if let legend = speedupLegend(result) {
            out.append("")
            out.append(legend)
        }
        out.append("")

        out.append("## What executed")
        out.append("")
        out.append(contentsOf: executesLines(result).map { "- \(escape($0))" })
        out.append("")

        out.append("## Noise floor (A/A)")
        out.append("")
        let floor = noiseFloorLines(result)
        out.append(contentsOf: floor.isEmpty
                   ? ["Not measured (no \"\(aaVariantName)\" row)."]
                   : floor.map { "- \($0)" })
        out.append("")

        // A section of escaped list items, left out when it has none.
        func listSection(_ title: String, _ lines: [String]) {
            guard !lines.isEmpty else { return }
            out.append("## \(title)")
            out.append("")
            out.append(contentsOf: lines.map { "- \(escape($0))" })
            out.append("")
        }
        listSection("Thread scaling (baseline throughput; efficiency = speed-up / thread ratio)", scalingLines(result))
        listSection("Profile (share of a forward pass's wall time; phases are exclusive)", profileLines(result))

        out.append("## Warnings")
        out.append("")
        out.append(contentsOf: result.warnings.isEmpty ? ["None."] : result.warnings.map { "- \(escape($0))" })
        out.append("")

        out.append("## Environment")
        out.append("")
        out.append("### Machine and build")
        out.append("")
        out.append(fieldTable(fieldList(env)))
        out.append("")
        out.append("### Run configuration")
        out.append("")
        out.append(fieldTable(fieldList(result.configuration)))
        out.append("")
        out.append("### sgemm roofline")
        out.append("")
        out.append(markdownTable(
            header: ["threads", "m", "n", "k", "GFLOP/s", "before grid", "after grid", "samples", "median ms"],
            numeric: Array(repeating: true, count: 9),
            rows: result.roofline.map { p in
                [String(p.threads), String(p.m), String(p.n), String(p.k), fixed(p.gflops, 1),
                 fixed(p.gflopsBefore, 1), fixed(p.gflopsAfter, 1),
                 String(p.samplesNs.count), fourDigits(SampleStats(samplesNs: p.samplesNs).median * 1e3)]
            }))
        return out.joined(separator: "\n") + "\n"
    }

    private func fieldTable(_ fields: [(name: String, value: String)]) -> String {
        markdownTable(header: ["field", "value"], numeric: [false, false],
                      rows: fields.map { [$0.name, $0.value] })
    }
}

/// A GitHub table; numeric columns are right-aligned with `---:`.
func markdownTable(header: [String], numeric: [Bool], rows: [[String]]) -> String {
    func line(_ cells: [String]) -> String {
        "| " + cells.map(escape).joined(separator: " | ") + " |"
    }
    var lines = [line(header)]
    lines.append("|" + numeric.map { $0 ? "---:|" : "---|" }.joined())
    lines.append(contentsOf: rows.map(line))
    return lines.joined(separator: "\n")
}

/// A pipe would end a table cell and a newline the row.
private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "|", with: "\\|")
        .replacingOccurrences(of: "\r\n", with: " ")
        .replacingOccurrences(of: "\n", with: " ")
}
