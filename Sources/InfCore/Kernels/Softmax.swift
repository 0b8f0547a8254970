// Numerically stable softmax over rows: subtract the row maximum before exp,
// so large logits cannot overflow. A row that is entirely -inf (every key
// masked) becomes all zeros instead of NaN.
import Foundation

/// x (rows, cols): each row replaced by its softmax, in place.
@inlinable
public func softmaxRowsKernel(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * cols
        var m = -Float.infinity
        for c in 0..<cols { m = max(m, row[c]) }
        if m == -Float.infinity {
            for c in 0..<cols { row[c] = 0 }
            continue
        }
        var sum: Float = 0
        for c in 0..<cols {
            let e = exp(row[c] - m)
            row[c] = e
            sum += e
        }
        let inv = 1 / sum
        for c in 0..<cols { row[c] *= inv }
    }
}
