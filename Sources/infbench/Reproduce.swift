// `infbench reproduce`: replay a stored suite result's configuration and seeds here.
import ArgumentParser
import Foundation
import InfHarness
import InfTechniques

struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run a stored result's configuration and seeds on this machine and judge each row REPRODUCED or DIFFERENT.",
        discussion: """
        Speed-ups and quality are judged (tolerances come from both runs' measured noise); absolute times are shown \
        but not judged, since they differ between machines. Exit status 0 when every judged row reproduced, 1 otherwise.
        """)

    @Argument(help: "A suite result written by `infbench run --output FILE.json` (e.g. Results/default.json).")
    var path: String

    @Option(help: "Also write the new run's result to this file (atomically), in the format its extension names.")
    var output: String?

    @Flag(name: .customLong("allow-long"), help: "Replay even when the stored grid is estimated to take more than an hour here.")
    var allowLong = false

    @Option(help: "Format printed on the terminal: table or json.")
    var format: OutputFormat = .table

    func run() throws {
        let reported = try decodeSuiteResult(from: try readResultFile(path), path: path)
        if let output { try checkOutput(output, inputs: [path]) }
        let c = reported.configuration
        let techniques = try c.variants.map { name -> Technique in
            do { return try Techniques.parse(name) } catch let e as TechniqueError {
                throw ValidationError("\(path): variant \"\(name)\" cannot be replayed here: \(e.message)")
            }
        }
        var plan = SuitePlan(suite: reported.suite, models: c.models, techniques: techniques, batchSizes: c.batchSizes, threads: c.threads,
                             sequenceLengths: c.sequenceLengths,
                             policy: MeasurementPolicy(minSeconds: c.minSeconds, minRuns: c.minRuns, maxWarmupRuns: c.maxWarmupRuns,
                                                       maxWarmupSeconds: c.maxWarmupSeconds),
                             inputSeed: c.inputSeed, bootstrapSeed: c.bootstrapSeed, bootstrapResamples: c.bootstrapResamples, rooflineSize: 1024)
        plan.profile = false
        let runner = SuiteRunner(plan: plan, showProgress: true)
        Interrupt.install()
        let loaded = try runner.loadModels()
        try checkDistinctModelNames(zip(c.models, loaded).map { ($0, $1.model.name) })
        warnAboutOversubscription(c.threads)
        if !allowLong { try ResourceCheck.checkDuration(ResourceCheck.estimatedSeconds(plan, models: loaded, sgemmGflopsPerThread: ResourceCheck.quickSgemmGflops())) }
        let fresh = try runner.run(models: loaded)
        if let output {
            try writeAtomically(printer(for: OutputFormat.inferred(fromPath: output)).render(fresh), to: output)
            FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
        }
        let result = reproduce(reported: reported, new: fresh, path: path)
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(renderReproduction(result), terminator: "")
        }
        if fresh.interrupted == true { throw ExitCode(130) }
        if !result.reproduced { throw ExitCode(1) }
    }
}
