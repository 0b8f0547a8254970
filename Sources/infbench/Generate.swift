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

    @Option(help: "Threads for OpenBLAS and infbench's loops.")
    var threads: Int = 1

    @Option(help: "Seed for the prompt.")
    var seed: UInt64 = 42

    @Option(help: "Write the result as JSON to this file (atomically).")
    var output: String?

    func validate() throws {
        guard (1...100_000).contains(tokens) else { throw ValidationError("--tokens must be between 1 and 100000, got \(tokens).") }
        guard (1...100_000).contains(promptLength) else { throw ValidationError("--prompt-len must be between 1 and 100000, got \(promptLength).") }
        guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 1000, got \(repeats).") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads).") }
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let decoder = loaded.model as? TransformerDecoder else {
            throw ValidationError("--model \(model): generation needs a GPT-style decoder (model_type \"gpt\"), not \"\(loaded.config.kind.rawValue)\".")
        }
        guard promptLength + tokens <= decoder.config.maxPositions else {
            throw ValidationError("--prompt-len \(promptLength) + --tokens \(tokens) exceed \(decoder.name)'s max_position_embeddings \(decoder.config.maxPositions).")
        }
        if let output { try checkWritable(output) }
        let progress = isatty(STDERR_FILENO) == 1
        let result = GenerationBench.run(model: decoder, promptLength: promptLength, newTokens: tokens, threads: threads,
                                         repeats: repeats, seed: seed) { line in
            if progress { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
        }
        if progress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(GenerationBench.render(result), terminator: "")
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n", to: output)
            FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
        }
        if !result.identicalTokens { throw ExitCode(1) }
    }
}
