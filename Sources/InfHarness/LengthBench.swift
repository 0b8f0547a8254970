// Variable-length inputs: a seeded, realistic (log-normal) length distribution,
// served in fixed-size batches three ways — padded to the model's maximum,
// padded to each batch's longest (arrival order), and length-bucketed (sorted,
// so a batch holds similar lengths) — reporting padding waste and real tokens/s.
import Foundation
import InfCore
import InfModels

public struct LengthScenarioRow: Codable, Sendable {
    public var scenario: String
    /// Share of computed positions that are padding.
    public var paddingWaste: Double
    /// Real (non-padding) tokens per second, from the median repeat.
    public var realTokensPerSecond: Double
    public var sequencesPerSecond: Double
    /// Wall time of each repeat over all requests, nanoseconds.
    public var repeatNs: [UInt64]
    public var speedup: Speedup?
}

public struct LengthResult: Codable, Sendable {
    public var schemaVersion = 1
    public var environment: EnvironmentInfo
    public var model: String
    public var requests: Int
    public var batch: Int
    public var meanLength: Double
    public var maxLength: Int
    public var threads: Int
    public var seed: UInt64
    public var rows: [LengthScenarioRow]
}

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

    public static func run(model: TransformerEncoder, requests: Int, batch: Int, medianLength: Double, repeats: Int,
                           threads: Int, seed: UInt64, progress: ((String) -> Void)? = nil) -> LengthResult {
        Parallel.setThreads(threads)
        let maxT = min(model.config.maxPositions, 128)
        var rng = SeededRNG(seed: seed)
        let lens = lengths(count: requests, median: medianLength, maxLength: maxT, rng: &rng)
        let low = min(1000, model.config.vocabSize / 2)
        let tokens = lens.map { l in (0..<l).map { _ in Int32(low + rng.nextInt(below: model.config.vocabSize - low)) } }
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
        for s in scenarios { _ = model.forward(s.1[0]) } // warm-up
        var times = [[UInt64]](repeating: [], count: scenarios.count)
        for r in 0..<repeats {
            for s in (r % 2 == 0 ? Array(scenarios.indices) : scenarios.indices.reversed()) {
                progress?("repeat \(r + 1)/\(repeats): \(scenarios[s].0)")
                let start = monotonicNanoseconds()
                for input in scenarios[s].1 { _ = model.forward(input) }
                times[s].append(monotonicNanoseconds() - start)
            }
        }
        let rows = scenarios.indices.map { s -> LengthScenarioRow in
            let median = SampleStats(samplesNs: times[s]).median
            return LengthScenarioRow(scenario: scenarios[s].0,
                                     paddingWaste: 1 - Double(realTokens) / Double(scenarios[s].2),
                                     realTokensPerSecond: Double(realTokens) / median,
                                     sequencesPerSecond: Double(requests) / median, repeatNs: times[s],
                                     speedup: s == 0 ? nil : Bootstrap.speedup(baselineNs: times[0], variantNs: times[s],
                                                                               baselineName: scenarios[0].0, resamples: 2000, seed: seed &+ 1))
        }
        return LengthResult(environment: EnvironmentInfo.capture(), model: model.name, requests: requests, batch: batch,
                            meanLength: Double(realTokens) / Double(requests), maxLength: maxT, threads: threads, seed: seed, rows: rows)
    }

    public static func render(_ r: LengthResult) -> String {
        var out: [String] = []
        if r.environment.buildConfiguration == "debug" { out.append("!!! DEBUG BUILD: these timings mean nothing !!!") }
        out.append("infbench lengths: \(r.model), \(r.requests) requests of log-normal length (mean \(fixed(r.meanLength, 1)) tokens, "
                   + "max \(r.maxLength)), batches of \(r.batch), \(r.threads) thread(s)")
        out.append("\(r.environment.timestamp) · commit \(r.environment.gitCommit) · \(r.environment.cpuModel) · \(r.environment.buildConfiguration) build")
        out.append("")
        out.append(contentsOf: alignedTable(
            header: ["batching", "padding waste", "real tokens/s", "seq/s", "speedup"],
            numeric: [false, true, true, true, false],
            rows: r.rows.map { [$0.scenario, fixed($0.paddingWaste * 100, 1) + "%", fixed($0.realTokensPerSecond, 0),
                                fixed($0.sequencesPerSecond, 1), $0.speedup.map(speedupCell) ?? "—"] }))
        out.append("")
        out.append("Padding positions are computed and masked out of attention; their outputs are discarded.")
        return out.joined(separator: "\n") + "\n"
    }
}
