// The decoding workload: one timed run is a whole greedy generation of N tokens
// after a seeded prompt, at batch 1. Variants: recompute (every step re-runs the
// whole sequence; the baseline), its A/A copy, the KV cache, and the KV cache on
// each weight technique asked for (q4, int8-weights, …: decoding is where weight
// bytes rule). Measured by the engine like every other comparison; per-step
// times give latency by position.
import Foundation
import InfCore
import InfMeasure
import InfModels

public enum GenerationBench {
    /// Hidden states of cached and uncached decoding may differ by summation order only.
    public static let hiddenTolerance = 1e-3

    /// Buckets of positions the per-step medians are reported over.
    static let buckets = 8

    /// Measures recompute vs KV cache on `model` (and the KV cache on each of `techniques`, the
    /// same decoder with its weights transformed) and returns a `generate` result.
    public static func run(model: any CausalLanguageModel, promptLength: Int, newTokens: Int, threads: Int, engine: Engine,
                           seed: UInt64, techniques: [(name: String, executes: String, model: any CausalLanguageModel)] = [],
                           progress: ((String) -> Void)? = nil, prompt fixedPrompt: [Int32]? = nil) -> SuiteResult {
        let context = ExecutionContext(threads: threads)
        var rng = SeededRNG(seed: seed)
        // A text model's prompt comes from its test split (fixedPrompt); otherwise seeded random ids.
        let prompt = fixedPrompt ?? (0..<promptLength).map { _ in Int32(rng.nextInt(below: model.vocabularySize)) }
        precondition(prompt.count == promptLength, "a \(prompt.count)-token prompt for promptLength \(promptLength)")
        // The A/A decodes with a deep copy: its own weights and scratch; it and the baseline
        // draw each run from a pool of such copies (see TwinPool).
        let copy = model.deepCopy()
        let generators = [Generator(model: model), Generator(model: copy as! any CausalLanguageModel), Generator(model: model)]
            + techniques.map { Generator(model: $0.model) }
        let more = (2..<TwinPool<Generator>.size).map { _ in Generator(model: model.deepCopy() as! any CausalLanguageModel) }
        let twins = TwinPool(Array(generators[0...1]) + more, seed: engine.policy.orderSeed ^ stableHash("generate"))
        let cached = [false, false, true] + techniques.map { _ in true }
        let names = ["no cache", "no cache A/A", "KV cache"] + techniques.map { "KV cache + \($0.name)" }
        let executes = [
            "every step re-runs the whole sequence (B=1, T=position) and keeps the last position's state",
            TwinPool<Generator>.aaNote,
            "prompt fed token by token into a per-layer K/V cache; each step one row through every GEMM + attention over the cache",
        ] + techniques.map { "the KV cache on \($0.name) weights: \($0.executes)" }
        let count = names.count
        let weights = [model.weightBytes, copy.weightBytes, model.weightBytes] + techniques.map(\.model.weightBytes)
        // Forward passes per run, each reading every weight once: the cached prefill (one step per
        // prompt token but the last) and one per generated token; recomputing, one per generated token.
        let passes = cached.map { $0 ? promptLength - 1 + newTokens : newTokens }
        let readPerPass = [model.bytesReadPerPass, copy.bytesReadPerPass, model.bytesReadPerPass] + techniques.map(\.model.bytesReadPerPass)

        // The check, once, before timing: same tokens, final hidden states within the tolerance.
        progress?("checking that every variant generates the same tokens")
        var states = [[Tensor]](repeating: [], count: count)
        var outputs: [Generation] = []
        for v in 0..<count {
            outputs.append(generators[v].generate(prompt: prompt, newTokens: newTokens, cache: cached[v], in: context) { states[v].append($0) })
        }
        let qualities = (0..<count).map { v -> Quality in
            var acc = QualityAccumulator(logits: false)
            for (a, b) in zip(states[0], states[v]) { acc.add(reference: a, output: b) }
            var q = acc.quality(n: newTokens, set: "\(newTokens) generated positions")
            q.top1Agreement = Double(zip(outputs[0].tokens, outputs[v].tokens).filter { $0 == $1 }.count) / Double(outputs[0].tokens.count)
            // Exactness is the KV cache's promise; a weight technique is judged by its agreement instead.
            q.identical = v < 3 ? outputs[v].tokens == outputs[0].tokens && q.maxAbsDiff <= hiddenTolerance : nil
            return q
        }

        // Every run's per-step times; the measured runs are the last ones of each variant.
        var steps = [[[UInt64]]](repeating: [], count: count)
        let variants = (0..<count).map { v in
            EngineVariant(name: names[v], executes: executes[v],
                          weightBytes: weights[v],
                          flopsPerRun: 0, quality: v == 0 ? nil : qualities[v],
                          metrics: ["cacheBytes": Double(outputs[v].cacheBytes)], bytesReadPerRun: passes[v] * readPerPass[v]) {
                let generator = v < 2 ? twins.next() : generators[v]
                steps[v].append(generator.generate(prompt: prompt, newTokens: newTokens, cache: cached[v], in: context).stepNs)
            }
        }
        let point = WorkloadPoint(model: model.name, workload: "generate", batch: 1, sequenceLength: promptLength + newTokens,
                                  threads: threads, itemUnit: "tok", itemsPerRun: newTokens,
                                  point: "\(promptLength)-token prompt + \(newTokens) generated")
        var warnings: [String] = []
        var rows = engine.measureGroup(point, variants, warnings: &warnings, progress: progress)
        let width = max(1, newTokens / buckets)
        for v in 0..<count {
            let measured = steps[v].suffix(rows[v].samplesNs.count)
            rows[v].positions = stride(from: 0, to: newTokens, by: width).map { i0 in
                let i1 = min(i0 + width, newTokens)
                let pooled = measured.flatMap { $0[i0..<i1] }
                return PositionBucket(start: promptLength + i0, end: promptLength + i1, median: SampleStats(samplesNs: pooled).median)
            }
            rows[v].metrics?["stepMedianSeconds"] = SampleStats(samplesNs: measured.flatMap { $0 }).median
        }
        if qualities.contains(where: { $0.identical == false }) {
            warnings.append("cached and uncached generations differ: tokens or final hidden states beyond \(hiddenTolerance).")
        }
        var workload = WorkloadConfiguration()
        workload.promptLength = promptLength
        workload.newTokens = newTokens
        if !techniques.isEmpty { workload.techniques = techniques.map(\.name) }
        return engine.result(kind: .generate, name: "generate", models: [model.name], variants: names, threads: [threads],
                             batchSizes: [1], sequenceLengths: [promptLength + newTokens], seed: seed, workload: workload,
                             rows: rows, warnings: warnings)
    }
}
