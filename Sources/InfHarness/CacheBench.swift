// The prediction-cache scenario: a seeded Zipf-distributed stream of requests
// (batch 1) over a catalogue of distinct inputs, served with and without an
// LRU cache of outputs, and — so a cache cannot flatter the numbers — the same
// number of requests with all-unique inputs through the cache.
import Foundation
import InfCore
import InfModels

public struct CacheScenarioRow: Codable, Sendable {
    public var scenario: String
    public var requests: Int
    public var hitRate: Double
    /// Requests per second over the whole stream (median over repeats).
    public var throughput: Double
    /// Per-request latency over every repeat, seconds.
    public var latency: SampleStats
    /// Wall time of each repeat's whole stream, nanoseconds.
    public var streamNs: [UInt64]
    public var cacheEntries: Int
    public var cacheBytes: Int
    /// Throughput against "no cache" on the Zipf stream.
    public var speedup: Speedup?
}

public struct CacheResult: Codable, Sendable {
    public var schemaVersion = 1
    public var environment: EnvironmentInfo
    public var model: String
    public var sequenceLength: Int
    public var catalogue: Int
    public var zipfExponent: Double
    public var capacity: Int
    public var repeats: Int
    public var seed: UInt64
    public var rows: [CacheScenarioRow]
}

public enum CacheBench {
    /// Ranks 0..<n drawn with probability ∝ 1/(rank+1)^s.
    public static func zipfStream(count: Int, catalogue n: Int, exponent s: Double, rng: inout SeededRNG) -> [Int] {
        var cdf = [Double](repeating: 0, count: n)
        var total = 0.0
        for k in 0..<n {
            total += 1 / pow(Double(k + 1), s)
            cdf[k] = total
        }
        return (0..<count).map { _ in
            let u = Double(rng.next() >> 11) * 0x1p-53 * total
            var lo = 0, hi = n - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
    }

    public static func run(model: InferenceModel, sequenceLength: Int, requests: Int, catalogue: Int,
                           exponent: Double, capacity: Int, repeats: Int, threads: Int, seed: UInt64,
                           progress: ((String) -> Void)? = nil) -> CacheResult {
        Parallel.setThreads(threads)
        var rng = SeededRNG(seed: seed)
        // Each catalogue item is one batch-1 input; the unique stream gets fresh ones.
        func makeInput() -> ModelInput { model.makeInput(batch: 1, sequenceLength: sequenceLength, rng: &rng) }
        let items = (0..<catalogue).map { _ in makeInput() }
        let zipf = zipfStream(count: requests, catalogue: catalogue, exponent: exponent, rng: &rng)
        let unique = (0..<requests).map { _ in makeInput() }
        _ = model.forward(items[0]) // warm-up: scratch buffers, page faults

        struct Outcome { var latencies: [UInt64] = []; var streams: [UInt64] = []; var hitRate = 0.0; var entries = 0; var bytes = 0 }
        var outcomes = [Outcome](repeating: Outcome(), count: 3)
        let names = ["no cache (Zipf stream)", "LRU cache (Zipf stream)", "LRU cache (all-unique stream)"]
        for r in 0..<repeats {
            for s in (r % 2 == 0 ? [0, 1, 2] : [2, 1, 0]) {
                progress?("repeat \(r + 1)/\(repeats): \(names[s])")
                let cache = PredictionCache<CacheKey>(capacity: capacity)
                let stream: [ModelInput] = s == 2 ? unique : zipf.map { items[$0] }
                let start = monotonicNanoseconds()
                for input in stream {
                    let t0 = monotonicNanoseconds()
                    if s == 0 {
                        _ = model.forward(input)
                    } else {
                        _ = cache.value(for: CacheKey(input)) { model.forward(input) }
                    }
                    outcomes[s].latencies.append(monotonicNanoseconds() - t0)
                }
                outcomes[s].streams.append(monotonicNanoseconds() - start)
                outcomes[s].hitRate = s == 0 ? 0 : Double(cache.hits) / Double(requests)
                outcomes[s].entries = s == 0 ? 0 : cache.count
                outcomes[s].bytes = s == 0 ? 0 : cache.valueBytes
            }
        }
        let rows = (0..<3).map { s -> CacheScenarioRow in
            let o = outcomes[s]
            return CacheScenarioRow(
                scenario: names[s], requests: requests, hitRate: o.hitRate,
                throughput: Double(requests) / SampleStats(samplesNs: o.streams).median,
                latency: SampleStats(samplesNs: o.latencies), streamNs: o.streams,
                cacheEntries: o.entries, cacheBytes: o.bytes,
                speedup: s == 0 ? nil : Bootstrap.speedup(baselineNs: outcomes[0].streams, variantNs: o.streams,
                                                          baselineName: names[0], resamples: 2000, seed: seed &+ 1))
        }
        return CacheResult(environment: EnvironmentInfo.capture(), model: model.name, sequenceLength: sequenceLength,
                           catalogue: catalogue, zipfExponent: exponent, capacity: capacity, repeats: repeats,
                           seed: seed, rows: rows)
    }

    public static func render(_ r: CacheResult) -> String {
        var out: [String] = []
        if r.environment.buildConfiguration == "debug" { out.append("!!! DEBUG BUILD: these timings mean nothing !!!") }
        out.append("infbench cache: \(r.model), batch 1\(r.sequenceLength > 0 ? " × \(r.sequenceLength) tokens" : ""), "
                   + "\(r.rows.first?.requests ?? 0) requests, catalogue \(r.catalogue), Zipf s = \(r.zipfExponent), "
                   + "LRU capacity \(r.capacity), \(r.repeats) repeat(s)")
        out.append("\(r.environment.timestamp) · commit \(r.environment.gitCommit) · \(r.environment.cpuModel) · \(r.environment.buildConfiguration) build")
        out.append("")
        out.append(contentsOf: alignedTable(
            header: ["scenario", "hit rate", "requests/s", "p50 ms", "p90 ms", "p99 ms", "entries", "cache MB", "speedup"],
            numeric: [false, true, true, true, true, true, true, true, false],
            rows: r.rows.map { row in
                [row.scenario, fixed(row.hitRate * 100, 1) + "%", fixed(row.throughput, 1),
                 fourDigits(row.latency.median * 1e3), fourDigits(row.latency.p90 * 1e3), fourDigits(row.latency.p99 * 1e3),
                 String(row.cacheEntries), megabytes(row.cacheBytes), row.speedup.map(speedupCell) ?? "—"]
            }))
        out.append("")
        out.append("A hit returns the stored output of an identical earlier request (key: the exact token ids or image bytes).")
        out.append("The all-unique row is the honest floor: no request repeats, so the cache can only cost time and memory.")
        return out.joined(separator: "\n") + "\n"
    }
}

/// A request's identity: its token ids, or its image's bytes.
struct CacheKey: Hashable {
    let tokens: [Int32]
    let pixels: [UInt32]

    init(_ input: ModelInput) {
        switch input {
        case .tokens(let ids, _, _, _):
            tokens = ids
            pixels = []
        case .images(let t):
            tokens = []
            pixels = t.storage.map(\.bitPattern)
        }
    }
}
