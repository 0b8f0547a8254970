// Where unstructured sparsity starts to pay: for each GEMM shape and sparsity, the
// CSR kernel against OpenBLAS sgemm on the *same* pruned matrix (whose zeros sgemm
// still multiplies), timed interleaved, with a bootstrap interval on the ratio.
import InfCore
import InfMeasure
import InfModels
import InfTechniques

/// Measures the grid `shapes` × `sparsities` on `threads` threads (restored afterwards).
/// Per shape, one seeded random W (N, K) is magnitude-pruned to each sparsity; each cell is
/// one engine group: dense sgemm on the pruned matrix (the baseline), its A/A copy (a second
/// allocation of the same matrix) and the CSR kernel, interleaved. Returns the cells and
/// their rows in the common format. Sparsities must lie in [0, 1].
public func measureSparseCrossover(shapes: [(m: Int, n: Int, k: Int)], sparsities: [Double], threads: Int,
                                   engine: Engine, seed: UInt64, model: String = "matrix",
                                   warnings: inout [String], progress: ((String) -> Void)? = nil) -> (cells: [CrossoverRow], rows: [ResultRow]) {
    precondition(threads >= 1, "threads must be ≥ 1")
    precondition(sparsities.allSatisfy { $0 >= 0 && $0 <= 1 }, "sparsities must lie in [0, 1], got \(sparsities)")
    let context = ExecutionContext(threads: threads)

    var cells: [CrossoverRow] = [], rows: [ResultRow] = []
    var cellIndex = 0
    for (shapeIndex, shape) in shapes.enumerated() {
        let (m, n, k) = shape
        precondition(m > 0 && n > 0 && k > 0, "crossover shapes must be positive, got \(shape)")
        var rng = SeededRNG(seed: seed &+ UInt64(shapeIndex))
        let weight = Tensor.randomNormal([n, k], std: 1 / Float(k).squareRoot(), rng: &rng)
        let x = Tensor.randomNormal([m, k], std: 1, rng: &rng)
        let xp = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        xp.initialize(from: x.storage, count: m * k)
        let ys = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * n) }
        for y in ys { y.initialize(repeating: 0, count: m * n) }
        defer {
            xp.deallocate()
            for y in ys { y.deallocate() }
        }
        for s in sparsities {
            let pruned = MagnitudePruning.pruneLayer(weight, sparsity: s)
            let kernels: [any LinearWeights] = [DenseWeights(pruned), DenseWeights(pruned), CSRWeights(pruned)]
            // The dense baseline and its A/A draw each sample from a pool of copies of the matrix (see TwinPool).
            let twins = TwinPool((0..<TwinPool<DenseWeights>.size).map { _ in DenseWeights(Tensor(shape: pruned.shape, storage: pruned.storage.map { $0 })) },
                                 seed: engine.policy.orderSeed ^ UInt64(cellIndex))
            // Calls per sample, so a sample is ~1 ms: far above the clock's resolution, and few
            // enough samples per row that a result file stays small.
            for (w, y) in zip(kernels, ys) { w.multiply(xp, rows: m, into: y, in: context) }
            func once(_ w: any LinearWeights) -> UInt64 {
                let t0 = monotonicNanoseconds()
                w.multiply(xp, rows: m, into: ys[0], in: context)
                return Swift.max(monotonicNanoseconds() &- t0, 1)
            }
            let calls = Swift.min(Swift.max(Int(1_000_000 / Swift.min(once(kernels[0]), once(kernels[2]))), 1), 10_000)
            let names = ["dense sgemm", "dense sgemm A/A", "CSR"]
            let executes = ["OpenBLAS sgemm on the pruned fp32 matrix (its zeros are still multiplied)",
                            "the same dense product; " + TwinPool<DenseWeights>.aaNote,
                            "infbench CSR kernel, nonzeros only (\(VectorISA.active.rawValue) path)"]
            let point = WorkloadPoint(model: model, workload: "spmm", batch: m, sequenceLength: nil, threads: threads,
                                      itemUnit: "product", itemsPerRun: calls,
                                      point: "W \(n)×\(k), sparsity \(fixed(s * 100, 1))%")
            var maxDiff = 0.0
            for j in 0..<(m * n) { maxDiff = Swift.max(maxDiff, Double(abs(ys[0][j] - ys[2][j]))) }
            cellIndex += 1
            let cell = "[\(cellIndex)/\(shapes.count * sparsities.count)] \(m)×\(n)×\(k) at \(fixed(s * 100, 0))%: dense vs CSR"
            let group = engine.measureGroup(point, (0..<3).map { v in
                EngineVariant(name: names[v], executes: executes[v], weightBytes: kernels[v].byteCount,
                              flopsPerRun: 2 * Double(m * n * k * calls),
                              quality: v == 2 ? Quality(maxAbsDiff: maxDiff, meanCosine: 1, top1Agreement: nil, n: m,
                                                        evaluationSet: "the timed product", identical: maxDiff < 1e-4) : nil,
                              metrics: ["sparsity": s, "nonzeros": Double((kernels[2] as! CSRWeights).nonzeroCount),
                                        "n": Double(n), "k": Double(k), "callsPerSample": Double(calls)]) {
                    let w: any LinearWeights = v < 2 ? twins.next() : kernels[v]
                    for _ in 0..<calls { w.multiply(xp, rows: m, into: ys[v], in: context) }
                }
            }, warnings: &warnings, progress: { progress?("\(cell) — \($0.components(separatedBy: ": ").last ?? $0)") })
            let speedup = group[2].speedup!
            cells.append(CrossoverRow(
                m: m, n: n, k: k, sparsity: s, nonzeros: (kernels[2] as! CSRWeights).nonzeroCount,
                denseMedianNs: group[0].stats.median * 1e9 / Double(calls), sparseMedianNs: group[2].stats.median * 1e9 / Double(calls),
                ratio: speedup.ratio, low: speedup.low, high: speedup.high, confidence: speedup.confidence,
                withinNoise: speedup.withinNoise, denseBytes: kernels[0].byteCount, sparseBytes: kernels[2].byteCount,
                maxAbsDiff: maxDiff, callsPerSample: calls, denseSamplesNs: group[0].samplesNs, sparseSamplesNs: group[2].samplesNs))
            rows += group
        }
    }
    return (cells, rows)
}

/// The distinct (out, in) shapes of a model's weight matrices, in checkpoint order: the
/// products a sparse kernel would replace.
public func matrixShapes(of model: InferenceModel) -> [(n: Int, k: Int)] {
    var shapes: [(n: Int, k: Int)] = []
    _ = model.transformingWeights { _, w in
        if !shapes.contains(where: { $0 == (w.outFeatures, w.inFeatures) }) { shapes.append((w.outFeatures, w.inFeatures)) }
        return w
    }
    return shapes
}
