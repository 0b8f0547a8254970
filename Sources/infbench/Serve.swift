// `infbench serve`: the server scenario — Poisson arrivals, a dynamic batcher,
// and a search for the highest request rate whose p99 latency meets a bound,
// for dynamic batching against batch-1 serving.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Server scenario: highest Poisson request rate under a p99 bound, dynamic batching vs batch-1 serving.")

    @Option(help: "Bundled model name or model directory.")
    var model: String = "encoder-small"

    @Option(name: .customLong("seq-len"), help: "Tokens per request for the transformers.")
    var sequenceLength: Int = 16

    @Option(name: .customLong("p99-ms"), help: "p99 latency bound in milliseconds, queueing included.")
    var p99Milliseconds: Double = 50

    @Option(name: .customLong("max-batch"), help: "Largest batch the dynamic batcher forms.")
    var maxBatch: Int = 32

    @Option(name: .customLong("max-delay-ms"), help: "Longest the batcher holds the oldest request waiting for a fuller batch.")
    var maxDelayMilliseconds: Double = 5

    @Option(name: .customLong("trial-seconds"), help: "Arrivals per trial span this many seconds (a trial stops at twice that).")
    var trialSeconds: Double = 3

    @Option(help: "Bisection steps after the doubling phase.")
    var steps: Int = 5

    @OptionGroup var scenario: ScenarioOptions

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    func validate() throws {
        try checkRange("--p99-ms", p99Milliseconds, 0.001...60_000)
        try checkRange("--max-batch", maxBatch, 2...4096)
        try checkRange("--max-delay-ms", maxDelayMilliseconds, 0...10_000)
        try checkRange("--trial-seconds", trialSeconds, 0.1...600)
        try checkRange("--steps", steps, 0...20)
        try checkRange("--seq-len", sequenceLength, 1...65536)
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        let m = loaded.model
        if let maxT = m.maxSequenceLength, sequenceLength > maxT {
            throw ValidationError("--seq-len \(sequenceLength) exceeds \(m.name)'s max_position_embeddings \(maxT).")
        }
        if let output = scenario.output { try checkWritable(output) }
        let progress = scenario.progress()
        let (result, text) = ServerBench.compare(model: m, sequenceLength: m.kind == .cnn ? 0 : sequenceLength, threads: scenario.threads,
                                                 dynamic: BatcherPolicy(maxBatch: maxBatch, maxDelaySeconds: maxDelayMilliseconds / 1e3),
                                                 p99Bound: p99Milliseconds / 1e3, trialSeconds: trialSeconds, steps: steps,
                                                 engine: scenario.engine(measurement), seed: scenario.seed, progress: progress.say)
        progress.done()
        try scenario.finish(result)
        if scenario.format == .table { print("\n" + text, terminator: "") } // the trials, beside the table
    }
}
