// `infbench softmax`: full vs adaptive softmax on a decoder with a large vocabulary.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfMeasure
import InfModels
import InfTrain

struct Softmax: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Full vs adaptive softmax: output-layer time, end-to-end tokens/s and top-1 agreement.")

    @Option(help: "A GPT-style decoder with a large vocabulary: bundled name or model directory.")
    var model: String = "decoder-32k"

    @Option(help: "Comma-separated cluster boundaries, the last equal to the vocabulary size. (default: 2000,8000 and the vocabulary size, e.g. 2000,8000,32000)")
    var cutoffs: IntList?

    @Option(help: "Tokens generated per run (and hidden states collected). (default: 256, or what fits the model's context)")
    var tokens: Int?

    @OptionGroup var scenario: ScenarioOptions

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    func validate() throws {
        if let tokens { try checkRange("--tokens", tokens, 1...100_000) }
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let decoder = loaded.model as? any CausalLanguageModel else {
            throw ValidationError("--model \(model): adaptive softmax needs a GPT-style decoder (model_type \"gpt\").")
        }
        let v = decoder.vocabularySize
        // A model trained on text may carry a trained adaptive head (`infbench train-adaptive-softmax`).
        let trained = try AdaptiveSoftmaxHead.trained(directory: loaded.source)
        if let trained, let cutoffs, cutoffs.values != trained.head.cutoffs {
            throw ValidationError("--cutoffs: \(model)'s trained adaptive head has cutoffs \(trained.head.cutoffs.map(String.init).joined(separator: ",")); retrain it for others.")
        }
        let cuts = trained?.head.cutoffs ?? cutoffs?.values ?? [2000, 8000, v]
        let tokens = self.tokens ?? max(1, min(256, decoder.maxPositions - 16))
        guard cuts.count >= 2, cuts.last == v, cuts.first! >= 1, zip(cuts, cuts.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("--cutoffs must rise strictly and end at the vocabulary size \(v), got \(cuts.map(String.init).joined(separator: ",")).")
        }
        guard 16 + tokens <= decoder.maxPositions else {
            throw ValidationError("--tokens \(tokens) plus the 16-token prompt exceed max_position_embeddings \(decoder.maxPositions).")
        }
        if let output = scenario.output { try checkWritable(output) }
        let progress = scenario.progress()
        // Text: the prompt and the output layer's hidden states come from the test split (32 windows),
        // and both heads' test perplexity from the whole split.
        let text = try SoftmaxBench.textInputs(loaded, in: ExecutionContext(threads: scenario.threads), progress: progress.say)
        let result = SoftmaxBench.run(model: decoder, cutoffs: cuts, newTokens: tokens, threads: scenario.threads,
                                      engine: scenario.engine(measurement), seed: scenario.seed,
                                      weightsAreTrained: !loaded.weightsSource.hasPrefix("generated"), progress: progress.say,
                                      trained: text.trained, prompt: text.prompt, states: text.states,
                                      perplexity: text.perplexity)
        progress.done()
        try scenario.finish(result)
    }
}
