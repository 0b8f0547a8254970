// `infbench run` with neither --model nor --techniques (`make run`): the default suite, which
// answers "which technique is worth it on this server?" — summary first, then (with --full)
// every row; --output and --html keep everything.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfCore
import InfModels

extension Run {
    /// No model and no technique asked for: the technique comparison of DefaultSuite.swift.
    var isDefaultSuite: Bool { models.isEmpty && techniques == nil }

    func runDefaultSuite() throws {
        if let output { try checkOutput(output, inputs: []) }
        if let html { try checkOutput(html, inputs: []) }
        if isDebugBuild {
            FileHandle.standardError.write(Data("WARNING: this is a DEBUG build; its timings mean nothing. Use `make run` or `swift build -c release`.\n".utf8))
        }
        let progress = Progress(enabled: true)
        let specs = ModelLoader.defaultSuite()
        guard !specs.isEmpty else {
            throw ValidationError("no models: none bundled in \(ModelLoader.modelsDirectory).")
        }
        let (loaded, notes) = DefaultSuite.loadModels(specs, say: progress.say)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = self.threads?.values.max() ?? cores
        warnAboutOversubscription([threads])
        Interrupt.install() // Ctrl-C: stop after the group in hand, keep (print and save) the rows measured
        let start = monotonicNanoseconds()
        var result = try DefaultSuite.run(models: loaded, notes: notes, threads: threads, seed: seed,
                                          resamples: resamples, rooflineSize: rooflineSize, profile: profile, progress: progress)
        result.suite = suite
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        switch format {
        case .table:
            print(Summary.render(result), terminator: "")
            print("(measured in \(Progress.duration(seconds)))")
            if full { print("\n" + TablePrinter().render(result), terminator: "") }
        default:
            print(printer(for: format).render(result), terminator: "")
        }
        try save(result)
    }
}

/// Writes the HTML report atomically and says so on stderr.
func writeHTML(_ result: SuiteResult, to path: String) throws {
    try writeAtomically(HTMLReport.render(result), to: path)
    FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
}
