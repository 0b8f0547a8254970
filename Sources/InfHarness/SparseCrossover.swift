// Where unstructured sparsity starts to pay: for each GEMM shape and sparsity, the
// CSR kernel against OpenBLAS sgemm on the *same* pruned matrix (whose zeros sgemm
// still multiplies), timed interleaved, with a bootstrap interval on the ratio.
import InfCore
import InfTechniques

/// One (shape, sparsity) cell of the crossover grid. Times are per product y = x · Wᵀ.
public struct CrossoverRow: Codable, Sendable, Equatable {
    /// x (M, K) · Wᵀ, W (N, K).
    public var m, n, k: Int
    /// Requested fraction of zeros (per-layer magnitude pruning).
    public var sparsity: Double
    public var nonzeros: Int
    /// Median nanoseconds of one DenseWeights.multiply (sgemm on the pruned matrix).
    public var denseMedianNs: Double
    /// Median nanoseconds of one CSRWeights.multiply.
    public var sparseMedianNs: Double
    /// dense / sparse (> 1: the sparse kernel is faster), a ratio of medians…
    public var ratio: Double
    /// …with its bootstrap interval at `confidence`.
    public var low: Double
    public var high: Double
    public var confidence: Double
    /// True when the interval covers 1: no difference beyond the noise.
    public var withinNoise: Bool
    /// Bytes of the weights: fp32 dense vs the CSR arrays.
    public var denseBytes: Int
    public var sparseBytes: Int
    /// Largest |dense − sparse| output difference (both compute the same product).
    public var maxAbsDiff: Double
    /// Products per timed sample (short products are repeated so a sample is ≥ ~20 µs,
    /// well above the clock's resolution); the samples below are of that many calls.
    public var callsPerSample: Int
    public var denseSamplesNs: [UInt64]
    public var sparseSamplesNs: [UInt64]
}

extension CrossoverRow {
    /// The cell as two rows of the common result format: the dense baseline and the CSR
    /// variant, with the speed-up, samples, bytes and max |Δ| carried over; sparsity,
    /// nonzeros, N, K and calls per sample go in `metrics`.
    public func resultRows(model: String, threads: Int) -> [ResultRow] {
        func row(_ variant: String, _ executes: String, _ samples: [UInt64], bytes: Int) -> ResultRow {
            let stats = SampleStats(samplesNs: samples)
            var r = ResultRow(model: model, variant: variant, executes: executes, batch: m, sequenceLength: nil,
                              threads: threads, itemUnit: "product", itemsPerRun: callsPerSample, warmupRuns: 0,
                              samplesNs: samples, stats: stats, throughput: Double(callsPerSample) / stats.median,
                              flopsPerRun: 2 * Double(m * n * k * callsPerSample),
                              gflops: 2 * Double(m * n * k * callsPerSample) / stats.median / 1e9,
                              rooflinePercent: nil, weightBytes: bytes, peakRSSBytes: 0, speedup: nil, quality: nil)
            r.workload = "spmm"
            r.point = "W \(n)×\(k), sparsity \(fixed(sparsity * 100, 1))%"
            r.metrics = ["sparsity": sparsity, "nonzeros": Double(nonzeros), "n": Double(n), "k": Double(k),
                         "callsPerSample": Double(callsPerSample)]
            return r
        }
        let dense = row("dense sgemm", "OpenBLAS sgemm on the pruned fp32 matrix (its zeros are still multiplied)", denseSamplesNs, bytes: denseBytes)
        var sparse = row("CSR", "infbench CSR kernel, nonzeros only (\(VectorISA.active.rawValue) path)", sparseSamplesNs, bytes: sparseBytes)
        var s = Speedup(baseline: "dense sgemm", ratio: ratio, low: low, high: high, confidence: confidence)
        s.withinNoise = withinNoise
        sparse.speedup = s
        sparse.quality = Quality(maxAbsDiff: maxAbsDiff, meanCosine: 1, top1Agreement: nil, n: m,
                                 evaluationSet: "the timed product", identical: maxAbsDiff < 1e-4)
        return [dense, sparse]
    }

    /// A row pair back as a cell (for the chart), from the metrics `resultRows` wrote.
    init?(dense: ResultRow, sparse: ResultRow) {
        guard let metrics = dense.metrics, let s = sparse.speedup, let sparsity = metrics["sparsity"],
              let n = metrics["n"], let k = metrics["k"], let calls = metrics["callsPerSample"] else { return nil }
        self.init(m: dense.batch, n: Int(n), k: Int(k), sparsity: sparsity, nonzeros: Int(metrics["nonzeros"] ?? 0),
                  denseMedianNs: dense.stats.median * 1e9 / calls, sparseMedianNs: sparse.stats.median * 1e9 / calls,
                  ratio: s.ratio, low: s.low, high: s.high, confidence: s.confidence, withinNoise: s.withinNoise,
                  denseBytes: dense.weightBytes, sparseBytes: sparse.weightBytes, maxAbsDiff: sparse.quality?.maxAbsDiff ?? 0,
                  callsPerSample: Int(calls), denseSamplesNs: dense.samplesNs, sparseSamplesNs: sparse.samplesNs)
    }
}

/// Measures the grid `shapes` × `sparsities` on `threads` threads (restored afterwards).
/// Per shape, one seeded random W (N, K) is magnitude-pruned to each sparsity and every
/// dense and sparse body of that shape runs in one `measureInterleaved` call, so drift
/// hits all of them alike. Sparsities must lie in [0, 1].
public func measureSparseCrossover(shapes: [(m: Int, n: Int, k: Int)], sparsities: [Double], threads: Int,
                                   policy: MeasurementPolicy, seed: UInt64) -> [CrossoverRow] {
    precondition(threads >= 1, "threads must be ≥ 1")
    precondition(sparsities.allSatisfy { $0 >= 0 && $0 <= 1 }, "sparsities must lie in [0, 1], got \(sparsities)")
    let previousThreads = Parallel.threads
    Parallel.setThreads(threads)
    defer { Parallel.setThreads(previousThreads) }

    var rows: [CrossoverRow] = []
    for (shapeIndex, shape) in shapes.enumerated() {
        let (m, n, k) = shape
        precondition(m > 0 && n > 0 && k > 0, "crossover shapes must be positive, got \(shape)")
        var rng = SeededRNG(seed: seed &+ UInt64(shapeIndex))
        let weight = Tensor.randomNormal([n, k], std: 1 / Float(k).squareRoot(), rng: &rng)
        let x = Tensor.randomNormal([m, k], std: 1, rng: &rng)
        let xp = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        xp.initialize(from: x.storage, count: m * k)

        struct Pair {
            var dense: DenseWeights, sparse: CSRWeights
            var yDense, ySparse: UnsafeMutablePointer<Float>
            var calls: Int
        }
        var pairs: [Pair] = []
        for s in sparsities {
            let pruned = MagnitudePruning.pruneLayer(weight, sparsity: s)
            let yd = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            let ys = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            yd.initialize(repeating: 0, count: m * n)
            ys.initialize(repeating: 0, count: m * n)
            var pair = Pair(dense: DenseWeights(pruned), sparse: CSRWeights(pruned), yDense: yd, ySparse: ys, calls: 1)
            // Calls per sample from the faster of the two, after one warm call each.
            pair.dense.multiply(xp, rows: m, into: yd)
            pair.sparse.multiply(xp, rows: m, into: ys)
            func once(_ body: () -> Void) -> UInt64 {
                let t0 = monotonicNanoseconds()
                body()
                return Swift.max(monotonicNanoseconds() &- t0, 1)
            }
            let fastest = Swift.min(once { pair.dense.multiply(xp, rows: m, into: yd) },
                                    once { pair.sparse.multiply(xp, rows: m, into: ys) })
            pair.calls = Swift.min(Swift.max(Int(20_000 / fastest), 1), 10_000)
            pairs.append(pair)
        }

        var bodies: [() -> Void] = []
        for p in pairs {
            let calls = p.calls
            bodies.append { for _ in 0..<calls { p.dense.multiply(xp, rows: m, into: p.yDense) } }
            bodies.append { for _ in 0..<calls { p.sparse.multiply(xp, rows: m, into: p.ySparse) } }
        }
        let measured = measureInterleaved(bodies, policy: policy)

        for (i, p) in pairs.enumerated() {
            let dense = measured[2 * i].samplesNs, sparse = measured[2 * i + 1].samplesNs
            let speedup = Bootstrap.speedup(baselineNs: dense, variantNs: sparse, baselineName: "dense sgemm",
                                            resamples: 2000, seed: seed &+ UInt64(1000 * shapeIndex + i))
            var maxDiff = 0.0
            for j in 0..<(m * n) { maxDiff = Swift.max(maxDiff, Double(abs(p.yDense[j] - p.ySparse[j]))) }
            let calls = Double(p.calls)
            rows.append(CrossoverRow(
                m: m, n: n, k: k, sparsity: sparsities[i], nonzeros: p.sparse.nonzeroCount,
                denseMedianNs: SampleStats(samplesNs: dense).median * 1e9 / calls,
                sparseMedianNs: SampleStats(samplesNs: sparse).median * 1e9 / calls,
                ratio: speedup.ratio, low: speedup.low, high: speedup.high, confidence: speedup.confidence,
                withinNoise: speedup.withinNoise,
                denseBytes: p.dense.byteCount, sparseBytes: p.sparse.byteCount,
                maxAbsDiff: maxDiff, callsPerSample: p.calls,
                denseSamplesNs: dense, sparseSamplesNs: sparse))
            p.yDense.deallocate()
            p.ySparse.deallocate()
        }
        xp.deallocate()
    }
    return rows
}

/// The grid as an aligned text table, one row per (shape, sparsity), with a legend
/// saying what each side executes.
public func renderCrossover(_ rows: [CrossoverRow]) -> String {
    let header = ["M", "N", "K", "sparsity", "nonzeros", "dense µs", "sparse µs", "dense/sparse", "95% interval", "bytes CSR/dense", "verdict"]
    let numeric = [true, true, true, true, true, true, true, true, false, true, false]
    let cells: [[String]] = rows.map { r in
        let verdict = r.withinNoise ? "within noise" : (r.ratio > 1 ? "sparse faster" : "dense faster")
        return ["\(r.m)", "\(r.n)", "\(r.k)", fixed(r.sparsity * 100, 1) + "%", "\(r.nonzeros)",
                fixed(r.denseMedianNs / 1000, 2), fixed(r.sparseMedianNs / 1000, 2),
                fixed(r.ratio, 2) + "×", "[\(fixed(r.low, 2)), \(fixed(r.high, 2))]",
                fixed(Double(r.sparseBytes) / Double(Swift.max(r.denseBytes, 1)), 3), verdict]
    }
    var out = alignedTable(header: header, numeric: numeric, rows: cells)
    out.append("dense: OpenBLAS sgemm on the pruned fp32 matrix (its zeros are still multiplied); "
        + "sparse: infbench CSR kernel (\(VectorISA.active.rawValue) path). Times are medians per product; "
        + "the interval is a bootstrap of the ratio of medians.")
    return out.joined(separator: "\n") + "\n"
}
