// `infbench lengths`: padding waste for variable-length inputs, and length-bucketed batching.
import ArgumentParser
import Foundation
import InfHarness
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

    @Option(help: "Passes over all requests per scenario (alternating order).")
    var repeats: Int = 3

    @Option(help: "Threads for OpenBLAS and infbench's loops.")
    var threads: Int = 1

    @Option(help: "Seed for lengths and tokens.")
    var seed: UInt64 = 42

    @Option(help: "Write the result as JSON to this file (atomically).")
    var output: String?

    func validate() throws {
        guard (1...1_000_000).contains(requests) else { throw ValidationError("--requests must be between 1 and 1000000, got \(requests).") }
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be between 1 and 4096, got \(batch).") }
        guard medianLength.isFinite, medianLength >= 1, medianLength <= 4096 else { throw ValidationError("--median-len must be between 1 and 4096, got \(medianLength).") }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 100, got \(repeats).") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads).") }
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        guard let encoder = loaded.model as? TransformerEncoder else {
            throw ValidationError("--model \(model): variable-length batching needs a BERT-style encoder (model_type \"bert\").")
        }
        if let output { try checkWritable(output) }
        let tty = isatty(STDERR_FILENO) == 1
        let result = LengthBench.run(model: encoder, requests: requests, batch: batch, medianLength: medianLength,
                                     repeats: repeats, threads: threads, seed: seed) { line in
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
        }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(LengthBench.render(result), terminator: "")
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n", to: output)
        }
    }
}
