// `infbench compare`: two suite results row by row, with a bootstrap interval on
// each ratio of medians and a verdict that calls a change only beyond the noise.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two results (two machines, commits or settings) row by row: change, interval, faster/slower/~noise.",
        discussion: """
        Rows are matched by model, variant, batch, sequence length, threads and workload. A variant measured against its \
        baseline in both files is judged on its speed-ups (within-run ratios, which travel between runs). Absolute times \
        are judged only with several independent runs per side (--more-a, --more-b: the same configuration run again), \
        on run-level medians; with one run per side they are shown but not judged. --fail-if slower:5% makes a \
        regression gate: exit status 1 when a judged row is slower by more than 5 %.
        """)

    @Argument(help: "The reference result (`infbench run --output A.json`).")
    var a: String

    @Argument(help: "The result compared with it; a change is B against A.")
    var b: String

    @Option(name: .customLong("more-a"), help: "Another independent run of A's configuration (repeatable).")
    var moreA: [String] = []

    @Option(name: .customLong("more-b"), help: "Another independent run of B's configuration (repeatable).")
    var moreB: [String] = []

    @Option(name: .customLong("fail-if"), help: "Exit 1 when a judged row breaks this gate: slower:P%, faster:P% or change:P%.")
    var failIf: String?

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
        if let failIf { do { _ = try SuiteComparison.parseGate(failIf) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        let sideA = try ([a] + moreA).map { try decodeSuiteResult(from: try readResultFile($0), path: $0) }
        let sideB = try ([b] + moreB).map { try decodeSuiteResult(from: try readResultFile($0), path: $0) }
        if let merged = zip([a] + moreA + [b] + moreB, sideA + sideB).first(where: { $0.1.kind == .merge }) {
            throw ValidationError("\(merged.0) is a merged result of many hosts; compare job results, or read the merge's per-machine-type speed-ups with `infbench show`.")
        }
        if let output { try checkOutput(output, inputs: [a, b] + moreA + moreB) }
        let comparison = compareSuites(sideA, sideB, pathA: a, pathB: b, minChange: minChangePercent / 100,
                                       resamples: resamples, seed: seed)
        let text = renderComparison(comparison, format: format)
        if let output {
            try writeAtomically(text, to: output)
        } else {
            print(text, terminator: "")
        }
        if let failIf {
            let failing = comparison.failing(try SuiteComparison.parseGate(failIf))
            if !failing.isEmpty {
                FileHandle.standardError.write(Data("--fail-if \(failIf): \(failing.count) row(s) fail: \(failing.map(\.key.label).joined(separator: "; "))\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
