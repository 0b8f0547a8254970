// Linear layer y = x Wᵀ + b. The weight matrix sits behind `LinearWeights`
// so techniques (fp16/bf16 storage, sparse formats) can swap how the product
// executes without touching model code. fp32 linear weights run as `PackedWeights`
// (infbench's own GEMM on weights packed once); `DenseWeights` is row-major fp32 on
// OpenBLAS sgemm, which the convolutions use.

/// How a (OC, C) weight matrix multiplies activations.
public protocol LinearWeights: Sendable {
    var outFeatures: Int { get }
    var inFeatures: Int { get }
    /// Bytes the weights occupy in memory as stored.
    var byteCount: Int { get }
    /// y (rows, OC) = x (rows, C) · Wᵀ, overwriting y. (Linear layers.)
    func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext)
    /// y (OC, n) = W · b, b (C, n), overwriting y. (Convolutions: W times the im2col matrix.)
    func multiplyLeft(_ b: UnsafePointer<Float>, columns n: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext)
    /// The weights as a dense fp32 (OC, C) tensor (for references and conversions).
    func dense() -> Tensor
}

/// Weights whose one kernel reads x and writes y through strides: `multiply` passes them
/// row-major, `multiplyLeft` the transposes (yᵀ = bᵀ · Wᵀ, b read and y written in place, no
/// copies). The bf16 and int8 weights.
public protocol StridedProductWeights: LinearWeights {
    /// y (m, N) = x (m, K) · Wᵀ, x[i][c] at x[i · xRowStride + c · xColStride], y likewise.
    func product(m: Int, x: UnsafePointer<Float>, xRowStride: Int, xColStride: Int,
                 y: UnsafeMutablePointer<Float>, yRowStride: Int, yColStride: Int, _ context: ExecutionContext)
}

extension StridedProductWeights {
    /// y (M, N) = x (M, K) · Wᵀ.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        product(m: m, x: x, xRowStride: inFeatures, xColStride: 1, y: y, yRowStride: outFeatures, yColStride: 1, context)
    }

    /// y (N, cols) = W · b, b (K, cols): the product on the transposes, yᵀ = bᵀ · Wᵀ.
    public func multiplyLeft(_ b: UnsafePointer<Float>, columns cols: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        product(m: cols, x: b, xRowStride: 1, xColStride: cols, y: y, yRowStride: 1, yColStride: cols, context)
    }
}

/// fp32 weights, row-major, multiplied by OpenBLAS sgemm: the convolutions' path (W · im2col),
/// and the plain form a linear layer packs (`Linear` stores them as `PackedWeights`).
public struct DenseWeights: LinearWeights {
    public let weight: Tensor // (OC, C), as PyTorch's nn.Linear stores it

    public init(_ weight: Tensor) {
        precondition(weight.rank == 2, "a linear weight is (out, in), got \(weight.shape)")
        self.weight = weight
    }

    public var outFeatures: Int { weight.shape[0] }
    public var inFeatures: Int { weight.shape[1] }
    public var byteCount: Int { weight.byteCount }
    public func dense() -> Tensor { weight }

    public func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        weight.storage.withUnsafeBufferPointer { w in
            let (n, k) = (outFeatures, inFeatures)
            context.blasGEMM(rows: rows, columns: n, multiplyAdds: rows * n * k) { r, c in
                let wPart = w.baseAddress! + c.lowerBound * k
                if r.count == 1 {
                    // One row (a decoding step): y = W x as a GEMV reads W once, without packing it.
                    BLAS.sgemv(m: c.count, n: k, a: wPart, lda: k, x: x + r.lowerBound * k, y: y + r.lowerBound * n + c.lowerBound)
                    return
                }
                // Transpose by flag, not by copy: y = x · Wᵀ.
                BLAS.sgemm(transA: false, transB: true, m: r.count, n: c.count, k: k, a: x + r.lowerBound * k, lda: k,
                           b: wPart, ldb: k, c: y + r.lowerBound * n + c.lowerBound, ldc: n)
            }
        }
    }

    public func multiplyLeft(_ b: UnsafePointer<Float>, columns n: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        // y (OC, n): rows are output channels, columns the image's positions.
        weight.storage.withUnsafeBufferPointer { w in
            let k = inFeatures
            context.blasGEMM(rows: outFeatures, columns: n, multiplyAdds: outFeatures * n * k, minRowsPerThread: 32) { r, c in
                BLAS.sgemm(m: r.count, n: c.count, k: k, a: w.baseAddress! + r.lowerBound * k, lda: k,
                           b: b + c.lowerBound, ldb: n, c: y + r.lowerBound * n + c.lowerBound, ldc: n)
            }
        }
    }
}

public struct Linear: Sendable {
    /// (OC, C). Plain fp32 weights assigned here are packed for infbench's kernel (`PackedWeights`).
    public var weights: any LinearWeights { didSet { weights = Linear.executable(weights) } }
    public var bias: Tensor?              // (OC)

    /// What runs: fp32 row-major weights are packed once; every other format runs as it is.
    static func executable(_ w: any LinearWeights) -> any LinearWeights {
        guard let dense = w as? DenseWeights else { return w }
        return PackedWeights(dense.weight)
    }

    public init(weight: Tensor, bias: Tensor?) {
        self.init(weights: DenseWeights(weight), bias: bias)
    }

    public init(weights: any LinearWeights, bias: Tensor?) {
        if let bias { precondition(bias.shape == [weights.outFeatures], "bias \(bias.shape) does not match \(weights.outFeatures) outputs") }
        self.weights = Linear.executable(weights)
        self.bias = bias
    }

    public var inFeatures: Int { weights.inFeatures }
    public var outFeatures: Int { weights.outFeatures }
    public var parameterCount: Int { inFeatures * outFeatures + (bias?.count ?? 0) }
    public var byteCount: Int { weights.byteCount + (bias?.byteCount ?? 0) }

    /// x (..., C) → y (..., OC) = activation(x Wᵀ + b). Packed fp32 weights add the bias and apply the
    /// activation in the GEMM's store (no second pass over y); every other format multiplies, adds
    /// the bias, then runs the activation's own pass (`gelu`): the same function, so each format
    /// gives what its unfused path gives.
    public func callAsFunction(_ x: Tensor, into y: inout Tensor, activation: FusedActivation = .none, in context: ExecutionContext) {
        precondition(x.lastDim == inFeatures, "linear expects \(inFeatures) input features, got \(x.shape)")
        let rows = x.rows
        y.resize(Array(x.shape.dropLast()) + [outFeatures])
        let fused = x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp -> Bool in
                if let packed = weights as? PackedWeights {
                    withOptionalPointer(bias) {
                        packed.multiply(xp.baseAddress!, rows: rows, into: yp.baseAddress!, bias: $0, activation: activation, in: context)
                    }
                    return true
                }
                weights.multiply(xp.baseAddress!, rows: rows, into: yp.baseAddress!, in: context)
                if let bias {
                    bias.storage.withUnsafeBufferPointer { b in
                        addBiasKernel(yp.baseAddress!, b.baseAddress!, rows: rows, cols: outFeatures)
                    }
                }
                return false
            }
        }
        if !fused && activation == .gelu { gelu(&y, in: context) }
    }
}
