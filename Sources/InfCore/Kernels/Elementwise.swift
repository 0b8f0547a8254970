// Pointer-level elementwise kernels: activations, bias and residual adds.
// Layers call these; model code never touches a pointer.
import Foundation

/// GELU, erf form as BERT uses: x · ½(1 + erf(x/√2)). In place allowed (out == inp).
@inlinable
public func geluKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count: Int) {
    let invSqrt2: Float = 0.70710678118654752
    for i in 0..<count {
        let x = inp[i]
        out[i] = 0.5 * x * (1 + erf(x * invSqrt2))
    }
}

/// max(0, x). In place allowed.
@inlinable
public func reluKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { out[i] = max(inp[i], 0) }
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
    for i in 0..<count { out[i] = a[i] + b[i] }
}
