// `infbench softmax`: full vs adaptive softmax on a decoder with a large vocabulary.
import ArgumentParser
import Foundation
import InfHarness
import InfModels

struct Softmax: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Full vs adaptive softmax: output-layer time, end-to-end tokens/s and top-1 agreement.")

    @Option(help: "A GPT-style decoder with a large vocabulary: bundled name or model directory.")
    var model: String = "decoder-32k"

    @Option(help: "Comma-separated cluster boundaries, the last equal to the vocabulary size. (default: 2000,8000 and the vocabulary size, e.g. 2000,8000,32000)")
    var cutoffs: IntList?

    @Option(help: "Tokens generated per run (and hidden states collected).")
    var tokens: Int = 256

    @OptionGroup var scenario: ScenarioOptions

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    func validate() throws {
        try checkRange("--tokens", tokens, 1...100_000)
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let decoder = loaded.model as? any CausalLanguageModel else {
            throw ValidationError("--model \(model): adaptive softmax needs a GPT-style decoder (model_type \"gpt\").")
        }
        let v = decoder.vocabularySize
        let cuts = cutoffs?.values ?? [2000, 8000, v]
        guard cuts.count >= 2, cuts.last == v, cuts.first! >= 1, zip(cuts, cuts.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("--cutoffs must rise strictly and end at the vocabulary size \(v), got \(cuts.map(String.init).joined(separator: ",")).")
        }
        guard 16 + tokens <= decoder.maxPositions else {
            throw ValidationError("--tokens \(tokens) plus the 16-token prompt exceed max_position_embeddings \(decoder.maxPositions).")
        }
        if let output = scenario.output { try checkWritable(output) }
        let progress = scenario.progress()
        let result = SoftmaxBench.run(model: decoder, cutoffs: cuts, newTokens: tokens, threads: scenario.threads,
                                      engine: scenario.engine(measurement), seed: scenario.seed,
                                      weightsAreTrained: !loaded.weightsSource.hasPrefix("generated"), progress: progress.say)
        progress.done()
        try scenario.finish(result)
    }
}
