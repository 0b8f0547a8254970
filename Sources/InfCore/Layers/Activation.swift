// Activations and softmax on whole tensors, in place.

/// GELU (erf form), in place; split over `Parallel.threads`.
public func gelu(_ x: inout Tensor) {
    let n = x.count
    x.storage.withUnsafeMutableBufferPointer { p in
        let base = p.baseAddress!
        Parallel.forChunks(n, minChunk: 16_384) { _, r in geluKernel(base + r.lowerBound, base + r.lowerBound, count: r.count) }
    }
}

/// ReLU, in place.
public func relu(_ x: inout Tensor) {
    let n = x.count
    x.storage.withUnsafeMutableBufferPointer { p in reluKernel(p.baseAddress!, p.baseAddress!, count: n) }
}

/// ReLU6, min(max(0, x), 6), in place.
public func relu6(_ x: inout Tensor) {
    let n = x.count
    x.storage.withUnsafeMutableBufferPointer { p in relu6Kernel(p.baseAddress!, p.baseAddress!, count: n) }
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
