// `infbench softmax`: full vs adaptive softmax on a decoder with a large vocabulary.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
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
        let text = try LanguageModelText.load(directory: loaded.source)
        let trained = try trainedAdaptiveHead(directory: loaded.source)
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
        // Text: the prompt and the output layer's hidden states come from the test split (32 windows).
        let states = text.map { text in
            text.test.windows(length: decoder.maxPositions).prefix(32).flatMap { w -> [Tensor] in
                let h = decoder.finalHidden(.tokens(ids: w.input, mask: nil, batch: 1, length: w.input.count))
                return (0..<h.rows).map { r in Tensor(shape: [1, h.lastDim], storage: Array(h.storage[(r * h.lastDim)..<((r + 1) * h.lastDim)])) }
            }
        }
        // Test perplexity of both heads, measured here on the whole test split.
        var perplexity: [String: Double] = [:]
        if let text, let trained {
            progress.say("test perplexity of the full and the trained adaptive head")
            let windows = text.test.windows(length: decoder.maxPositions)
            perplexity["full softmax"] = Perplexity.evaluate(windows: windows, forward: decoder.forward).perplexity
            var nll = 0.0, count = 0
            let adaptive = TrainableAdaptiveSoftmax(trained.head)
            for s in stride(from: 0, to: windows.count, by: 16) {
                let group = windows[s..<min(s + 16, windows.count)]
                let h = decoder.finalHidden(.tokens(ids: group.flatMap(\.input), mask: nil, batch: group.count, length: decoder.maxPositions))
                let targets = group.flatMap(\.target)
                nll += adaptive.negativeLogLikelihood(h: h.reshaped([targets.count, h.lastDim]), targets: targets, backward: false)
                count += targets.count
            }
            perplexity["adaptive softmax"] = exp(nll / Double(count))
        }
        let result = SoftmaxBench.run(model: decoder, cutoffs: cuts, newTokens: tokens, threads: scenario.threads,
                                      engine: scenario.engine(measurement), seed: scenario.seed,
                                      weightsAreTrained: !loaded.weightsSource.hasPrefix("generated"), progress: progress.say,
                                      trained: trained?.head, prompt: text?.prompts(count: 1, length: 16).first, states: states,
                                      perplexity: perplexity)
        progress.done()
        try scenario.finish(result)
    }
}
