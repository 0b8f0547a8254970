// `infbench show`: print a saved result file in any format (e.g. JSON → Markdown).
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a saved result JSON as a table, Markdown, CSV or JSON.")

    @Argument(help: "A result file written by `infbench run --output FILE.json`.")
    var file: String

    @Option(help: "Output format: table, markdown, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    @Flag(help: "Print the 120-column summary with verdicts (as `make run` prints it) instead of the full table.")
    var summary = false

    @Option(help: "Also write the self-contained HTML report of this result to this file.")
    var html: String?

    func run() throws {
        let result = try decodeSuiteResult(from: try readResultFile(file), path: file)
        // A merged result has rows of many hosts: its own report shows them apart (Merge.swift).
        let text = summary ? Summary.render(result)
            : result.kind != .merge || format == .csv || format == .json ? printer(for: format).render(result)
            : format == .markdown ? "```\n" + MergeReport.render(result) + "```\n" : MergeReport.render(result)
        if let html {
            try checkOutput(html, inputs: [file])
            try writeHTML(result, to: html)
        }
        if let output {
            try checkOutput(output, inputs: [file])
            try writeAtomically(text, to: output)
        } else {
            print(text, terminator: "")
        }
    }
}
