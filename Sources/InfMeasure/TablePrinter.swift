// The default output: an aligned plain-text report for a terminal — the
// environment header, one results table, its legend, warnings and the
// A/A noise floor, in that order.

public struct TablePrinter: ResultPrinter {
    public init() {}

    public func render(_ result: SuiteResult) -> String {
        let env = result.environment
        var out: [String] = []
        if isDebug(env) { out.append(debugBuildWarning) }
        out.append(result.kind == .run ? "infbench suite: \(result.suite)" : "infbench \(result.kind.rawValue): \(result.suite)")
        out.append(contentsOf: workloadLines(result).map { "workload:   \($0)" })
        out.append("timestamp:  \(env.timestamp)   commit: \(env.gitCommit)   host: \(env.hostname)")
        let features = env.cpuFeatures.isEmpty ? "no extra features" : env.cpuFeatures.joined(separator: " ")
        out.append("cpu:        \(env.cpuModel) [\(features)], \(env.logicalCores) logical cores")
        out.append("openblas:   \(env.openblasConfig) (core \(env.openblasCore)); infbench C kernels: \(env.kernelISA)")
        if !env.variables.isEmpty {
            out.append("env:        " + env.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        out.append("swift:      \(env.swiftVersion) (compiler that built this binary), \(env.buildConfiguration) build")
        out.append("load avg:   " + env.loadAverage.map { fixed($0, 2) }.joined(separator: " "))
        out.append("os:         \(env.os)")
        out.append(contentsOf: roofLines(result))
        out.append("")

        out.append(contentsOf: alignedTable(header: resultColumns.map(\.header),
                                            numeric: resultColumns.map(\.numeric),
                                            rows: result.rows.map(resultCells)))
        if let legend = speedupLegend(result) { out.append(legend) }
        out.append("")
        out.append("What executed:")
        out.append(contentsOf: executesLines(result).map { "  \($0)" })
        out.append("")

        if result.warnings.isEmpty {
            out.append("Warnings: none")
        } else {
            out.append("Warnings:")
            out.append(contentsOf: result.warnings.map { "  ! \($0)" })
        }

        let floor = noiseFloorLines(result)
        if floor.isEmpty {
            out.append("Noise floor (A/A): not measured (no \"\(aaVariantName)\" row)")
        } else if floor.count == 1 {
            out.append("Noise floor (A/A): \(floor[0])")
        } else {
            out.append("Noise floor (A/A):")
            out.append(contentsOf: floor.map { "  \($0)" })
        }
        let scaling = scalingLines(result)
        if !scaling.isEmpty {
            out.append("Thread scaling (baseline throughput; efficiency = speed-up / thread ratio):")
            out.append(contentsOf: scaling.map { "  \($0)" })
        }
        let profiles = profileLines(result)
        if !profiles.isEmpty {
            out.append("Profile (share of a forward pass's wall time; phases are exclusive):")
            out.append(contentsOf: profiles.map { "  \($0)" })
        }
        if isDebug(env) { out.append(debugBuildWarning) }
        return out.joined(separator: "\n") + "\n"
    }
}

/// Columns padded to their widest cell (counted in Characters, which is what
/// a terminal shows for the symbols used here: ×, –, Δ, —), with a rule under the header.
public func alignedTable(header: [String], numeric: [Bool], rows: [[String]]) -> [String] {
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count {
            widths[i] = Swift.max(widths[i], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            return numeric[i] ? pad + cell : cell + pad
        }.joined(separator: "  ")
    }
    var lines = [line(header)]
    lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    lines.append(contentsOf: rows.map(line))
    // Trailing blanks from padding the last column help nobody.
    return lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
}
