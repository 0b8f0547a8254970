// The references themselves against values worked out by hand, and the meta-test showing that
// `assertClose` has teeth: a deliberately perturbed output is reported as out of tolerance.
import Foundation
import InfCore
import XCTest

final class ReferenceTests: XCTestCase {
    // Hand-worked values are exact in Double up to the last bit or two: 1e-12 is far tighter
    // than anything a wrong reference could pass.
    let exact = 1e-12

    func testMatmulByHand() {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8, 9, 10, 11, 12]
        let want: [Double] = [58, 64, 139, 154]
        assertClose(Ref.matmul(a, lda: 3, transA: false, b, ldb: 2, transB: false, m: 2, n: 2, k: 3).map(Float.init),
                    want, absTol: 0, relTol: 0, "ref matmul NN")
        // The same product with both operands stored transposed.
        let at: [Float] = [1, 4, 2, 5, 3, 6], bt: [Float] = [7, 9, 11, 8, 10, 12]
        assertClose(Ref.matmul(at, lda: 2, transA: true, bt, ldb: 3, transB: true, m: 2, n: 2, k: 3).map(Float.init),
                    want, absTol: 0, relTol: 0, "ref matmul TT")
    }

    func testActivationsByHand() {
        // Φ(1) = 0.841344746068543, Φ(−1) = 0.158655253931457.
        let g = Ref.gelu([0, 1, -1])
        XCTAssertEqual(g[0], 0)
        XCTAssertEqual(g[1], 0.8413447460685429, accuracy: exact)
        XCTAssertEqual(g[2], -0.15865525393145707, accuracy: exact)
        XCTAssertEqual(Ref.relu([-2, 0, 3]), [0, 0, 3])
    }

    func testSoftmaxByHand() {
        // exp(0) : exp(ln 3) = 1 : 3.
        let p = Ref.softmax([0, log(3.0), -.infinity, -.infinity], rows: 2, cols: 2)
        XCTAssertEqual(p[0], 0.25, accuracy: exact)
        XCTAssertEqual(p[1], 0.75, accuracy: exact)
        XCTAssertEqual(Array(p[2...]), [0, 0], "a fully masked row is zeros")
    }

    func testLayerNormByHand() {
        // [1 2 3 4]: μ = 2.5, σ² = 1.25, so x̂ = (x − 2.5)/√1.25; γ = 2, β = 1.
        let y = Ref.layerNorm([1, 2, 3, 4], residual: nil, gamma: [2, 2, 2, 2], beta: [1, 1, 1, 1],
                              rows: 1, cols: 4, eps: 0)
        let s = 1.25.squareRoot()
        for (i, x) in [1.0, 2, 3, 4].enumerated() {
            XCTAssertEqual(y[i], 2 * (x - 2.5) / s + 1, accuracy: exact)
        }
    }

    func testConvByHand() {
        // A 3×3 image of ones, a 2×2 kernel of ones, padding 1: each output counts the
        // image pixels under the window → [1 2 2 1; 2 4 4 2; 2 4 4 2; 1 2 2 1] (+ bias 0.5).
        let r = Ref.conv2d([Float](repeating: 1, count: 9), b: 1, ic: 1, h: 3, w: 3,
                           weight: [1, 1, 1, 1], oc: 1, kh: 2, kw: 2, bias: [0.5], stride: 1, padding: 1)
        XCTAssertEqual(r.oh, 4)
        XCTAssertEqual(r.ow, 4)
        XCTAssertEqual(r.y, [1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1].map { $0 + 0.5 })
    }

    func testPoolingByHand() {
        // 0..15 as a 4×4 plane, 2×2 windows, stride 2.
        let x = (0..<16).map(Float.init)
        XCTAssertEqual(Ref.pool2d(x, planes: 1, h: 4, w: 4, kernel: 2, stride: 2, max: true).y, [5, 7, 13, 15])
        XCTAssertEqual(Ref.pool2d(x, planes: 1, h: 4, w: 4, kernel: 2, stride: 2, max: false).y, [2.5, 4.5, 10.5, 12.5])
    }

    func testAttentionWithOneTokenIsTheValueProjection() {
        // With T = 1 every softmax row is [1], so the context is v and y = Wo·v + bo.
        var rng = SeededRNG(seed: 7)
        let c = 4
        let x = randn(c, rng: &rng), wqkv = randn(3 * c * c, rng: &rng), wo = randn(c * c, rng: &rng)
        let bqkv = randn(3 * c, rng: &rng), bo = randn(c, rng: &rng)
        let y = Ref.attention(x, b: 1, t: 1, c: c, heads: 2, wqkv: wqkv, bqkv: bqkv, wo: wo, bo: bo,
                              keyMask: nil, causal: true)
        let qkv = Ref.linear(x, rows: 1, weight: wqkv, bias: bqkv, inFeatures: c, outFeatures: 3 * c)
        for o in 0..<c {
            var want = Double(bo[o])
            for i in 0..<c { want += Double(wo[o * c + i]) * qkv[2 * c + i] }
            XCTAssertEqual(y[o], want, accuracy: 1e-12)
        }
    }

    /// The helper's teeth: a correct kernel output passes, the same output with one element
    /// moved by twice the tolerance does not, and so do NaN and a length mismatch.
    func testAssertCloseRejectsPerturbedOutput() {
        var rng = SeededRNG(seed: 99)
        let (rows, c, oc) = (6, 32, 10)
        let x = randn(rows * c, rng: &rng), w = randn(oc * c, rng: &rng), b = randn(oc, rng: &rng)
        let linear = Linear(weight: Tensor(shape: [oc, c], storage: w), bias: Tensor(shape: [oc], storage: b))
        var y = Tensor(zeros: [0])
        linear(Tensor(shape: [rows, c], storage: x), into: &y, in: .serial)
        let want = Ref.linear(x, rows: rows, weight: w, bias: b, inFeatures: c, outFeatures: oc)
        // γ_{C+1} · max Σ|x||w| + |b|: the fp32 bound for a dot product of C terms plus a bias.
        let bound = Ref.linear(x.map(abs), rows: rows, weight: w.map(abs), bias: b.map(abs),
                               inFeatures: c, outFeatures: oc).max()!
        let tol = gamma(c + 1) * bound
        assertClose(y.storage, want, absTol: tol, relTol: 0, "linear (unperturbed)")
        XCTAssertTrue(closeness(y.storage, want, absTol: tol, relTol: 0).ok)

        var bad = y.storage
        bad[17] += Float(2 * tol)
        let r = closeness(bad, want, absTol: tol, relTol: 0)
        XCTAssertFalse(r.ok, "a perturbation of 2×tolerance must be caught")
        XCTAssertEqual(r.failures, 1)
        XCTAssertEqual(r.firstFailure, 17)
        XCTAssertEqual(r.maxIndex, 17)
        print("NOT OK (expected, perturbed on purpose): max |Δ| = \(r.maxAbsDiff) at [\(r.maxIndex)], tolerance \(tol)")

        bad = y.storage
        bad[3] = .nan
        XCTAssertFalse(closeness(bad, want, absTol: tol, relTol: 0).ok, "NaN must never pass")
        XCTAssertFalse(closeness(Array(y.storage.dropLast()), want, absTol: 1, relTol: 1).ok,
                       "a length mismatch must never pass")
        XCTAssertTrue(closeness([.infinity, .nan], [.infinity, .nan], absTol: 0, relTol: 0).ok,
                      "matching infinities and NaNs agree")
        XCTAssertFalse(closeness([.infinity], [-.infinity], absTol: 1, relTol: 1).ok)
    }
}
