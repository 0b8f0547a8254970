// LayerNorm over the last dimension, y = γ x̂ + β with x̂ = (x − μ) / σ, and
//   dγ += Σ dy x̂,  dβ += Σ dy,
//   dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) / σ,  ĝ = dy γ   (per row).
import InfCore

public final class LayerNormLayer: Module {
    public let gamma: Parameter // (C)
    public let beta: Parameter  // (C)
    public let eps: Float
    private var xhat = Tensor(zeros: [0])
    private var invStd: [Float] = []

    public init(name: String, gamma: Tensor, beta: Tensor, eps: Float) {
        precondition(gamma.rank == 1 && gamma.shape == beta.shape, "\(name): γ \(gamma.shape) and β \(beta.shape) must be equal vectors")
        self.gamma = Parameter("\(name).weight", gamma, decays: false)
        self.beta = Parameter("\(name).bias", beta, decays: false)
        self.eps = eps
    }

    public var parameters: [Parameter] { [gamma, beta] }

    /// x (..., C) → y (..., C)
    public func forward(_ x: Tensor) -> Tensor {
        let c = gamma.value.count
        precondition(x.lastDim == c, "\(gamma.name) normalises \(c) features, got \(x.shape)")
        let rows = x.rows
        xhat = Tensor(zeros: x.shape)
        invStd = [Float](repeating: 0, count: rows)
        var y = Tensor(zeros: x.shape)
        for r in 0..<rows {
            var mean: Float = 0, variance: Float = 0
            for j in 0..<c { mean += x.storage[r * c + j] }
            mean /= Float(c)
            for j in 0..<c { let d = x.storage[r * c + j] - mean; variance += d * d }
            let inv = 1 / (variance / Float(c) + eps).squareRoot()
            invStd[r] = inv
            for j in 0..<c {
                let xh = (x.storage[r * c + j] - mean) * inv
                xhat.storage[r * c + j] = xh
                y.storage[r * c + j] = gamma.value.storage[j] * xh + beta.value.storage[j]
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let c = gamma.value.count, rows = xhat.rows
        precondition(dy.count == xhat.count, "\(gamma.name): gradient \(dy.shape) does not match \(xhat.shape)")
        var dx = Tensor(zeros: xhat.shape)
        var g = [Float](repeating: 0, count: c)
        for r in 0..<rows {
            var meanG: Float = 0, meanGX: Float = 0
            for j in 0..<c {
                let d = dy.storage[r * c + j], xh = xhat.storage[r * c + j]
                gamma.grad.storage[j] += d * xh
                beta.grad.storage[j] += d
                g[j] = d * gamma.value.storage[j]
                meanG += g[j]
                meanGX += g[j] * xh
            }
            meanG /= Float(c)
            meanGX /= Float(c)
            for j in 0..<c {
                dx.storage[r * c + j] = (g[j] - meanG - xhat.storage[r * c + j] * meanGX) * invStd[r]
            }
        }
        return dx
    }
}
