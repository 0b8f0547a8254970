// Activations and softmax on whole tensors, in place.

/// GELU (erf form), in place; split over the context's threads.
public func gelu(_ x: inout Tensor, in context: ExecutionContext) {
    let n = x.count
    x.storage.withUnsafeMutableBufferPointer { p in
        let base = p.baseAddress!
        context.forChunks(n, minChunk: 16_384) { _, r in geluKernel(base + r.lowerBound, base + r.lowerBound, count: r.count) }
    }
}

/// Elements a thread must get before ReLU / ReLU6 split over threads: each is one max (and
/// min) over memory, a quarter of GELU's 16 384-element grain would not pay for a wake-up.
public let minClampElementsPerThread = 1 << 16

/// ReLU, in place; split over the context's threads past `minClampElementsPerThread` per thread.
public func relu(_ x: inout Tensor, in context: ExecutionContext) {
    clamp(&x, in: context, reluKernel)
}

/// ReLU6, min(max(0, x), 6), in place; split as `relu`.
public func relu6(_ x: inout Tensor, in context: ExecutionContext) {
    clamp(&x, in: context, relu6Kernel)
}

/// `kernel(out, in, count)` over x in place, in chunks of at least `minClampElementsPerThread`.
private func clamp(_ x: inout Tensor, in context: ExecutionContext,
                   _ kernel: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, _ count: Int) -> Void) {
    let n = x.count
    x.storage.withUnsafeMutableBufferPointer { p in
        let base = p.baseAddress!
        context.forChunks(n, minChunk: minClampElementsPerThread) { _, r in
            kernel(base + r.lowerBound, base + r.lowerBound, r.count)
        }
    }
}

/// Softmax over the last dimension, in place (numerically stable).
public func softmax(_ x: inout Tensor) {
    let rows = x.rows, cols = x.lastDim
    x.storage.withUnsafeMutableBufferPointer { p in softmaxRowsKernel(p.baseAddress!, rows: rows, cols: cols) }
}

/// x += y, elementwise (same shape).
public func addInPlace(_ x: inout Tensor, _ y: Tensor) {
    precondition(x.shape == y.shape, "cannot add \(y.shape) to \(x.shape)")
    let n = x.count
    x.storage.withUnsafeMutableBufferPointer { xp in
        y.storage.withUnsafeBufferPointer { yp in addKernel(xp.baseAddress!, xp.baseAddress!, yp.baseAddress!, count: n) }
    }
}
