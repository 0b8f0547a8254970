// Pointer-level elementwise kernels: activations, bias and residual adds.
// GELU runs in C (CKernels) on the widest vector path the CPU has; the simple
// adds vectorise fine in Swift. Layers call these; model code never touches a pointer.
import CKernels

/// GELU, erf form as BERT uses: x · ½(1 + erf(x/√2)), erf within 3e-7. In place allowed (out == inp).
@inlinable
public func geluKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count: Int) {
    ib_gelu(out, inp, count)
}

/// max(0, x). In place allowed.
@inlinable
public func reluKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count: Int) {
    // In place gets its own single-pointer loop: with two pointers that are equal,
    // the vectoriser's overlap check fails and the loop runs scalar.
    if UnsafePointer(out) == inp {
        for i in 0..<count { out[i] = max(out[i], 0) }
    } else {
        for i in 0..<count { out[i] = max(inp[i], 0) }
    }
}

/// min(max(0, x), 6): ReLU6, as MobileNet/EfficientNet-Lite use (a bounded range quantises well). In place allowed.
@inlinable
public func relu6Kernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count: Int) {
    if UnsafePointer(out) == inp {
        for i in 0..<count { out[i] = min(max(out[i], 0), 6) }
    } else {
        for i in 0..<count { out[i] = min(max(inp[i], 0), 6) }
    }
}

/// x (rows, cols) += bias (cols), row by row.
@inlinable
public func addBiasKernel(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * cols
        for c in 0..<cols { row[c] += bias[c] }
    }
}

/// out = a + b, elementwise. out may alias a or b.
@inlinable
public func addKernel(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    // Same reason as in reluKernel: the in-place case (out == a) gets a loop the vectoriser accepts.
    if UnsafePointer(out) == a {
        for i in 0..<count { out[i] += b[i] }
    } else {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }
}

/// a = b + s·c elementwise: the memory-bandwidth probe's triad, in C so that it streams at
/// memory speed in a debug build too.
@inlinable
public func triadKernel(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, scale s: Float, count: Int) {
    ib_triad(a, b, c, s, count)
}
