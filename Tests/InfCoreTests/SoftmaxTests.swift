// Row softmax against the Double reference: random rows, large logits (no overflow), masked
// entries, a fully −∞ row (zeros, not NaN), and the tensor-level call over the last dimension.
import Foundation
import InfCore
import XCTest

final class SoftmaxTests: XCTestCase {
    /// Tolerance for a row of n: exp is good to ~1 ulp, the Float sum of n terms adds ≤ γ_n
    /// relative, the reciprocal and the product one rounding each, so relTol = (n + 4)·2⁻²⁴.
    /// absTol 1e-12 only covers probabilities so small they lose bits to subnormals.
    func relTol(_ n: Int) -> Double { Double(n + 4) * floatU }

    private func run(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        var t = Tensor(shape: [rows, cols], storage: x)
        softmax(&t)
        return t.storage
    }

    func testRandomRows() {
        var rng = SeededRNG(seed: 1)
        let (rows, cols) = (9, 37)
        let x = randn(rows * cols, std: 4, rng: &rng)
        let p = run(x, rows: rows, cols: cols)
        assertClose(p, Ref.softmax(x.map(Double.init), rows: rows, cols: cols),
                    absTol: 1e-12, relTol: relTol(cols), "softmax random")
        for r in 0..<rows {
            let s = p[(r * cols)..<((r + 1) * cols)].reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(s, 1, accuracy: relTol(cols), "row \(r) sums to 1")
        }
    }

    func testLargeLogitsDoNotOverflow() {
        // exp(1000) overflows even in Double; softmax(1000, 1001) = (1/(1+e), e/(1+e)).
        let e = M_E
        let x: [Float] = [1000, 1001, -1000, -1001, 88, 89, 3e38, 0]
        let p = run(x, rows: 4, cols: 2)
        let want = [1 / (1 + e), e / (1 + e), e / (1 + e), 1 / (1 + e), 1 / (1 + e), e / (1 + e), 1, 0]
        XCTAssertFalse(p.contains { !$0.isFinite }, "no inf or NaN from large logits: \(p)")
        assertClose(p, want, absTol: 1e-12, relTol: relTol(2), "softmax large logits")
    }

    func testMaskedEntriesAndFullyMaskedRow() {
        let inf = Float.infinity
        let x: [Float] = [0.5, -inf, 2, -inf, -1,      // partly masked
                          -inf, -inf, -inf, -inf, -inf, // every key masked
                          -inf, -inf, 3, -inf, -inf]    // a single survivor
        let p = run(x, rows: 3, cols: 5)
        XCTAssertEqual(Array(p[5..<10]), [0, 0, 0, 0, 0], "a fully masked row becomes zeros, not NaN")
        XCTAssertEqual(Array(p[10..<15]), [0, 0, 1, 0, 0])
        XCTAssertEqual(p[1], 0)
        XCTAssertEqual(p[3], 0)
        assertClose(p, Ref.softmax(x.map(Double.init), rows: 3, cols: 5), absTol: 1e-12, relTol: relTol(5), "softmax masked")
    }

    /// A NaN score must come out NaN, never as a finite distribution: an all-NaN row (a NaN
    /// query weight makes every score of a head NaN) used to become zeros like a masked row.
    func testNaNScoresStayNaN() {
        let nan = Float.nan, inf = Float.infinity
        let x: [Float] = [nan, nan, nan,      // every score NaN
                          -inf, nan, -inf,    // NaN among masked keys
                          1, nan, 2,          // NaN among finite scores
                          -inf, -inf, -inf]   // still a masked row: zeros
        let p = run(x, rows: 4, cols: 3)
        XCTAssertTrue(p[0..<9].allSatisfy(\.isNaN), "\(p)")
        XCTAssertEqual(Array(p[9..<12]), [0, 0, 0])
        // Rows over 16 scores, whose maximum is taken in 16 lanes: the same four cases, the NaN
        // in a full lane block and in the tail.
        let cols = 37
        func row(_ f: (Int) -> Float) -> [Float] { (0..<cols).map(f) }
        let wide = row { _ in nan } + row { $0 == 20 ? nan : -inf } + row { $0 == 35 ? nan : Float($0 % 7) }
            + row { _ in -inf } + row { $0 == 3 ? nan : Float($0 % 5) }
        let q = run(wide, rows: 5, cols: cols)
        XCTAssertTrue(q[0..<(3 * cols)].allSatisfy(\.isNaN), "the first three rows: \(q[0..<(3 * cols)])")
        XCTAssertEqual(Array(q[(3 * cols)..<(4 * cols)]), [Float](repeating: 0, count: cols), "a masked row over 16 scores")
        XCTAssertTrue(q[(4 * cols)...].allSatisfy(\.isNaN), "NaN in the first lane block")
    }

    func testTensorSoftmaxRunsOverLastDimension() {
        var rng = SeededRNG(seed: 2)
        let x = randn(2 * 3 * 7, std: 2, rng: &rng)
        var t = Tensor(shape: [2, 3, 7], storage: x)
        softmax(&t)
        XCTAssertEqual(t.shape, [2, 3, 7])
        assertClose(t.storage, Ref.softmax(x.map(Double.init), rows: 6, cols: 7),
                    absTol: 1e-12, relTol: relTol(7), "softmax (2,3,7)")
        var one = Tensor(shape: [3, 1], storage: [-5, 0, 1000])
        softmax(&one)
        XCTAssertEqual(one.storage, [1, 1, 1], "a single column is all ones")
    }
}
