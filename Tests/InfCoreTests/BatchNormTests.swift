// Batch norm folded into the conv before it, against conv then batch norm applied as written
// (in Double); the identity norm that lets a folded model be saved in (conv, BN) layout;
// ReLU6 and global average pooling, the other small layers of MobileNet-style models.
import InfCore
import XCTest

final class BatchNormTests: XCTestCase {
    func norm(_ c: Int, eps: Float, rng: inout SeededRNG) -> BatchNorm {
        BatchNorm(gamma: Tensor(shape: [c], storage: randn(c, rng: &rng)), beta: Tensor(shape: [c], storage: randn(c, rng: &rng)),
                  mean: Tensor(shape: [c], storage: randn(c, rng: &rng)),
                  variance: Tensor(shape: [c], storage: randu(c, in: 0.01...3, rng: &rng)), eps: eps)
    }

    /// Tolerance: the folded conv is a fp32 conv with scaled weights (each rounded once, relative
    /// 2⁻²⁴) and bias, so γ_{K+2} · Σ|s·w||x| + |b'| bounds it; the reference is exact in Double.
    func testFoldedConvMatchesConvThenBatchNorm() {
        var rng = SeededRNG(seed: 1)
        let (b, ic, h, w, oc, k) = (2, 3, 6, 5, 4, 3)
        for withBias in [false, true] {
            let x = randn(b * ic * h * w, rng: &rng), wt = randn(oc * ic * k * k, std: 0.4, rng: &rng)
            let convBias: [Float]? = withBias ? randn(oc, rng: &rng) : nil
            let bn = norm(oc, eps: 1e-3, rng: &rng)
            let folded = bn.fold(weight: Tensor(shape: [oc, ic, k, k], storage: wt), bias: convBias.map { Tensor(shape: [oc], storage: $0) })
            let conv = Conv2D(weight: folded.weight, bias: folded.bias, stride: 1, padding: 1)
            var y = Tensor(zeros: [0]), col = Tensor(zeros: [0])
            conv(Tensor(shape: [b, ic, h, w], storage: x), into: &y, col: &col, in: .serial)
            let raw = Ref.conv2d(x, b: b, ic: ic, h: h, w: w, weight: wt, oc: oc, kh: k, kw: k, bias: convBias, stride: 1, padding: 1)
            let plane = raw.oh * raw.ow
            var ref = raw.y, bound = [Double](repeating: 0, count: raw.y.count)
            let absConv = Ref.conv2d(x.map(abs), b: b, ic: ic, h: h, w: w, weight: wt.map(abs), oc: oc, kh: k, kw: k,
                                     bias: convBias?.map(abs), stride: 1, padding: 1).y
            for i in ref.indices {
                let o = (i / plane) % oc
                let s = Double(bn.gamma.storage[o]) / (Double(bn.variance.storage[o]) + Double(bn.eps)).squareRoot()
                ref[i] = (ref[i] - Double(bn.mean.storage[o])) * s + Double(bn.beta.storage[o])
                bound[i] = abs(s) * (absConv[i] + abs(Double(bn.mean.storage[o]))) + abs(Double(bn.beta.storage[o]))
            }
            assertClose(y.storage, ref, absTol: gamma(ic * k * k + 4) * bound.max()!, relTol: 0, "folded conv, conv bias \(withBias)")
        }
    }

    func testIdentityNormFoldsToNothing() {
        var rng = SeededRNG(seed: 2)
        let w = Tensor.randomNormal([5, 2, 3, 3], std: 1, rng: &rng), bias = Tensor.randomNormal([5], std: 1, rng: &rng)
        for eps: Float in [1e-3, 1e-5] {
            let f = BatchNorm.identity(bias: bias, eps: eps).fold(weight: w, bias: nil)
            // σ² = 1 − ε rounds, so the scale is 1 within ~1e-8: far below half an ulp of a weight.
            XCTAssertEqual(f.weight, w, "eps \(eps)")
            XCTAssertEqual(f.bias, bias, "eps \(eps)")
        }
    }

    func testReLU6() {
        var t = Tensor(shape: [7], storage: [-1e9, -1, 0, 0.5, 6, 6.5, .infinity])
        relu6(&t, in: .serial)
        XCTAssertEqual(t.storage, [0, 0, 0, 0.5, 6, 6, 6])
    }

    /// Tolerance: a fp32 sum of H·W values and a rounded 1/n: γ_{n+2} · max|x|.
    func testGlobalAveragePool() {
        var rng = SeededRNG(seed: 3)
        let (b, c, h, w) = (2, 3, 7, 5)
        let x = randn(b * c * h * w, std: 2, rng: &rng)
        var y = Tensor(zeros: [0])
        globalAveragePool(Tensor(shape: [b, c, h, w], storage: x), into: &y, in: .serial)
        XCTAssertEqual(y.shape, [b, c])
        let ref = (0..<(b * c)).map { p in x[(p * h * w)..<((p + 1) * h * w)].reduce(0.0) { $0 + Double($1) } / Double(h * w) }
        assertClose(y.storage, ref, absTol: gamma(h * w + 2) * Double(x.map(abs).max()!), relTol: 0, "global average pool")
    }
}
