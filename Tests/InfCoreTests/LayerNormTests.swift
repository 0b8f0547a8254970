// LayerNorm against the Double reference: with and without the fused residual, ε respected
// (tiny-variance and constant rows), in-place equal to out-of-place.
import Foundation
import InfCore
import XCTest

final class LayerNormTests: XCTestCase {
    let (b, t, c) = (2, 3, 64)

    /// Tolerance: the kernel sums C terms in Float for μ and for σ², so each is off by
    /// ≲ γ_C relative (C·2⁻²⁴ ≈ 4e-6 for C = 64). That moves x̂ = (z − μ)/σ by ≲ γ_C·(|x̂| + |μ|/σ)
    /// with |x̂| ≤ √C = 8 (Cauchy–Schwarz) and |μ|/σ ≲ 1 here; times |γ| ≤ 2 → absTol = 18·γ_C ≈ 7e-5.
    /// The final γ·x̂ + β adds a few roundings relative: relTol 4·2⁻²⁴.
    var absTol: Double { 18 * gamma(c) }
    let relTol = 4 * floatU

    private func layer(eps: Float, seed: UInt64) -> LayerNorm {
        var rng = SeededRNG(seed: seed)
        let gamma = randn(c, std: 0.3, rng: &rng).map { 1 + $0 }
        let beta = randn(c, std: 0.3, rng: &rng)
        return LayerNorm(weight: Tensor(shape: [c], storage: gamma), bias: Tensor(shape: [c], storage: beta), eps: eps)
    }

    private func reference(_ ln: LayerNorm, _ x: Tensor, residual: Tensor?) -> [Double] {
        Ref.layerNorm(x.storage, residual: residual?.storage, gamma: ln.weight.storage, beta: ln.bias.storage,
                      rows: x.rows, cols: c, eps: Double(ln.eps))
    }

    func testWithoutResidual() {
        var rng = SeededRNG(seed: 1)
        let ln = layer(eps: 1e-5, seed: 2)
        let x = Tensor(shape: [b, t, c], storage: randn(b * t * c, std: 2, rng: &rng).map { $0 + 0.5 })
        var y = Tensor(zeros: [1])
        ln(x, into: &y, in: .serial)
        XCTAssertEqual(y.shape, [b, t, c])
        assertClose(y.storage, reference(ln, x, residual: nil), absTol: absTol, relTol: relTol, "layernorm")
    }

    func testWithResidual() {
        var rng = SeededRNG(seed: 3)
        let ln = layer(eps: 1e-12, seed: 4)
        let x = Tensor.randomNormal([b, t, c], std: 1, rng: &rng)
        let res = Tensor.randomNormal([b, t, c], std: 1, rng: &rng)
        var y = Tensor(zeros: [0])
        ln(x, residual: res, into: &y, in: .serial)
        // z = x + residual is one more rounding per element, inside the tolerance above.
        assertClose(y.storage, reference(ln, x, residual: res), absTol: absTol, relTol: relTol, "layernorm + residual")
        // And the residual really enters: LN(x) alone is far off.
        XCTAssertFalse(closeness(y.storage, reference(ln, x, residual: nil), absTol: absTol, relTol: relTol).ok)
    }

    func testEpsIsRespected() {
        // Rows with variance ≈ 1e-6: ε = 1e-5 dominates it and shrinks x̂ by √(1 + 10) ≈ 3.3;
        // ε = 1e-12 leaves x̂ of unit variance. Each must match the reference with its own ε,
        // and the two must differ.
        var rng = SeededRNG(seed: 5)
        let x = Tensor(shape: [4, c], storage: randn(4 * c, std: 1e-3, rng: &rng))
        var big = Tensor(zeros: [0]), small = Tensor(zeros: [0])
        let lnBig = layer(eps: 1e-5, seed: 6), lnSmall = layer(eps: 1e-12, seed: 6)
        lnBig(x, into: &big, in: .serial)
        lnSmall(x, into: &small, in: .serial)
        // The error analysis above is scale-free (it is relative to σ), so the same tolerance holds.
        assertClose(big.storage, reference(lnBig, x, residual: nil), absTol: absTol, relTol: relTol, "layernorm ε=1e-5")
        assertClose(small.storage, reference(lnSmall, x, residual: nil), absTol: absTol, relTol: relTol, "layernorm ε=1e-12")
        XCTAssertFalse(closeness(big.storage, reference(lnSmall, x, residual: nil), absTol: absTol, relTol: relTol).ok,
                       "ε = 1e-5 must visibly change tiny-variance rows")
    }

    func testConstantRowGivesBeta() {
        // σ² = 0: only ε keeps 1/√(σ² + ε) finite, and x̂ = 0 so the output is β exactly.
        let ln = layer(eps: 1e-5, seed: 7)
        var y = Tensor(zeros: [0])
        ln(Tensor(shape: [2, c], storage: [Float](repeating: 0.25, count: 2 * c)), into: &y, in: .serial)
        XCTAssertEqual(y.storage, ln.bias.storage + ln.bias.storage)
    }

    func testInPlaceEqualsOutOfPlace() {
        var rng = SeededRNG(seed: 8)
        let ln = layer(eps: 1e-5, seed: 9)
        let x = Tensor.randomNormal([b, t, c], std: 1.5, rng: &rng)
        let res = Tensor.randomNormal([b, t, c], std: 1, rng: &rng)
        for residual in [nil, res] {
            var out = Tensor(zeros: [0])
            ln(x, residual: residual, into: &out, in: .serial)
            var inPlace = x
            ln.inPlace(&inPlace, residual: residual, in: .serial)
            // Same kernel, same operation order: bitwise equal.
            XCTAssertEqual(inPlace, out, "in-place LayerNorm (residual: \(residual != nil))")
        }
    }
}
