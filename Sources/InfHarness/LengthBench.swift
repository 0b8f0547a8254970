// Variable-length inputs: a seeded, realistic (log-normal) length distribution,
// served in fixed-size batches three ways — padded to the model's maximum,
// padded to each batch's longest (arrival order), and length-bucketed (sorted,
// so a batch holds similar lengths) — reporting padding waste and real tokens/s.
// Length bucketing here is offline: all requests are sorted up front, which a
// server answering requests as they arrive cannot do. One timed run serves every
// request once; the engine interleaves the strategies with an A/A copy.
import Foundation
import InfCore
import InfMeasure
import InfModels

public enum LengthBench {
    /// Log-normal lengths (median `median`, σ = 0.6 in log space) clipped to 2...maxLength:
    /// most sentences are short, a few are long, as in real traffic.
    public static func lengths(count: Int, median: Double, maxLength: Int, rng: inout SeededRNG) -> [Int] {
        (0..<count).map { _ in
            let l = Int((median * exp(0.6 * Double(rng.nextGaussian()))).rounded())
            return min(max(l, 2), maxLength)
        }
    }

    /// Batches of `batch` requests (indices), each padded to `padTo(batchIndices)`.
    static func plan(_ lengths: [Int], batch: Int, sorted: Bool) -> [[Int]] {
        let order = sorted ? lengths.indices.sorted { lengths[$0] < lengths[$1] } : Array(lengths.indices)
        return stride(from: 0, to: order.count, by: batch).map { Array(order[$0..<min($0 + batch, order.count)]) }
    }

    public static func run(model: any TokenModel, requests: Int, batch: Int, medianLength: Double,
                           threads: Int, engine: Engine, seed: UInt64, progress: ((String) -> Void)? = nil) -> SuiteResult {
        let context = ExecutionContext(threads: threads)
        let maxT = min(model.maxPositions, 128)
        var rng = SeededRNG(seed: seed)
        let lens = lengths(count: requests, median: medianLength, maxLength: maxT, rng: &rng)
        let low = min(1000, model.vocabularySize / 2)
        let tokens = lens.map { l in (0..<l).map { _ in Int32(low + rng.nextInt(below: model.vocabularySize - low)) } }
        // Every batch built once, outside the timed region: ids padded with 0, mask 1/0.
        func inputs(_ batches: [[Int]], padTo: ([Int]) -> Int) -> (inputs: [ModelInput], computed: Int) {
            var computed = 0
            let built = batches.map { members -> ModelInput in
                let t = padTo(members)
                var ids = [Int32](repeating: 0, count: members.count * t)
                var mask = [Float](repeating: 0, count: members.count * t)
                for (row, r) in members.enumerated() {
                    for (j, id) in tokens[r].enumerated() {
                        ids[row * t + j] = id
                        mask[row * t + j] = 1
                    }
                }
                computed += members.count * t
                return .tokens(ids: ids, mask: Tensor(shape: [members.count, t], storage: mask), batch: members.count, length: t)
            }
            return (built, computed)
        }
        let realTokens = lens.reduce(0, +)
        let arrival = plan(lens, batch: batch, sorted: false), bucketed = plan(lens, batch: batch, sorted: true)
        let scenarios: [(String, [ModelInput], Int)] = [
            { let b = inputs(arrival) { _ in maxT }; return ("pad to \(maxT) (arrival order)", b.inputs, b.computed) }(),
            { let b = inputs(arrival) { m in m.map { lens[$0] }.max()! }; return ("pad to batch longest (arrival order)", b.inputs, b.computed) }(),
            { let b = inputs(bucketed) { m in m.map { lens[$0] }.max()! }; return ("length-bucketed (sorted by length)", b.inputs, b.computed) }(),
        ]
        let twins = TwinPool(model: model, seed: engine.policy.orderSeed ^ stableHash("lengths"))
        let executes = [
            "every batch padded to \(maxT) tokens, requests in arrival order",
            TwinPool<InferenceModel>.aaNote,
            "every batch padded to its longest request, arrival order",
            "requests sorted by length up front (offline), then batched and padded to each batch's longest",
        ]
        let order = [0, 0, 1, 2]
        let variants = order.enumerated().map { v, s in
            EngineVariant(name: v == 1 ? scenarios[0].0 + " A/A" : scenarios[s].0, executes: executes[v],
                          weightBytes: model.weightBytes,
                          metrics: ["paddingWaste": 1 - Double(realTokens) / Double(scenarios[s].2),
                                    "realTokens": Double(realTokens), "computedTokens": Double(scenarios[s].2)]) {
                let m: InferenceModel = v <= 1 ? twins.next() : model
                for input in scenarios[s].1 { _ = m.forward(input, in: context) }
            }
        }
        let point = WorkloadPoint(model: model.name, workload: "batches", batch: batch, sequenceLength: nil, threads: threads,
                                  itemUnit: "seq", itemsPerRun: requests,
                                  point: "\(requests) requests, log-normal lengths (median \(fixed(medianLength, 0)), max \(maxT))")
        var warnings: [String] = []
        if medianLength > Double(maxT) {
            warnings.append("--median-len \(fixed(medianLength, 0)) exceeds the longest length served (\(maxT)); lengths are clipped to \(maxT).")
        }
        let rows = engine.measureGroup(point, variants, warnings: &warnings, progress: progress)
        var workload = WorkloadConfiguration()
        workload.requests = requests
        workload.medianLength = Int(medianLength.rounded())
        workload.maxLength = maxT
        return engine.result(kind: .lengths, name: "lengths", models: [model.name], variants: variants.map(\.name),
                             threads: [threads], batchSizes: [batch], sequenceLengths: [], seed: seed, workload: workload,
                             rows: rows, warnings: warnings)
    }
}
