// LayerNorm over the last dimension, with the residual add fused in so the
// activations are read once: out = γ ⊙ (z − μ)/√(σ² + ε) + β, z = inp (+ residual).
import Foundation

/// inp, residual, out: (rows, cols); gamma, beta: (cols). out may alias inp or residual.
@inlinable
public func layerNormKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            residual: UnsafePointer<Float>?,
                            gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                            rows: Int, cols: Int, eps: Float) {
    for r in 0..<rows {
        let x = inp + r * cols
        let y = out + r * cols
        // Sum in Float, two passes (mean, then variance of deviations): stable
        // enough for hidden sizes in the hundreds, and vectorisable.
        var mean: Float = 0
        if let residual {
            let res = residual + r * cols
            for c in 0..<cols {
                let z = x[c] + res[c]
                y[c] = z
                mean += z
            }
        } else {
            for c in 0..<cols {
                y[c] = x[c]
                mean += x[c]
            }
        }
        mean /= Float(cols)
        var variance: Float = 0
        for c in 0..<cols {
            let d = y[c] - mean
            variance += d * d
        }
        variance /= Float(cols)
        let rstd = 1 / (variance + eps).squareRoot()
        for c in 0..<cols {
            y[c] = (y[c] - mean) * rstd * gamma[c] + beta[c]
        }
    }
}
