// Numerically stable softmax over rows, in C (CKernels): subtract the row
// maximum before exp so large logits cannot overflow; a row that is entirely
// −∞ (every key masked) becomes all zeros instead of NaN.
import CKernels

/// x (rows, cols): each row replaced by its softmax, in place.
@inlinable
public func softmaxRowsKernel(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    ib_softmax_rows(x, rows, cols)
}
