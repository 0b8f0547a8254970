// `infbench generate`: greedy decoding with and without the KV cache on a
// GPT-style decoder; tokens/s, per-token latency against position, and a check
// that both paths produce the same tokens.
import ArgumentParser
import Foundation
import InfHarness
import InfModels

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Greedy generation with and without a KV cache: tokens/s and per-token latency against position.")

    @Option(help: "A GPT-style decoder (model_type gpt): bundled name or model directory.")
    var model: String = "decoder-small"

    @Option(help: "Tokens to generate.")
    var tokens: Int = 512

    @Option(name: .customLong("prompt-len"), help: "Length of the seeded random prompt.")
    var promptLength: Int = 16

    @Option(help: "Generations per variant (alternating between the variants).")
    var repeats: Int = 3

    @OptionGroup var scenario: ScenarioOptions

    func validate() throws {
        try checkRange("--tokens", tokens, 1...100_000)
        try checkRange("--prompt-len", promptLength, 1...100_000)
        try checkRange("--repeats", repeats, 1...1000)
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let decoder = loaded.model as? TransformerDecoder else {
            throw ValidationError("--model \(model): generation needs a GPT-style decoder (model_type \"gpt\"), not \"\(loaded.config.kind.rawValue)\".")
        }
        guard promptLength + tokens <= decoder.config.maxPositions else {
            throw ValidationError("--prompt-len \(promptLength) + --tokens \(tokens) exceed \(decoder.name)'s max_position_embeddings \(decoder.config.maxPositions).")
        }
        if let output = scenario.output { try checkWritable(output) }
        let progress = scenario.progress()
        let result = GenerationBench.run(model: decoder, promptLength: promptLength, newTokens: tokens, threads: scenario.threads,
                                         repeats: repeats, seed: scenario.seed, progress: progress.say)
        progress.done()
        print(GenerationBench.render(result), terminator: "")
        try scenario.write(result)
        if !result.identicalTokens { throw ExitCode(1) }
    }
}
