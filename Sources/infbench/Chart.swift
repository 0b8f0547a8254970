// `infbench chart`: SVG charts of saved results, written as DIR/<stem>-<chart>.svg.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure

struct Chart: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw SVG charts of saved results: latency vs throughput and speed-ups (run), per-token latency (generate), dense vs CSR (sparsity).",
        discussion: "Each FILE gets the charts that apply to its kind, written atomically as DIR/<stem>-<chart>.svg.")

    @Argument(help: ArgumentHelp("Result JSON files.", valueName: "file"))
    var files: [String]

    @Option(name: .customLong("output-dir"), help: "Directory for the SVG files (created if missing).")
    var outputDirectory: String

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one result file.") }
    }

    func run() throws {
        // Read every file first, so a bad one stops the command before anything is written.
        var inputs: [(stem: String, charts: [(name: String, svg: String)])] = []
        for file in files {
            let result = try ChartableResult.decode(from: try readResultFile(file), path: file)
            let charts = ChartableResult.charts(for: result)
            guard !charts.isEmpty else {
                FileHandle.standardError.write(Data("\(file): no chart draws this \(result.kind.rawValue) result (it has no speed-ups); skipped.\n".utf8))
                continue
            }
            let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            guard !inputs.contains(where: { $0.stem == stem }) else {
                throw ValidationError("\(file): another file is also named \(stem), and their charts would overwrite each other.")
            }
            inputs.append((stem, charts))
        }
        guard !inputs.isEmpty else {
            throw ValidationError("none of the files has anything to chart.")
        }
        try makeDirectory(outputDirectory)
        for input in inputs {
            for chart in input.charts {
                let path = (outputDirectory as NSString).appendingPathComponent("\(input.stem)-\(chart.name).svg")
                try writeAtomically(chart.svg, to: path)
                print("wrote \(path)")
            }
        }
    }

    private func makeDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw ValidationError("--output-dir \(path) is a file, not a directory.") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("--output-dir \(path): cannot create the directory.")
        }
    }
}
