// `infbench show`: print a saved result file in any format (e.g. JSON → Markdown).
import ArgumentParser
import Foundation
import InfHarness

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a saved result JSON as a table, Markdown, CSV or JSON.")

    @Argument(help: "A result file written by `infbench run --output FILE.json`.")
    var file: String

    @Option(help: "Output format: table, markdown, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    func run() throws {
        let result = try decodeSuiteResult(from: try readResultFile(file), path: file)
        // A merged result has rows of many hosts: its own report shows them apart (Merge.swift).
        let text = result.kind != .merge || format == .csv || format == .json ? printer(for: format).render(result)
            : format == .markdown ? "```\n" + MergeReport.render(result) + "```\n" : MergeReport.render(result)
        if let output {
            try checkOutput(output, inputs: [file])
            try writeAtomically(text, to: output)
        } else {
            print(text, terminator: "")
        }
    }
}
