// `infbench generate`: greedy decoding with and without the KV cache on a
// GPT-style decoder, measured by the engine (interleaved with an A/A copy);
// tokens/s, per-token latency against position, and a check that both paths
// produce the same tokens.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfCore
import InfModels
import InfTechniques

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Greedy generation with and without a KV cache: tokens/s and per-token latency against position.")

    @Option(help: "A GPT-style decoder (model_type gpt): bundled name or model directory.")
    var model: String = "decoder-small"

    @Option(help: "Tokens to generate (one timed run is a whole generation). (default: 256, or what fits the model's context)")
    var tokens: Int?

    @Option(name: .customLong("prompt-len"), help: "Length of the seeded random prompt.")
    var promptLength: Int = 16

    @Option(help: "Comma-separated weight techniques to decode with too, each with the KV cache (e.g. q4,int8-weights).")
    var techniques: String?

    @OptionGroup var scenario: ScenarioOptions

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    func validate() throws {
        if let tokens { try checkRange("--tokens", tokens, 1...100_000) }
        try checkRange("--prompt-len", promptLength, 1...100_000)
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let decoder = loaded.model as? any CausalLanguageModel else {
            throw ValidationError("--model \(model): generation needs a GPT-style decoder (model_type \"gpt\"), not \"\(loaded.config.kind.rawValue)\".")
        }
        let tokens = self.tokens ?? max(1, min(256, decoder.maxPositions - promptLength))
        guard promptLength + tokens <= decoder.maxPositions else {
            throw ValidationError("--prompt-len \(promptLength) + --tokens \(tokens) exceed \(decoder.name)'s max_position_embeddings \(decoder.maxPositions).")
        }
        if let output = scenario.output { try checkWritable(output) }
        let progress = scenario.progress()
        let applied = try decodingTechniques(techniques.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? [],
                                             loaded: loaded, option: "--techniques")
        // A model trained on text (vocab.txt + test.txt beside it) decodes a prompt from its test split.
        let text = try LanguageModelText.load(directory: loaded.source)
        let result = GenerationBench.run(model: decoder, promptLength: promptLength, newTokens: tokens, threads: scenario.threads,
                                         engine: scenario.engine(measurement), seed: scenario.seed, techniques: applied,
                                         progress: progress.say, prompt: text?.prompts(count: 1, length: promptLength).first)
        progress.done()
        try scenario.finish(result)
        if let text { try printTextSamples(decoder, text: text, promptLength: promptLength, newTokens: tokens, in: ExecutionContext(threads: scenario.threads)) }
        if result.rows.contains(where: { $0.quality?.identical == false }) { throw ExitCode(1) }
    }
}

/// Weight techniques applied to a decoder for `generate` (each then decodes with the KV cache);
/// one sentence for an unknown, empty, repeated or inapplicable one.
func decodingTechniques(_ names: [String], loaded: LoadedModel, option: String) throws -> [(name: String, executes: String, model: any CausalLanguageModel)] {
    var seen = Set<String>()
    return try names.map { raw in
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw ValidationError("\(option) has an empty entry.") }
        guard seen.insert(name).inserted else { throw ValidationError("\(option) lists \"\(name)\" twice.") }
        let technique: Technique
        do { technique = try Techniques.parse(name) } catch let e as TechniqueError { throw ValidationError("\(option): \(e.message)") }
        guard let decoder = try technique.apply(to: loaded) as? any CausalLanguageModel else {
            throw ValidationError("\(option) \(name) does not give a GPT-style decoder to generate with.")
        }
        return (technique.name, technique.executes, decoder)
    }
}

