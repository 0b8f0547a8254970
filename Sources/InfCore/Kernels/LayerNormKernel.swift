// LayerNorm over the last dimension, in C (CKernels), with the residual add
// fused so the activations are read once: out = γ ⊙ (z − μ)/√(σ² + ε) + β, z = inp (+ residual).
import CKernels

/// inp, residual, out: (rows, cols); gamma, beta: (cols). out may alias inp or residual.
@inlinable
public func layerNormKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            residual: UnsafePointer<Float>?,
                            gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                            rows: Int, cols: Int, eps: Float) {
    ib_layernorm(out, inp, residual, gamma, beta, rows, cols, eps)
}
