// `infbench compare`: two suite results row by row, with a bootstrap interval on
// each ratio of medians and a verdict that calls a change only beyond the noise.
import ArgumentParser
import Foundation
import InfHarness

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two suite results (two machines, commits or settings) row by row: change, interval, faster/slower/~noise.",
        discussion: "Rows are matched by model, variant, batch, sequence length and threads; the interval comes from the raw samples.")

    @Argument(help: "The reference result (`infbench run --output A.json`).")
    var a: String

    @Argument(help: "The result compared with it; a change is B against A.")
    var b: String

    @Option(help: "Output format: table, markdown, csv or json.")
    var format: OutputFormat = .table

    @Option(name: .customLong("min-change"), help: "Smallest change in percent called faster or slower (an A/A row can raise it).")
    var minChangePercent: Double = 2

    @Option(name: .customLong("bootstrap-resamples"), help: "Bootstrap resamples per row.")
    var resamples: Int = 2000

    @Option(help: "Seed of the bootstrap resampling.")
    var seed: UInt64 = 1

    @Option(help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    func validate() throws {
        try checkRange("--min-change", minChangePercent, 0...100)
        try checkRange("--bootstrap-resamples", resamples, 100...1_000_000)
    }

    func run() throws {
        let resultA = try decodeSuiteResult(from: try readResultFile(a), path: a)
        let resultB = try decodeSuiteResult(from: try readResultFile(b), path: b)
        if let output { try checkOutput(output, inputs: [a, b]) }
        let comparison = compareSuites(resultA, resultB, pathA: a, pathB: b, minChange: minChangePercent / 100,
                                       resamples: resamples, seed: seed)
        let text = renderComparison(comparison, format: format)
        if let output {
            try writeAtomically(text, to: output)
        } else {
            print(text, terminator: "")
        }
    }
}
