// `infbench cache`: an LRU prediction cache under a seeded Zipf request stream,
// against no cache and against an all-unique stream.
import ArgumentParser
import Foundation
import InfHarness
import InfModels

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prediction cache: hit rate, throughput and latency under a Zipf request stream, and with all-unique inputs.")

    @Option(help: "Bundled model name or model directory.")
    var model: String = "encoder-small"

    @Option(name: .customLong("seq-len"), help: "Tokens per request for the transformers.")
    var sequenceLength: Int = 32

    @Option(help: "Requests per stream.")
    var requests: Int = 2000

    @Option(help: "Distinct inputs the Zipf stream draws from.")
    var catalogue: Int = 1000

    @Option(help: "Zipf exponent s (probability of rank k ∝ 1/k^s).")
    var zipf: Double = 1.1

    @Option(help: "LRU capacity in entries.")
    var capacity: Int = 256

    @Option(help: "Streams per scenario (alternating order).")
    var repeats: Int = 3

    @Option(help: "Threads for OpenBLAS and infbench's loops.")
    var threads: Int = 1

    @Option(help: "Seed for the catalogue and the stream.")
    var seed: UInt64 = 42

    @Option(help: "Write the result as JSON to this file (atomically).")
    var output: String?

    func validate() throws {
        guard (1...10_000_000).contains(requests) else { throw ValidationError("--requests must be between 1 and 10000000, got \(requests).") }
        guard (1...1_000_000).contains(catalogue) else { throw ValidationError("--catalogue must be between 1 and 1000000, got \(catalogue).") }
        guard zipf.isFinite, zipf >= 0, zipf <= 10 else { throw ValidationError("--zipf must be between 0 and 10, got \(zipf).") }
        guard capacity >= 1 else { throw ValidationError("--capacity must be at least 1, got \(capacity).") }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 100, got \(repeats).") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads).") }
        guard (1...65536).contains(sequenceLength) else { throw ValidationError("--seq-len must be between 1 and 65536, got \(sequenceLength).") }
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        if let maxT = loaded.model.maxSequenceLength, sequenceLength > maxT {
            throw ValidationError("--seq-len \(sequenceLength) exceeds \(loaded.model.name)'s max_position_embeddings \(maxT).")
        }
        if let output { try checkWritable(output) }
        let tty = isatty(STDERR_FILENO) == 1
        let result = CacheBench.run(model: loaded.model, sequenceLength: loaded.model.kind == .cnn ? 0 : sequenceLength,
                                    requests: requests, catalogue: catalogue, exponent: zipf, capacity: capacity,
                                    repeats: repeats, threads: threads, seed: seed) { line in
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
        }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(CacheBench.render(result), terminator: "")
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n", to: output)
        }
    }
}
