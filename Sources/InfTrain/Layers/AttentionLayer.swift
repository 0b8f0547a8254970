// Multi-head self-attention with a fused QKV projection, and its backward pass.
// Per (sequence b, head h), with Q, K, V (T, d) strided views of the (B, T, 3A) QKV buffer:
//   P = softmax(Q Kᵀ/√d + mask),  O = P V
//   dP = dO Vᵀ,  dV = Pᵀ dO,  dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d,  dQ = dS K,  dK = dSᵀ Q
import InfCore

public final class AttentionLayer: Module {
    public let qkv: LinearLayer    // (3A, C): rows [query; key; value]
    public let output: LinearLayer // (C, A)
    public let heads: Int
    /// (B, T) of 1 for real tokens and 0 for padding, set before `forward`; nil = no padding.
    public var keyMask: [Float]?
    /// Causal (decoder) attention: position i attends to j ≤ i only. The masked probabilities are
    /// exactly 0, so the backward formulas above need no change (their dS entries are 0 too).
    public var causal = false
    private var q = Tensor(zeros: [0])     // (B, T, 3A) projections
    private var probs = Tensor(zeros: [0]) // (B, H, T, T)
    private var shape = (b: 0, t: 0)

    public init(qkv: LinearLayer, output: LinearLayer, heads: Int) {
        precondition(qkv.outFeatures % (3 * heads) == 0 && output.inFeatures == qkv.outFeatures / 3,
                     "attention: QKV (\(qkv.outFeatures), \(qkv.inFeatures)) and output (\(output.outFeatures), \(output.inFeatures)) do not fit \(heads) heads")
        self.qkv = qkv
        self.output = output
        self.heads = heads
    }

    public var parameters: [Parameter] { qkv.parameters + output.parameters }
    private var width: Int { qkv.outFeatures / 3 }

    /// x (B, T, C) → y (B, T, C)
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3, "attention expects (B, T, C), got \(x.shape)")
        let (b, t, a) = (x.shape[0], x.shape[1], width)
        let d = a / heads, scale = 1 / Float(d).squareRoot()
        if let keyMask { precondition(keyMask.count == b * t, "key mask has \(keyMask.count) entries for (\(b), \(t))") }
        shape = (b, t)
        q = qkv.forward(x)
        probs = Tensor(zeros: [b, heads, t, t])
        var context = Tensor(zeros: [b, t, a])
        q.storage.withUnsafeBufferPointer { qp in
            probs.storage.withUnsafeMutableBufferPointer { pp in
                context.storage.withUnsafeMutableBufferPointer { cp in
                    for bi in 0..<b {
                        for h in 0..<heads {
                            let base = qp.baseAddress! + bi * t * 3 * a + h * d
                            let p = pp.baseAddress! + (bi * heads + h) * t * t
                            BLAS.sgemm(transB: true, m: t, n: t, k: d, alpha: scale, a: base, lda: 3 * a, b: base + a, ldb: 3 * a,
                                       c: p, ldc: t)
                            if let keyMask {
                                for j in 0..<t where keyMask[bi * t + j] == 0 {
                                    for i in 0..<t { p[i * t + j] = -1e30 }
                                }
                            }
                            if causal {
                                for i in 0..<t { for j in (i + 1)..<max(t, i + 1) { p[i * t + j] = -1e30 } }
                            }
                            softmaxRowsKernel(p, rows: t, cols: t)
                            BLAS.sgemm(m: t, n: d, k: t, a: p, lda: t, b: base + 2 * a, ldb: 3 * a,
                                       c: cp.baseAddress! + bi * t * a + h * d, ldc: a)
                        }
                    }
                }
            }
        }
        return output.forward(context)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (b, t, a) = (shape.b, shape.t, width)
        let d = a / heads, scale = 1 / Float(d).squareRoot()
        let dContext = output.backward(dy) // (B, T, A)
        var dq = Tensor(zeros: [b, t, 3 * a])
        var dp = [Float](repeating: 0, count: t * t)
        q.storage.withUnsafeBufferPointer { qp in
            probs.storage.withUnsafeBufferPointer { pp in
                dContext.storage.withUnsafeBufferPointer { gp in
                    dq.storage.withUnsafeMutableBufferPointer { dqp in
                        dp.withUnsafeMutableBufferPointer { dsp in
                            let ds = dsp.baseAddress!
                            for bi in 0..<b {
                                for h in 0..<heads {
                                    let base = qp.baseAddress! + bi * t * 3 * a + h * d
                                    let dbase = dqp.baseAddress! + bi * t * 3 * a + h * d
                                    let p = pp.baseAddress! + (bi * heads + h) * t * t
                                    let g = gp.baseAddress! + bi * t * a + h * d
                                    BLAS.sgemm(transB: true, m: t, n: t, k: d, a: g, lda: a, b: base + 2 * a, ldb: 3 * a, c: ds, ldc: t)
                                    BLAS.sgemm(transA: true, m: t, n: d, k: t, a: p, lda: t, b: g, ldb: a, c: dbase + 2 * a, ldc: 3 * a)
                                    for i in 0..<t {
                                        var dot: Float = 0
                                        for j in 0..<t { dot += ds[i * t + j] * p[i * t + j] }
                                        for j in 0..<t { ds[i * t + j] = p[i * t + j] * (ds[i * t + j] - dot) * scale }
                                    }
                                    BLAS.sgemm(m: t, n: d, k: t, a: ds, lda: t, b: base + a, ldb: 3 * a, c: dbase, ldc: 3 * a)
                                    BLAS.sgemm(transA: true, m: t, n: d, k: t, a: ds, lda: t, b: base, ldb: 3 * a, c: dbase + a, ldc: 3 * a)
                                }
                            }
                        }
                    }
                }
            }
        }
        return qkv.backward(dq)
    }
}
