// A single activation row goes through sgemv instead of sgemm: it must give the
// naive reference result, with and without bias.
import InfCore
import XCTest

final class LinearSingleRowTests: XCTestCase {
    func testOneRowMatchesTheReference() {
        var rng = SeededRNG(seed: 31)
        let (n, k) = (37, 53)
        let w = Tensor.randomNormal([n, k], std: 0.5, rng: &rng)
        let b = Tensor.randomNormal([n], std: 0.5, rng: &rng)
        let x = Tensor.randomNormal([1, k], std: 1, rng: &rng)
        for bias in [nil, b] {
            var y = Tensor(zeros: [0])
            Linear(weight: w, bias: bias)(x, into: &y, in: .serial)
            XCTAssertEqual(y.shape, [1, n])
            for o in 0..<n {
                var exact = Double(bias?.storage[o] ?? 0)
                var magnitude = abs(exact)
                for c in 0..<k {
                    exact += Double(x.storage[c]) * Double(w.storage[o * k + c])
                    magnitude += abs(Double(x.storage[c]) * Double(w.storage[o * k + c]))
                }
                // fp32 accumulation of k products: error ≤ k·2⁻²⁴·Σ|terms|.
                XCTAssertEqual(Double(y.storage[o]), exact, accuracy: Double(k) * 0x1p-24 * magnitude, "output \(o)")
            }
        }
    }
}
