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
        subcommands: [Run.self, List.self, Distill.self, Embed.self, Generate.self, Cache.self, Serve.self, Lengths.self, Softmax.self,
                      Sparsity.self, Show.self, Compare.self, Reproduce.self, Chart.self, Export.self])

    /// Negative numbers are joined to their option first (see `joiningNegativeNumbers`).
    static func main() {
        main(joiningNegativeNumbers(Array(CommandLine.arguments.dropFirst())))
    }
}
