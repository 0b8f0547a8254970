// LayerNorm over the last dimension, optionally fused with a residual add
// (post-LN BERT: x = LN(x + sublayer(x)); pre-LN GPT: h = LN(x)).

public struct LayerNorm: Sendable {
    public var weight: Tensor // (C), γ
    public var bias: Tensor   // (C), β
    public var eps: Float

    public init(weight: Tensor, bias: Tensor, eps: Float) {
        precondition(weight.shape == bias.shape && weight.rank == 1, "LayerNorm γ \(weight.shape) and β \(bias.shape) must be equal vectors")
        self.weight = weight
        self.bias = bias
        self.eps = eps
    }

    public var parameterCount: Int { weight.count + bias.count }

    /// y = LN(x + residual); x, residual, y: (..., C).
    public func callAsFunction(_ x: Tensor, residual: Tensor? = nil, into y: inout Tensor, in context: ExecutionContext) {
        check(x, residual)
        y.resize(x.shape)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                run(yp.baseAddress!, xp.baseAddress!, residual: residual, rows: x.rows, context)
            }
        }
    }

    /// x = LN(x + residual), in place.
    public func inPlace(_ x: inout Tensor, residual: Tensor? = nil, in context: ExecutionContext) {
        check(x, residual)
        let rows = x.rows
        x.storage.withUnsafeMutableBufferPointer { xp in
            run(xp.baseAddress!, xp.baseAddress!, residual: residual, rows: rows, context)
        }
    }

    private func check(_ x: Tensor, _ residual: Tensor?) {
        precondition(x.lastDim == weight.count, "LayerNorm over \(weight.count) features got \(x.shape)")
        if let residual { precondition(residual.shape == x.shape, "residual \(residual.shape) differs from \(x.shape)") }
    }

    /// Rows split over the context's threads: each row is independent.
    private func run(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, residual: Tensor?, rows: Int, _ context: ExecutionContext) {
        let cols = weight.count
        weight.storage.withUnsafeBufferPointer { g in
            bias.storage.withUnsafeBufferPointer { b in
                func go(_ res: UnsafePointer<Float>?) {
                    context.forChunks(rows, minChunk: max(1, 16_384 / max(cols, 1))) { _, r in
                        let offset = r.lowerBound * cols
                        layerNormKernel(out + offset, inp + offset, residual: res.map { $0 + offset },
                                        gamma: g.baseAddress!, beta: b.baseAddress!, rows: r.count, cols: cols, eps: eps)
                    }
                }
                if let residual {
                    residual.storage.withUnsafeBufferPointer { go($0.baseAddress!) }
                } else {
                    go(nil)
                }
            }
        }
    }
}
