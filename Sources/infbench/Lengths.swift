// `infbench lengths`: padding waste for variable-length inputs, and length-bucketed batching.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels

struct Lengths: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Variable-length inputs: padding waste and throughput when padding to the maximum, to each batch's longest, or length-bucketed.")

    @Option(help: "A BERT-style encoder: bundled name or model directory.")
    var model: String = "encoder-small"

    @Option(help: "Requests (sequences) to serve.")
    var requests: Int = 512

    @Option(help: "Sequences per batch.")
    var batch: Int = 16

    @Option(name: .customLong("median-len"), help: "Median of the log-normal length distribution, tokens.")
    var medianLength: Double = 24

    @OptionGroup var scenario: ScenarioOptions

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    func validate() throws {
        try checkRange("--requests", requests, 1...1_000_000)
        try checkRange("--batch", batch, 1...4096)
        try checkRange("--median-len", medianLength, 1...4096)
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let encoder = loaded.model as? any TokenModel else {
            throw ValidationError("--model \(model): variable-length batching needs a BERT-style encoder (model_type \"bert\").")
        }
        if let output = scenario.output { try checkWritable(output) }
        // LengthBench clips lengths to min(max_position_embeddings, 128): a larger median would silently become that.
        let cap = min(encoder.maxPositions, 128)
        guard medianLength <= Double(cap) else { throw ValidationError("--median-len \(medianLength) is above the \(cap) tokens every length is clipped to (min(max_position_embeddings, 128)); give at most \(cap).") }
        let progress = scenario.progress()
        let result = LengthBench.run(model: encoder, requests: requests, batch: batch, medianLength: medianLength,
                                     threads: scenario.threads, engine: scenario.engine(measurement), seed: scenario.seed,
                                     progress: progress.say)
        progress.done()
        try scenario.finish(result)
    }
}
