// The infbench command line: argument parsing and wiring only.
import ArgumentParser
import Foundation

@main
struct InfBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infbench",
        abstract: "Measure which inference optimisation is worth it on this machine, by how much, and at what cost in quality.",
        discussion: """
        Start with `infbench run` (the default suite on the bundled models) or `infbench list`.
        Timings are meaningful only from a release build (`make run` builds one).
        """,
        subcommands: [Run.self, List.self, Distill.self, TrainLM.self, TrainAdaptiveSoftmax.self, Embed.self, Generate.self, Cache.self,
                      Serve.self, Lengths.self, Softmax.self, Sparsity.self, Show.self, Compare.self, Reproduce.self, Chart.self,
                      Export.self, Plan.self, Merge.self])

    /// Negative numbers are joined to their option first (see `joiningNegativeNumbers`). An error
    /// message is printed whole only when it is short: a hostile input (a 20 MB model_type) must
    /// not be echoed in full, and the parser's word-wrapping of it takes minutes.
    static func main() {
        // Past a file-size limit, write(2) then fails with EFBIG and the atomic write cleans up and
        // says so, instead of the signal killing infbench with its temporary file left behind.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = joiningNegativeNumbers(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let text = "\(error)"
            if text.utf8.count > maxErrorBytes, !(error is CleanExit), !(error is ExitCode) {
                let head = String(decoding: text.utf8.prefix(maxErrorBytes / 2), as: UTF8.self)
                FileHandle.standardError.write(Data("Error: \(head)… (the rest of this \(text.utf8.count)-byte message is not shown)\n".utf8))
                Foundation.exit(EXIT_FAILURE)
            }
            exit(withError: error)
        }
    }

    static let maxErrorBytes = 4096
}
