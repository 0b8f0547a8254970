// The prediction-cache scenario: a seeded Zipf-distributed stream of requests
// (batch 1) over a catalogue of distinct inputs, served with and without an
// LRU cache of outputs, and — so a cache cannot flatter the numbers — the same
// number of requests with all-unique inputs through the cache.
import Foundation
import InfCore
import InfMeasure
import InfModels

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

    /// Measures the stream workload: one timed run serves all `requests` of a stream at batch 1.
    /// Variants: no cache (the baseline), its A/A copy, an LRU cache on the Zipf stream, and the
    /// same cache on an all-unique stream (the honest floor). Each run starts with an empty cache.
    public static func run(model: InferenceModel, sequenceLength: Int, requests: Int, catalogue: Int,
                           exponent: Double, capacity: Int, threads: Int, engine: Engine, seed: UInt64,
                           progress: ((String) -> Void)? = nil) -> SuiteResult {
        let context = ExecutionContext(threads: threads)
        var rng = SeededRNG(seed: seed)
        // Each catalogue item is one batch-1 input; the unique stream gets fresh ones.
        func makeInput() -> ModelInput { model.makeInput(batch: 1, sequenceLength: sequenceLength, rng: &rng) }
        let items = (0..<catalogue).map { _ in makeInput() }
        let zipf = zipfStream(count: requests, catalogue: catalogue, exponent: exponent, rng: &rng).map { items[$0] }
        let unique = (0..<requests).map { _ in makeInput() }
        let twins = TwinPool(model: model, seed: engine.policy.orderSeed ^ stableHash("cache"))

        // The check, once, before timing: every cached answer equals the uncached output bit for bit.
        progress?("checking cached outputs against uncached ones on the whole stream")
        var figures: [(quality: Quality, hitRate: Double, entries: Int, bytes: Int)] = []
        for stream in [zipf, unique] {
            let cache = PredictionCache<CacheKey>(capacity: capacity)
            var acc = QualityAccumulator(logits: model.outputIsLogits)
            for input in stream {
                let reference = model.forward(input, in: context)
                acc.add(reference: reference, output: cache.value(for: CacheKey(input)) { model.forward(input, in: context) })
            }
            var q = acc.quality(n: requests, set: "every request of the stream")
            q.identical = q.maxAbsDiff == 0
            figures.append((q, Double(cache.hits) / Double(requests), cache.count, cache.valueBytes))
        }

        var latencies = [[UInt64]](repeating: [], count: 4)
        func serve(_ stream: [ModelInput], _ v: Int, cached: Bool, on pick: @escaping () -> InferenceModel) -> () -> Void {
            {
                let m = pick()
                let cache = cached ? PredictionCache<CacheKey>(capacity: capacity) : nil
                for input in stream {
                    let t0 = monotonicNanoseconds()
                    if let cache { _ = cache.value(for: CacheKey(input)) { m.forward(input, in: context) } } else { _ = m.forward(input, in: context) }
                    latencies[v].append(monotonicNanoseconds() - t0)
                }
            }
        }
        let variants = [
            EngineVariant(name: "no cache", executes: "every request runs a forward pass (Zipf stream)",
                          weightBytes: model.weightBytes, body: serve(zipf, 0, cached: false, on: twins.next)),
            EngineVariant(name: "no cache A/A", executes: TwinPool<InferenceModel>.aaNote,
                          weightBytes: model.weightBytes, body: serve(zipf, 1, cached: false, on: twins.next)),
            EngineVariant(name: "LRU cache", executes: "LRU cache of outputs keyed by the exact input (Zipf stream); a miss runs a forward pass",
                          weightBytes: model.weightBytes, quality: figures[0].quality,
                          metrics: ["hitRate": figures[0].hitRate, "entries": Double(figures[0].entries), "cacheBytes": Double(figures[0].bytes)],
                          body: serve(zipf, 2, cached: true, on: { model })),
            EngineVariant(name: "LRU cache, unique stream", executes: "the same cache on a stream where no request repeats: it can only cost",
                          weightBytes: model.weightBytes, quality: figures[1].quality,
                          metrics: ["hitRate": figures[1].hitRate, "entries": Double(figures[1].entries), "cacheBytes": Double(figures[1].bytes)],
                          body: serve(unique, 3, cached: true, on: { model })),
        ]
        let point = WorkloadPoint(model: model.name, workload: "stream", batch: 1,
                                  sequenceLength: sequenceLength > 0 ? sequenceLength : nil, threads: threads,
                                  itemUnit: "req", itemsPerRun: requests,
                                  point: "\(requests) requests, catalogue \(catalogue), Zipf s \(exponent), LRU \(capacity)")
        var warnings: [String] = []
        var rows = engine.measureGroup(point, variants, warnings: &warnings, progress: progress)
        for v in rows.indices {
            // Per-request latency over the measured streams (the last ones each variant served).
            let measured = SampleStats(samplesNs: Array(latencies[v].suffix(rows[v].samplesNs.count * requests)))
            rows[v].metrics = (rows[v].metrics ?? [:]).merging(
                ["requestP50Seconds": measured.median, "requestP99Seconds": measured.p99], uniquingKeysWith: { a, _ in a })
        }
        if figures.contains(where: { $0.quality.identical == false }) {
            warnings.append("the cache returned an output that differs from the uncached one.")
        }
        var workload = WorkloadConfiguration()
        workload.requests = requests
        workload.catalogue = catalogue
        workload.zipfExponent = exponent
        workload.capacity = capacity
        return engine.result(kind: .cache, name: "cache", models: [model.name], variants: variants.map(\.name),
                             threads: [threads], batchSizes: [1], sequenceLengths: sequenceLength > 0 ? [sequenceLength] : [],
                             seed: seed, workload: workload, rows: rows, warnings: warnings)
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
