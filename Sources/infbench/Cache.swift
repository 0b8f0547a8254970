// `infbench cache`: an LRU prediction cache under a seeded Zipf request stream,
// against no cache and against an all-unique stream.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prediction cache: hit rate, throughput and latency under a Zipf request stream, and with all-unique inputs.")

    @Option(help: "Bundled model name or model directory.")
    var model: String = "encoder-small"

    @Option(name: .customLong("seq-len"), help: "Tokens per request for the transformers.")
    var sequenceLength: Int = 32

    @Option(help: "Requests per stream (one timed run serves a whole stream).")
    var requests: Int = 500

    @Option(help: "Distinct inputs the Zipf stream draws from.")
    var catalogue: Int = 1000

    @Option(help: "Zipf exponent s (probability of rank k ∝ 1/k^s).")
    var zipf: Double = 1.1

    @Option(help: "LRU capacity in entries.")
    var capacity: Int = 256

    @OptionGroup var scenario: ScenarioOptions

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    func validate() throws {
        try checkRange("--requests", requests, 1...10_000_000)
        try checkRange("--catalogue", catalogue, 1...1_000_000)
        try checkRange("--zipf", zipf, 0...10)
        try checkRange("--capacity", capacity, 1...10_000_000)
        try checkRange("--seq-len", sequenceLength, 1...65536)
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        if let maxT = loaded.model.maxSequenceLength, sequenceLength > maxT {
            throw ValidationError("--seq-len \(sequenceLength) exceeds \(loaded.model.name)'s max_position_embeddings \(maxT).")
        }
        if let output = scenario.output { try checkWritable(output) }
        let progress = scenario.progress()
        let result = CacheBench.run(model: loaded.model, sequenceLength: loaded.model.kind == .cnn ? 0 : sequenceLength,
                                    requests: requests, catalogue: catalogue, exponent: zipf, capacity: capacity,
                                    threads: scenario.threads, engine: scenario.engine(measurement), seed: scenario.seed,
                                    progress: progress.say)
        progress.done()
        try scenario.finish(result)
        if result.rows.contains(where: { $0.quality?.identical == false }) { throw ExitCode(1) }
    }
}
