// A cell of the sparse-crossover grid (SparseCrossover.swift in InfHarness measures it):
// the row type, read back from a result's rows for the chart, and its text table.
import InfCore

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

    public init(m: Int, n: Int, k: Int, sparsity: Double, nonzeros: Int, denseMedianNs: Double, sparseMedianNs: Double,
                ratio: Double, low: Double, high: Double, confidence: Double, withinNoise: Bool, denseBytes: Int,
                sparseBytes: Int, maxAbsDiff: Double, callsPerSample: Int, denseSamplesNs: [UInt64], sparseSamplesNs: [UInt64]) {
        (self.m, self.n, self.k, self.sparsity, self.nonzeros) = (m, n, k, sparsity, nonzeros)
        (self.denseMedianNs, self.sparseMedianNs) = (denseMedianNs, sparseMedianNs)
        (self.ratio, self.low, self.high, self.confidence, self.withinNoise) = (ratio, low, high, confidence, withinNoise)
        (self.denseBytes, self.sparseBytes, self.maxAbsDiff) = (denseBytes, sparseBytes, maxAbsDiff)
        (self.callsPerSample, self.denseSamplesNs, self.sparseSamplesNs) = (callsPerSample, denseSamplesNs, sparseSamplesNs)
    }
}

extension CrossoverRow {
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
