// GELU (erf form) and ReLU against Double references, at 0, negatives and large |x|; the bias
// add and residual add kernels; in-place and out-of-place calls agree.
import Foundation
import InfCore
import XCTest

final class ElementwiseTests: XCTestCase {
    /// Probe points: zero, tiny, the bend around ±1, the tails where erf(x/√2) rounds to ±1
    /// in Float (|x| ≳ 6), and ±100, where a naive exp-based form would overflow.
    let probes: [Float] = [-100, -20, -10, -7, -5, -4, -3, -2, -1, -0.5, -1e-3, -1e-20, 0,
                           1e-20, 1e-3, 0.5, 1, 2, 3, 4, 5, 7, 10, 20, 100]

    func testGeluMatchesErfReference() {
        var rng = SeededRNG(seed: 1)
        let x = probes + randn(1000, std: 3, rng: &rng)
        var t = Tensor(shape: [x.count], storage: x)
        gelu(&t, in: .serial)
        // Tolerance: for x ≥ 0 the Float form is a few roundings of a ~1-ulp erf, so
        // relTol = 8·2⁻²⁴. For x < 0 it computes 1 + erf(x/√2), which cancels: erf's error of a
        // couple of ulp of 1 (≈ 2·2⁻²⁴) survives as an absolute error ½|x|·2·2⁻²⁴, and only
        // while erf(x/√2) ≠ −1 in Float (|x| ≲ 6); that is ≤ 6·2⁻²⁴ ≈ 4e-7, so absTol = 1e-6.
        assertClose(t.storage, Ref.gelu(x), absTol: 1e-6, relTol: 8 * floatU, "gelu")
    }

    func testGeluExactPoints() {
        var t = Tensor(shape: [5], storage: [0, 100, -100, 20, -20])
        gelu(&t, in: .serial)
        XCTAssertEqual(t.storage[0], 0, "GELU(0) = 0 exactly")
        XCTAssertEqual(t.storage[1], 100, "GELU(x) = x once Φ(x) rounds to 1")
        XCTAssertEqual(t.storage[3], 20)
        XCTAssertEqual(t.storage[2], 0, "GELU(x) → 0 from below for x ≪ 0")
        XCTAssertEqual(t.storage[4], 0)
        XCTAssertFalse(t.storage.contains { $0.isNaN })
        // GELU is negative on the whole negative axis, with its minimum ≈ −0.17 near x ≈ −0.75.
        var neg = Tensor(shape: [7], storage: [-0.01, -0.5, -0.75, -1, -2, -3, -4])
        gelu(&neg, in: .serial)
        for v in neg.storage {
            XCTAssertLessThan(v, 0)
            XCTAssertGreaterThan(v, -0.17)
        }
    }

    func testGeluKernelOutOfPlaceEqualsInPlace() {
        var rng = SeededRNG(seed: 2)
        let x = randn(257, std: 2, rng: &rng)
        var out = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in geluKernel(op.baseAddress!, xp.baseAddress!, count: x.count) }
        }
        var t = Tensor(shape: [x.count], storage: x)
        gelu(&t, in: .serial)
        XCTAssertEqual(out, t.storage)
    }

    func testRelu() {
        var rng = SeededRNG(seed: 3)
        let x = probes + randn(500, rng: &rng)
        var t = Tensor(shape: [x.count], storage: x)
        relu(&t, in: .serial)
        // max(x, 0) involves no rounding: exact.
        assertClose(t.storage, Ref.relu(x), absTol: 0, relTol: 0, "relu")
        var out = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in reluKernel(op.baseAddress!, xp.baseAddress!, count: x.count) }
        }
        XCTAssertEqual(out, t.storage, "out-of-place ReLU equals in-place")
    }

    func testReluAndRelu6SplitOverTwoThreads() {
        var rng = SeededRNG(seed: 5)
        let n = 2 * minClampElementsPerThread + 7   // two chunks at 2 threads, one a bit longer
        let x = randn(n, std: 4, rng: &rng)
        let context = ExecutionContext(threads: 2)
        var t = Tensor(shape: [n], storage: x), t6 = t
        relu(&t, in: context)
        relu6(&t6, in: context)
        assertClose(t.storage, Ref.relu(x), absTol: 0, relTol: 0, "relu at 2 threads")
        XCTAssertEqual(t6.storage, x.map { min(max($0, 0), 6) }, "relu6 at 2 threads")
    }

    func testAddBiasKernel() {
        var rng = SeededRNG(seed: 4)
        let (rows, cols) = (7, 13)
        var x = randn(rows * cols, rng: &rng)
        let bias = randn(cols, rng: &rng)
        var want = [Double]()
        for r in 0..<rows { for c in 0..<cols { want.append(Double(x[r * cols + c]) + Double(bias[c])) } }
        x.withUnsafeMutableBufferPointer { xp in
            bias.withUnsafeBufferPointer { bp in addBiasKernel(xp.baseAddress!, bp.baseAddress!, rows: rows, cols: cols) }
        }
        // One correctly rounded Float add per element: |error| ≤ 2⁻²⁴·|exact sum|.
        assertClose(x, want, absTol: 0, relTol: floatU, "bias add")
    }

    func testAddInPlace() {
        var rng = SeededRNG(seed: 5)
        let a = Tensor.randomNormal([2, 3, 5], std: 1, rng: &rng)
        let b = Tensor.randomNormal([2, 3, 5], std: 10, rng: &rng)
        var sum = a
        addInPlace(&sum, b)
        XCTAssertEqual(sum.shape, [2, 3, 5])
        // One correctly rounded add per element, as above.
        assertClose(sum.storage, zip(a.storage, b.storage).map { Double($0) + Double($1) },
                    absTol: 0, relTol: floatU, "addInPlace")
    }
}
