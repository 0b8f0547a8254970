// `infbench serve`: the server scenario — Poisson arrivals, a dynamic batcher,
// and a search for the highest request rate whose p99 latency meets a bound,
// for dynamic batching against batch-1 serving.
import ArgumentParser
import Foundation
import InfHarness
import InfModels

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Server scenario: highest Poisson request rate under a p99 bound, dynamic batching vs batch-1 serving.")

    @Option(help: "Bundled model name or model directory.")
    var model: String = "encoder-small"

    @Option(name: .customLong("seq-len"), help: "Tokens per request for the transformers.")
    var sequenceLength: Int = 16

    @Option(name: .customLong("p99-ms"), help: "p99 latency bound in milliseconds, queueing included.")
    var p99Milliseconds: Double = 50

    @Option(name: .customLong("max-batch"), help: "Largest batch the dynamic batcher forms.")
    var maxBatch: Int = 32

    @Option(name: .customLong("max-delay-ms"), help: "Longest the batcher holds the oldest request waiting for a fuller batch.")
    var maxDelayMilliseconds: Double = 5

    @Option(name: .customLong("trial-seconds"), help: "Arrivals per trial span this many seconds (a trial stops at twice that).")
    var trialSeconds: Double = 3

    @Option(help: "Bisection steps after the doubling phase.")
    var steps: Int = 5

    @Option(help: "Threads for the worker (OpenBLAS and infbench's loops).")
    var threads: Int = 1

    @Option(help: "Seed for the arrivals and inputs.")
    var seed: UInt64 = 42

    @Option(help: "Write the result as JSON to this file (atomically).")
    var output: String?

    func validate() throws {
        guard p99Milliseconds.isFinite, p99Milliseconds > 0, p99Milliseconds <= 60_000 else {
            throw ValidationError("--p99-ms must be between 0 and 60000, got \(p99Milliseconds).")
        }
        guard (2...4096).contains(maxBatch) else { throw ValidationError("--max-batch must be between 2 and 4096, got \(maxBatch).") }
        guard maxDelayMilliseconds.isFinite, maxDelayMilliseconds >= 0, maxDelayMilliseconds <= 10_000 else {
            throw ValidationError("--max-delay-ms must be between 0 and 10000, got \(maxDelayMilliseconds).")
        }
        guard trialSeconds.isFinite, trialSeconds >= 0.1, trialSeconds <= 600 else {
            throw ValidationError("--trial-seconds must be between 0.1 and 600, got \(trialSeconds).")
        }
        guard (0...20).contains(steps) else { throw ValidationError("--steps must be between 0 and 20, got \(steps).") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads).") }
        guard (1...65536).contains(sequenceLength) else { throw ValidationError("--seq-len must be between 1 and 65536, got \(sequenceLength).") }
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        let m = loaded.model
        if let maxT = m.maxSequenceLength, sequenceLength > maxT {
            throw ValidationError("--seq-len \(sequenceLength) exceeds \(m.name)'s max_position_embeddings \(maxT).")
        }
        if let output { try checkWritable(output) }
        let tty = isatty(STDERR_FILENO) == 1
        let result = ServerBench.compare(model: m, sequenceLength: m.kind == .cnn ? 0 : sequenceLength, threads: threads,
                                         dynamic: BatcherPolicy(maxBatch: maxBatch, maxDelaySeconds: maxDelayMilliseconds / 1e3),
                                         p99Bound: p99Milliseconds / 1e3, trialSeconds: trialSeconds, steps: steps, seed: seed) { line in
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
        }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(ServerBench.render(result), terminator: "")
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(String(decoding: try encoder.encode(result), as: UTF8.self) + "\n", to: output)
        }
    }
}
