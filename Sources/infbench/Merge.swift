// `infbench merge`: combine the job results of a plan (one directory per cluster
// or machine type, or one for all) into one result of kind `merge`.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine plan job results from results directories into one merged result.",
        discussion: """
        Rows keep their own host's samples; speed-ups are the ones each host measured interleaved, summarised \
        over the hosts of one machine type (INFBENCH_MACHINE_TYPE in a job's environment names its type; else the \
        CPU model and core count) with an interval, machine types side by side. Missing and failed jobs are listed. \
        Results of different builds or plans are refused unless --allow-mismatch. `infbench show` prints the output.
        """)

    @Argument(help: "Results directories written by `infbench run --plan … --results DIR`.")
    var directories: [String] = []

    @Option(help: "The plan (default: plan.json in the first results directory).")
    var plan: String?

    @Option(help: "Write the merged result here as JSON (atomically).")
    var output: String

    @Flag(name: .customLong("allow-mismatch"), help: "Merge results of different builds (git commit, build configuration, Swift) or plans anyway, and say so in the result.")
    var allowMismatch = false

    @Option(help: "Format printed on the terminal: table (the merge report) or json.")
    var format: OutputFormat = .table

    func validate() throws {
        if directories.isEmpty { throw ValidationError("merge needs at least one results directory.") }
        if output.isEmpty { throw ValidationError("--output needs a file name.") }
    }

    func run() throws {
        try checkOutput(output, inputs: (plan.map { [$0] } ?? []) + directories.map { ($0 as NSString).appendingPathComponent("plan.json") })
        let merged = try Merger.merge(directories: directories, planPath: plan, allowMismatch: allowMismatch)
        print(format == .json ? JSONPrinter().render(merged) : MergeReport.render(merged), terminator: "")
        try writeAtomically(JSONPrinter().render(merged), to: output)
        let missing = merged.merge?.missingJobs.count ?? 0
        FileHandle.standardError.write(Data("wrote \(output)\(missing > 0 ? " (\(missing) job(s) missing or failed)" : "")\n".utf8))
    }
}
