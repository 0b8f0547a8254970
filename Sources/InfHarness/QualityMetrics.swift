// Output quality of a variant against the fp32 reference on the same inputs:
// max |Δ|, mean cosine per output row, and arg-max and top-5 agreement for logits.
// A NaN or ±inf anywhere in either output makes every column NaN: comparisons
// with NaN are false, so the loops below would otherwise skip it and report a
// perfect score (an all-NaN query matrix printed "cos 1.000000").
import Foundation
import InfCore
import InfMeasure
import InfModels

/// Quality over several batches of one evaluation set, accumulated batch by batch so a
/// large set never holds every output at once. Rows are vectors of the last dimension:
/// (B, T, C) hidden states, (B, T, V) or (B, classes) logits.
public struct QualityAccumulator {
    let logits: Bool
    var maxAbs = 0.0, cosineSum = 0.0, agree = 0, agree5 = 0, rows = 0, top5 = false
    var embeddingSum = 0.0, sequences = 0
    var nllSum = 0.0, predictedTokens = 0
    /// Non-finite values seen in either output: any makes every figure NaN.
    public private(set) var nonFinite = 0

    public init(logits: Bool) { self.logits = logits }

    public mutating func add(reference: Tensor, output: Tensor) {
        precondition(reference.shape == output.shape, "outputs differ in shape: \(reference.shape) vs \(output.shape)")
        let cols = reference.lastDim, n = reference.rows
        top5 = logits && cols > 5
        nonFinite += nonFiniteCount(reference) + nonFiniteCount(output)
        reference.storage.withUnsafeBufferPointer { r in
            output.storage.withUnsafeBufferPointer { o in
                for row in 0..<n {
                    var dot = 0.0, nr = 0.0, no = 0.0
                    var argR = 0, argO = 0
                    for j in 0..<cols {
                        let a = Double(r[row * cols + j]), b = Double(o[row * cols + j])
                        maxAbs = max(maxAbs, abs(a - b))
                        dot += a * b
                        nr += a * a
                        no += b * b
                        if r[row * cols + j] > r[row * cols + argR] { argR = j }
                        if o[row * cols + j] > o[row * cols + argO] { argO = j }
                    }
                    // Two zero vectors are identical; one zero vector against another is orthogonal.
                    cosineSum += (nr == 0 && no == 0) ? 1 : (nr == 0 || no == 0) ? 0 : dot / (nr.squareRoot() * no.squareRoot())
                    if argR == argO { agree += 1 }
                    if top5 && Set(topFive(r.baseAddress! + row * cols, cols)) == Set(topFive(o.baseAddress! + row * cols, cols)) { agree5 += 1 }
                }
            }
        }
        rows += n
        if !logits && reference.rank == 3 {
            embeddingSum += pooledCosine(reference, output) * Double(reference.shape[0])
            sequences += reference.shape[0]
        }
    }

    /// A language model's output (B, T, V) on held-out text and the tokens that follow: its perplexity.
    public mutating func addNegativeLogLikelihood(output: Tensor, targets: [Int32]) {
        nllSum += Perplexity.nllSum(logits: output.reshaped([targets.count, output.lastDim]), targets: targets)
        predictedTokens += targets.count
    }

    /// The figures; `n` and `set` say what they were measured on.
    public func quality(n: Int? = nil, set: String? = nil) -> Quality {
        if nonFinite > 0 {
            return Quality(maxAbsDiff: .nan, meanCosine: .nan, top1Agreement: logits ? .nan : nil, top5Agreement: top5 ? .nan : nil,
                           embeddingCosine: sequences > 0 ? .nan : nil, n: n, evaluationSet: set)
        }
        return Quality(maxAbsDiff: maxAbs, meanCosine: cosineSum / Double(max(rows, 1)),
                top1Agreement: logits ? Double(agree) / Double(max(rows, 1)) : nil,
                top5Agreement: top5 ? Double(agree5) / Double(max(rows, 1)) : nil,
                embeddingCosine: sequences > 0 ? embeddingSum / Double(sequences) : nil,
                n: n, evaluationSet: set, perplexity: predictedTokens > 0 ? exp(nllSum / Double(predictedTokens)) : nil)
    }
}

/// Quality of one output against the fp32 reference on the same inputs.
public func compareOutputs(reference: Tensor, output: Tensor, logits: Bool) -> Quality {
    var acc = QualityAccumulator(logits: logits)
    acc.add(reference: reference, output: output)
    return acc.quality()
}

/// Indices of the five largest of x[0..<n] (n ≥ 5), by insertion into a sorted list of five.
func topFive(_ x: UnsafePointer<Float>, _ n: Int) -> [Int] {
    var best = Array(0..<5).sorted { x[$0] > x[$1] }
    for j in 5..<n where x[j] > x[best[4]] {
        best[4] = j
        var i = 4
        while i > 0 && x[best[i]] > x[best[i - 1]] { best.swapAt(i, i - 1); i -= 1 }
    }
    return best
}

/// (B, T, C) hidden states: mean over the cosines, per sequence, of the T-averaged vectors.
/// The harness's inputs have no padding, so every position counts.
func pooledCosine(_ a: Tensor, _ b: Tensor) -> Double {
    let (batch, t, c) = (a.shape[0], a.shape[1], a.shape[2])
    var total = 0.0
    for s in 0..<batch {
        var pa = [Double](repeating: 0, count: c), pb = pa
        for j in 0..<t {
            let row = (s * t + j) * c
            for k in 0..<c {
                pa[k] += Double(a.storage[row + k])
                pb[k] += Double(b.storage[row + k])
            }
        }
        let dot = zip(pa, pb).reduce(0) { $0 + $1.0 * $1.1 }
        let na = pa.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = pb.reduce(0) { $0 + $1 * $1 }.squareRoot()
        total += na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / (na * nb)
    }
    return total / Double(max(batch, 1))
}
/// NaN and ±inf entries of a tensor.
public func nonFiniteCount(_ t: Tensor) -> Int {
    t.storage.withUnsafeBufferPointer { p in
        var n = 0
        for x in p where !x.isFinite { n += 1 }
        return n
    }
}

/// Warnings for one group: the baseline's own output holds NaN or ±inf, or a variant's
/// quality is NaN (its output does). A NaN anywhere is never silent.
public func nonFiniteWarnings(reference: Tensor, qualities: [(variant: String, quality: Quality)], label: String) -> [String] {
    var warnings: [String] = []
    let bad = nonFiniteCount(reference)
    if bad > 0 {
        warnings.append("\(label): the fp32 baseline's output has \(bad) non-finite value\(bad == 1 ? "" : "s") (NaN or ±inf) of \(reference.storage.count); every quality column of this group is NaN.")
    } else {
        for q in qualities where q.quality.maxAbsDiff.isNaN || q.quality.meanCosine.isNaN {
            warnings.append("\(label): \(q.variant)'s output has non-finite values (NaN or ±inf); its quality columns are NaN.")
        }
    }
    return warnings
}
