// Full vs adaptive softmax on a decoder with a large vocabulary: output-layer
// time on the same hidden states (interleaved), end-to-end KV-cached generation
// tokens/s (alternating repeats), and top-1 agreement with the full softmax.
import Foundation
import InfCore
import InfModels

public struct SoftmaxResult: Codable, Sendable {
    public var schemaVersion = 1
    public var environment: EnvironmentInfo
    public var model: String
    public var vocabulary: Int
    public var cutoffs: [Int]
    public var tailDimensions: [Int]
    public var threads: Int
    public var newTokens: Int
    public var fullHeadBytes: Int
    public var adaptiveHeadBytes: Int
    /// Output layer on `states` hidden states, per state, seconds.
    public var fullLayer: SampleStats
    public var adaptiveLayer: SampleStats
    public var layerSpeedup: Speedup
    public var fullTokensPerSecond: Double
    public var adaptiveTokensPerSecond: Double
    public var endToEndSpeedup: Speedup
    /// Share of hidden states where adaptive and full softmax pick the same token.
    public var top1Agreement: Double
    public var states: Int
    public var weightsNote: String
}

public enum SoftmaxBench {
    public static func run(model: TransformerDecoder, cutoffs: [Int], newTokens: Int, repeats: Int, threads: Int,
                           policy: MeasurementPolicy, seed: UInt64, weightsAreTrained: Bool,
                           progress: ((String) -> Void)? = nil) -> SoftmaxResult {
        Parallel.setThreads(threads)
        progress?("deriving the adaptive head (eigen-decompositions of the tail clusters)")
        let full = FullSoftmaxHead(model.lmHead)
        let adaptive = AdaptiveSoftmaxHead(fullHead: model.lmHead.weights.dense(), cutoffs: cutoffs)
        let gen = Generator(model: model)
        var rng = SeededRNG(seed: seed)
        let prompt = (0..<16).map { _ in Int32(rng.nextInt(below: model.config.vocabSize)) }
        // Real final hidden states from a full-softmax generation: what the output layer sees.
        var states: [Tensor] = []
        progress?("collecting hidden states")
        _ = gen.generate(prompt: prompt, newTokens: newTokens, cache: true, head: full) { states.append($0) }
        let agree = states.filter { full.nextToken($0) == adaptive.nextToken($0) }.count

        progress?("timing the output layers")
        let layer = measureInterleaved([{ for h in states { _ = full.nextToken(h) } },
                                        { for h in states { _ = adaptive.nextToken(h) } }], policy: policy)
        func perState(_ m: Measured) -> SampleStats { SampleStats(samplesNs: m.samplesNs.map { $0 / UInt64(max(states.count, 1)) }) }

        var runs: [[UInt64]] = [[], []]
        for r in 0..<repeats {
            for v in (r % 2 == 0 ? [0, 1] : [1, 0]) {
                progress?("repeat \(r + 1)/\(repeats): generation with \(v == 0 ? "full" : "adaptive") softmax")
                let t0 = monotonicNanoseconds()
                _ = gen.generate(prompt: prompt, newTokens: newTokens, cache: true, head: v == 0 ? full : adaptive)
                runs[v].append(monotonicNanoseconds() - t0)
            }
        }
        return SoftmaxResult(
            environment: EnvironmentInfo.capture(), model: model.name, vocabulary: model.config.vocabSize, cutoffs: cutoffs,
            tailDimensions: adaptive.tails.map { $0.projection.outFeatures }, threads: threads, newTokens: newTokens,
            fullHeadBytes: full.byteCount, adaptiveHeadBytes: adaptive.byteCount,
            fullLayer: perState(layer[0]), adaptiveLayer: perState(layer[1]),
            layerSpeedup: Bootstrap.speedup(baselineNs: layer[0].samplesNs, variantNs: layer[1].samplesNs,
                                            baselineName: "full softmax", resamples: 2000, seed: seed &+ 1),
            fullTokensPerSecond: Double(newTokens) / SampleStats(samplesNs: runs[0]).median,
            adaptiveTokensPerSecond: Double(newTokens) / SampleStats(samplesNs: runs[1]).median,
            endToEndSpeedup: Bootstrap.speedup(baselineNs: runs[0], variantNs: runs[1], baselineName: "full softmax",
                                               resamples: 2000, seed: seed &+ 2),
            top1Agreement: Double(agree) / Double(max(states.count, 1)), states: states.count,
            weightsNote: weightsAreTrained
                ? "trained weights"
                : "UNTRAINED (seeded random) weights: the adaptive head is derived from a random full head, so the agreement figure says how well the low-rank tails approximate random rows, not what a trained adaptive softmax achieves")
    }

    public static func render(_ r: SoftmaxResult) -> String {
        var out: [String] = []
        if r.environment.buildConfiguration == "debug" { out.append("!!! DEBUG BUILD: these timings mean nothing !!!") }
        out.append("infbench softmax: \(r.model), vocabulary \(r.vocabulary), adaptive cutoffs \(r.cutoffs.map(String.init).joined(separator: ", ")) "
                   + "(tail dims \(r.tailDimensions.map(String.init).joined(separator: ", "))), \(r.threads) thread(s)")
        out.append("\(r.environment.timestamp) · commit \(r.environment.gitCommit) · \(r.environment.cpuModel) · \(r.environment.buildConfiguration) build")
        out.append("")
        out.append(contentsOf: alignedTable(
            header: ["output layer", "weights MB", "µs per token (median)", "p99 µs", "generation tokens/s"],
            numeric: [false, true, true, true, true],
            rows: [["full softmax", megabytes(r.fullHeadBytes), fixed(r.fullLayer.median * 1e6, 1), fixed(r.fullLayer.p99 * 1e6, 1), fixed(r.fullTokensPerSecond, 1)],
                   ["adaptive softmax", megabytes(r.adaptiveHeadBytes), fixed(r.adaptiveLayer.median * 1e6, 1), fixed(r.adaptiveLayer.p99 * 1e6, 1), fixed(r.adaptiveTokensPerSecond, 1)]]))
        out.append("")
        out.append("output layer speed-up: \(speedupCell(r.layerSpeedup)); end to end (KV-cached generation of \(r.newTokens) tokens): \(speedupCell(r.endToEndSpeedup))")
        out.append("top-1 agreement with the full softmax: \(fixed(r.top1Agreement * 100, 1))% of \(r.states) hidden states — \(r.weightsNote).")
        return out.joined(separator: "\n") + "\n"
    }
}
