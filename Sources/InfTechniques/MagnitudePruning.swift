// Magnitude pruning as pure functions on dense tensors: zero the weights of smallest
// |w|, either within each matrix (per layer) or under one threshold shared by all the
// matrices of a model (global). The sparse format is chosen elsewhere (CSRWeights).
import InfCore

public enum MagnitudePruning {
    /// Zeros a matrix of `count` weights gets at `sparsity`: round(sparsity · count),
    /// halves rounded away from zero.
    public static func zeroCount(_ count: Int, sparsity: Double) -> Int {
        precondition(sparsity >= 0 && sparsity <= 1, "sparsity must lie in [0, 1], got \(sparsity)")
        return min(count, Int((sparsity * Double(count)).rounded()))
    }

    /// `weight` with exactly `zeroCount(weight.count, sparsity)` zeros: the weights of
    /// smallest |w|, ties broken by flat (row-major) index, lower first. Weights already
    /// zero count towards the target; NaN counts as the largest magnitude (kept).
    public static func pruneLayer(_ weight: Tensor, sparsity: Double) -> Tensor {
        prune([weight], zeros: zeroCount(weight.count, sparsity: sparsity)).tensors[0]
    }

    /// The result of global pruning.
    public struct GlobalResult {
        /// The pruned matrices, in the order given.
        public var tensors: [Tensor]
        /// Every weight with |w| < threshold is zero, every weight with |w| > threshold is
        /// kept; at |w| = threshold the earlier ones (matrix order, then flat index) are zeroed.
        /// 0 when nothing is pruned.
        public var threshold: Float
    }

    /// `weights` with round(sparsity · total) zeros overall, chosen by one magnitude
    /// threshold over all of them, so a layer of small weights may lose more than
    /// `sparsity` of them and one of large weights less.
    public static func pruneGlobal(_ weights: [Tensor], sparsity: Double) -> GlobalResult {
        let total = weights.reduce(0) { $0 + $1.count }
        return prune(weights, zeros: zeroCount(total, sparsity: sparsity))
    }

    /// Zeros the `zeros` smallest magnitudes across `weights`, ties in (matrix, flat index) order.
    static func prune(_ weights: [Tensor], zeros: Int) -> GlobalResult {
        guard zeros > 0 else { return GlobalResult(tensors: weights, threshold: 0) }
        @inline(__always) func magnitude(_ w: Float) -> Float { w.isNaN ? .infinity : abs(w) }

        // The threshold is the zeros-th smallest magnitude: a sort of all magnitudes
        // (O(n log n), about a second for MiniLM's 21 M weights) keeps this obviously right.
        var all = [Float]()
        all.reserveCapacity(weights.reduce(0) { $0 + $1.count })
        for w in weights { all.append(contentsOf: w.storage.lazy.map(magnitude)) }
        all.sort()
        let threshold = all[zeros - 1]
        let below = all.prefix(zeros).reduce(0) { $0 + ($1 < threshold ? 1 : 0) }
        // Weights equal to the threshold: zero only as many as the count still needs.
        var tiesLeft = zeros - below

        var out = weights
        for t in out.indices {
            out[t].storage.withUnsafeMutableBufferPointer { w in
                for i in w.indices {
                    let m = magnitude(w[i])
                    if m < threshold {
                        w[i] = 0
                    } else if m == threshold && tiesLeft > 0 {
                        w[i] = 0
                        tiesLeft -= 1
                    }
                }
            }
        }
        return GlobalResult(tensors: out, threshold: threshold)
    }
}
