// Batch normalisation at inference: y = γ (x − μ) / √(σ² + ε) + β per channel, an affine
// map with frozen statistics. It is never executed: it folds into the convolution before it,
//   W'[o] = s[o] · W[o],  b'[o] = s[o] · (b[o] − μ[o]) + β[o],  s = γ / √(σ² + ε),
// so a conv + BN costs exactly a conv with a bias.

public struct BatchNorm: Sendable {
    public var gamma: Tensor     // (C) "weight"
    public var beta: Tensor      // (C) "bias"
    public var mean: Tensor      // (C) "running_mean"
    public var variance: Tensor  // (C) "running_var"
    public var eps: Float

    public init(gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, eps: Float) {
        let c = gamma.count
        precondition([beta, mean, variance].allSatisfy { $0.shape == [c] } && gamma.shape == [c],
                     "batch norm parameters must all be (C)")
        (self.gamma, self.beta, self.mean, self.variance, self.eps) = (gamma, beta, mean, variance, eps)
    }

    public var channels: Int { gamma.count }

    /// The conv weight (OC, …) and bias (OC) (nil: zero) with this norm folded in. In Double,
    /// so the fold itself adds no rounding beyond the final fp32 store.
    public func fold(weight: Tensor, bias: Tensor?) -> (weight: Tensor, bias: Tensor) {
        precondition(weight.shape.first == channels, "batch norm of \(channels) channels after a conv of \(weight.shape)")
        let per = weight.count / channels
        var w = weight.storage, b = [Float](repeating: 0, count: channels)
        for o in 0..<channels {
            let s = Double(gamma.storage[o]) / (Double(variance.storage[o]) + Double(eps)).squareRoot()
            for j in 0..<per { w[o * per + j] = Float(Double(w[o * per + j]) * s) }
            b[o] = Float(s * (Double(bias?.storage[o] ?? 0) - Double(mean.storage[o])) + Double(beta.storage[o]))
        }
        return (Tensor(shape: weight.shape, storage: w), Tensor(shape: [channels], storage: b))
    }

    /// The identity norm after a folded conv with bias `bias`: γ = 1, μ = 0, σ² = 1 − ε, β = bias.
    /// Lets a folded model be written in the checkpoint's own (conv, BN) layout and read back.
    public static func identity(bias: Tensor, eps: Float) -> BatchNorm {
        let c = bias.count
        return BatchNorm(gamma: Tensor(shape: [c]) { _ in 1 }, beta: bias, mean: Tensor(zeros: [c]),
                         variance: Tensor(shape: [c]) { _ in 1 - eps }, eps: eps)
    }
}
