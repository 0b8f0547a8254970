// The decoding scenario: greedy generation of N tokens with and without the KV
// cache, interleaved run by run, reporting tokens/s, per-token latency and how
// that latency grows with position (uncached grows, cached stays nearly flat).
import Foundation
import InfCore
import InfModels

public struct GenerationVariantResult: Codable, Sendable {
    public var variant: String
    public var executes: String
    /// Wall time of each whole generation (newTokens steps), nanoseconds, one per repeat.
    public var runNs: [UInt64]
    /// Generated tokens per second, from the median run.
    public var tokensPerSecond: Double
    /// Per-token step times of every repeat, pooled, seconds.
    public var stepStats: SampleStats
    /// Median step time per position bucket (seconds), bucket i covering positions bucketStarts[i]..<next.
    public var bucketStarts: [Int]
    public var bucketMedians: [Double]
    public var cacheBytes: Int
    /// Throughput ratio against the uncached run, with a bootstrap interval (nil for the uncached row).
    public var speedup: Speedup?
}

public struct GenerationResult: Codable, Sendable {
    public var schemaVersion = 1
    public var environment: EnvironmentInfo
    public var model: String
    public var promptLength: Int
    public var newTokens: Int
    public var threads: Int
    public var repeats: Int
    public var seed: UInt64
    public var identicalTokens: Bool
    public var variants: [GenerationVariantResult]
    public var warnings: [String]
}

public enum GenerationBench {
    /// Runs both variants `repeats` times, alternating (uncached, cached, cached, uncached, …).
    public static func run(model: TransformerDecoder, promptLength: Int, newTokens: Int, threads: Int,
                           repeats: Int, seed: UInt64, bootstrapResamples: Int = 2000,
                           progress: ((String) -> Void)? = nil) -> GenerationResult {
        Parallel.setThreads(threads)
        var rng = SeededRNG(seed: seed)
        let prompt = (0..<promptLength).map { _ in Int32(rng.nextInt(below: model.config.vocabSize)) }
        let gen = Generator(model: model)
        let names = ["no cache", "KV cache"]
        var runs: [[Generation]] = [[], []]
        var runNs: [[UInt64]] = [[], []]
        // One untimed warm-up generation of each (page faults, first-touch of scratch).
        _ = gen.generate(prompt: prompt, newTokens: min(newTokens, 8), cache: false)
        _ = gen.generate(prompt: prompt, newTokens: min(newTokens, 8), cache: true)
        for r in 0..<repeats {
            for v in (r % 2 == 0 ? [0, 1] : [1, 0]) {
                progress?("repeat \(r + 1)/\(repeats): \(names[v])")
                let start = monotonicNanoseconds()
                let g = gen.generate(prompt: prompt, newTokens: newTokens, cache: v == 1)
                runNs[v].append(monotonicNanoseconds() - start)
                runs[v].append(g)
            }
        }
        let identical = runs[0].allSatisfy { $0.tokens == runs[1][0].tokens } && runs[1].allSatisfy { $0.tokens == runs[1][0].tokens }
        let bucket = max(1, newTokens / 8)
        let starts = stride(from: 0, to: newTokens, by: bucket).map { promptLength + $0 }
        let results = (0..<2).map { v -> GenerationVariantResult in
            let steps = runs[v].flatMap(\.stepNs)
            let medians = starts.map { s -> Double in
                let i0 = s - promptLength
                let slice = runs[v].flatMap { Array($0.stepNs[i0..<min(i0 + bucket, newTokens)]) }
                return SampleStats(samplesNs: slice).median
            }
            let median = SampleStats(samplesNs: runNs[v]).median
            return GenerationVariantResult(
                variant: names[v],
                executes: v == 0 ? "every step re-runs the whole sequence (B=1, T=position) and keeps the last logits"
                                 : "prompt fed token by token into a per-layer K/V cache; each step one row through every GEMM + attention over the cache",
                runNs: runNs[v], tokensPerSecond: Double(newTokens) / median,
                stepStats: SampleStats(samplesNs: steps), bucketStarts: starts, bucketMedians: medians,
                cacheBytes: runs[v].first?.cacheBytes ?? 0,
                speedup: v == 0 ? nil : Bootstrap.speedup(baselineNs: runNs[0], variantNs: runNs[1], baselineName: names[0],
                                                          resamples: bootstrapResamples, seed: seed &+ 1))
        }
        var warnings: [String] = []
        if !identical { warnings.append("cached and uncached generations produced different tokens.") }
        if repeats < 5 { warnings.append("only \(repeats) repeats per variant: the speed-up interval is wide by construction.") }
        return GenerationResult(environment: EnvironmentInfo.capture(), model: model.name, promptLength: promptLength,
                                newTokens: newTokens, threads: threads, repeats: repeats, seed: seed,
                                identicalTokens: identical, variants: results, warnings: warnings)
    }

    public static func render(_ r: GenerationResult) -> String {
        var out: [String] = []
        let env = r.environment
        if env.buildConfiguration == "debug" { out.append("!!! DEBUG BUILD: these timings mean nothing !!!") }
        out.append("infbench generate: \(r.model), prompt \(r.promptLength) + \(r.newTokens) new tokens, greedy, batch 1, \(r.threads) thread(s), \(r.repeats) repeats")
        out.append("\(env.timestamp) · commit \(env.gitCommit) · \(env.cpuModel) · \(env.buildConfiguration) build")
        out.append("")
        let rows = r.variants.map { v -> [String] in
            [v.variant, fixed(v.tokensPerSecond, 1), fourDigits(v.stepStats.median * 1e3), fourDigits(v.stepStats.p90 * 1e3),
             fourDigits(v.stepStats.p99 * 1e3), fixed(v.stepStats.cv * 100, 1), megabytes(v.cacheBytes),
             v.speedup.map(speedupCell) ?? "—"]
        }
        out.append(contentsOf: alignedTable(header: ["variant", "tokens/s", "median ms/token", "p90", "p99", "CV %", "cache MB", "speedup (tokens/s)"],
                                            numeric: [false, true, true, true, true, true, true, false], rows: rows))
        out.append("")
        out.append("median ms per token by position (uncached grows with position, cached stays nearly flat):")
        let header = ["positions"] + r.variants.map(\.variant)
        let starts = r.variants[0].bucketStarts
        let table = starts.enumerated().map { i, s -> [String] in
            let end = i + 1 < starts.count ? starts[i + 1] - 1 : r.promptLength + r.newTokens - 1
            return ["\(s)–\(end)"] + r.variants.map { fourDigits($0.bucketMedians[i] * 1e3) }
        }
        out.append(contentsOf: alignedTable(header: header, numeric: [false] + r.variants.map { _ in true }, rows: table))
        out.append("")
        out.append("tokens identical token for token: \(r.identicalTokens ? "yes" : "NO")")
        for v in r.variants { out.append("  \(v.variant): \(v.executes)") }
        if !r.warnings.isEmpty { out.append(contentsOf: r.warnings.map { "! \($0)" }) }
        return out.joined(separator: "\n") + "\n"
    }
}
