// Linear layer y = x Wᵀ + b and its gradients:
//   dW (OC, C) += dyᵀ x,   db (OC) += Σ_rows dy,   dx (N, C) = dy W.
import InfCore

public final class LinearLayer: Module {
    public let weight: Parameter // (OC, C)
    public let bias: Parameter   // (OC)
    private var x = Tensor(zeros: [0])

    public init(name: String, weight: Tensor, bias: Tensor) {
        precondition(weight.rank == 2 && bias.shape == [weight.shape[0]], "\(name): weight \(weight.shape) and bias \(bias.shape) do not match")
        self.weight = Parameter("\(name).weight", weight, decays: true)
        self.bias = Parameter("\(name).bias", bias, decays: false)
    }

    public var inFeatures: Int { weight.value.shape[1] }
    public var outFeatures: Int { weight.value.shape[0] }
    public var parameters: [Parameter] { [weight, bias] }

    /// x (..., C) → y (..., OC)
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.lastDim == inFeatures, "\(weight.name) expects \(inFeatures) features, got \(x.shape)")
        self.x = x
        let (n, c, oc) = (x.rows, inFeatures, outFeatures)
        var y = Tensor(zeros: Array(x.shape.dropLast()) + [oc])
        x.storage.withUnsafeBufferPointer { xp in
            weight.value.storage.withUnsafeBufferPointer { w in
                y.storage.withUnsafeMutableBufferPointer { yp in
                    BLAS.sgemm(transB: true, m: n, n: oc, k: c, a: xp.baseAddress!, lda: c, b: w.baseAddress!, ldb: c,
                               c: yp.baseAddress!, ldc: oc)
                    bias.value.storage.withUnsafeBufferPointer { b in
                        addBiasKernel(yp.baseAddress!, b.baseAddress!, rows: n, cols: oc)
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, c, oc) = (x.rows, inFeatures, outFeatures)
        precondition(dy.count == n * oc, "\(weight.name): gradient \(dy.shape) does not match output (\(n), \(oc))")
        var dx = Tensor(zeros: x.shape)
        dy.storage.withUnsafeBufferPointer { g in
            x.storage.withUnsafeBufferPointer { xp in
                weight.grad.storage.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(transA: true, m: oc, n: c, k: n, a: g.baseAddress!, lda: oc, b: xp.baseAddress!, ldb: c,
                               beta: 1, c: dw.baseAddress!, ldc: c)
                }
            }
            bias.grad.storage.withUnsafeMutableBufferPointer { db in
                for r in 0..<n {
                    let row = g.baseAddress! + r * oc
                    for j in 0..<oc { db[j] += row[j] }
                }
            }
            weight.value.storage.withUnsafeBufferPointer { w in
                dx.storage.withUnsafeMutableBufferPointer { dxp in
                    BLAS.sgemm(m: n, n: c, k: oc, a: g.baseAddress!, lda: oc, b: w.baseAddress!, ldb: c,
                               c: dxp.baseAddress!, ldc: c)
                }
            }
        }
        return dx
    }
}
