// FP16Weights against Double references on every instruction-set path of its C kernels
// (streaming kernel up to maxStreamingRows — 8, 16 or 128 by path — panel + sgemm above,
// multiplyLeft for convolutions), plus exact storage round trips and thread independence.
import Foundation
import InfCore
import XCTest

final class FP16WeightsTests: XCTestCase {
    var paths: [VectorISA] { VectorISA.allCases.filter { VectorISA.select($0) } }

    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Gaussian weights with the awkward values mixed in: fp16 subnormals (|w| < 2⁻¹⁴),
    /// the largest finite fp16, ±0 and values that round across a power of two.
    func weights(_ n: Int, _ k: Int, rng: inout SeededRNG) -> [Float] {
        var w = Tensor.randomNormal([n, k], std: 0.2, rng: &rng).storage
        let specials: [Float] = [3e-6, -4.5e-7, 6e-8, 65504, -0.0, 0, 0.99999, -1.0009766, 2049.5]
        for (i, v) in specials.enumerated() where i * 7 < w.count { w[i * 7] = v }
        return w
    }

    func fp16Rounded(_ w: [Float]) -> [Float] { w.map { Float(Float16($0)) } }

    /// Checks y (rows, cols) against y(i, j) = Σ_t x·w over `term(i, j, t)` = (x, w, w̃) in
    /// Double, twice: with the fp16-rounded weights w̃ (only fp32 accumulation error:
    /// Higham's γ_K·Σ|x·w̃|, which holds for any summation order, blocked or with FMA;
    /// the fp16 → fp32 conversion is exact) and with the unrounded weights w (plus the
    /// storage error: each weight is off by ≤ 2⁻¹¹|w| — half an fp16 ulp — or ≤ 2⁻²⁵ in
    /// fp16's subnormal range, so the sum is off by ≤ Σ|x|·(2⁻¹¹|w| + 2⁻²⁵)).
    func check(_ y: [Float], rows: Int, cols: Int, k: Int,
               term: (_ i: Int, _ j: Int, _ t: Int) -> (x: Float, w: Float, rounded: Float), _ label: String,
               file: StaticString = #filePath, line: UInt = #line) {
        var worstRounded = 0.0, worstUnrounded = 0.0
        for i in 0..<rows {
            for j in 0..<cols {
                var exactRounded = 0.0, exactUnrounded = 0.0, absSum = 0.0, storageBound = 0.0
                for t in 0..<k {
                    let (x, w, wr) = term(i, j, t)
                    let (xd, wd, wrd) = (Double(x), Double(w), Double(wr))
                    exactRounded += xd * wrd
                    exactUnrounded += xd * wd
                    absSum += abs(xd * wrd)
                    storageBound += abs(xd) * (0x1p-11 * abs(wd) + 0x1p-25)
                }
                let got = Double(y[i * cols + j])
                let accBound = gamma(k) * absSum + 1e-30
                worstRounded = max(worstRounded, abs(got - exactRounded) / accBound)
                worstUnrounded = max(worstUnrounded, abs(got - exactUnrounded) / (accBound + storageBound))
            }
        }
        // Ratios of the error to its bound: ≤ 1 means within the bound.
        XCTAssertLessThanOrEqual(worstRounded, 1, "\(label): vs fp16-rounded weights", file: file, line: line)
        XCTAssertLessThanOrEqual(worstUnrounded, 1, "\(label): vs unrounded weights", file: file, line: line)
    }

    func testStorageRoundTripIsExactAndHalvesBytes() {
        var rng = SeededRNG(seed: 31)
        let (n, k) = (37, 53)
        let w = weights(n, k, rng: &rng)
        for isa in paths {
            VectorISA.select(isa)
            let f = FP16Weights(Tensor(shape: [n, k], storage: w))
            XCTAssertEqual(f.dense(), Tensor(shape: [n, k], storage: fp16Rounded(w)), "\(isa)")
            XCTAssertEqual(f.byteCount, 2 * n * k)
            XCTAssertEqual(f.bits, w.map { Float16($0).bitPattern })
        }
    }

    func testEveryBitPatternConvertsExactlyOnEveryPath() {
        // All 65536 fp16 values (normals, subnormals, ±0, ±inf, NaNs) through each path's
        // bulk conversion (the one the panels use), against Swift's Float16 → Float.
        let all = (0...UInt16.max).map { $0 }
        let f = FP16Weights(bits: all, outFeatures: 1, inFeatures: all.count)
        for isa in paths {
            VectorISA.select(isa)
            XCTAssertEqual(FP16Weights.kernelPath, isa, "this CPU has F16C, so the fp16 kernels follow the selected path")
            let got = f.dense().storage
            var mismatches = 0
            for (b, v) in zip(all, got) {
                let want = floatFromFP16Bits(b)
                if want.isNaN ? !v.isNaN : v.bitPattern != want.bitPattern { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "\(isa): conversions differing from Float16")
        }
    }

    func testMultiplyOnEveryPath() {
        var rng = SeededRNG(seed: 32)
        // Odd N and K: remainder rows of every row block and a partial vector at the end of
        // every row (K = 7 is shorter than one vector; 1200 spans several generic-path chunks).
        // N = 300 at K = 77 is two panels (256 + 44 rows) on the sgemm path.
        let shapes = [(37, 53), (300, 77), (5, 7), (13, 1200)]
        for (n, k) in shapes {
            let w = weights(n, k, rng: &rng)
            let wr = fp16Rounded(w)
            let f = FP16Weights(Tensor(shape: [n, k], storage: w))
            // Every group size of the streaming kernel (1…8: each has its own register blocking);
            // 9 and 17 (8 + 1 and 2·8 + 1: groups and a remainder, or the panel path where the
            // bound is 8 or 16); 129 (panels on every path, the streaming bound being ≤ 128).
            for m in [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 129] {
                let x = Tensor.randomNormal([m, k], std: 1, rng: &rng).storage
                for isa in paths {
                    VectorISA.select(isa)
                    if m == 129 { XCTAssertLessThan(FP16Weights.maxStreamingRows, m, "129 rows must take the panel path") }
                    var y = [Float](repeating: .nan, count: m * n)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { f.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: .serial) }
                    }
                    // y (m, n) = x (m, k) · Wᵀ: b(t, j) = W[j, t].
                    check(y, rows: m, cols: n, k: k, term: { i, j, t in (x[i * k + t], w[j * k + t], wr[j * k + t]) },
                          "multiply \(isa) M=\(m) N=\(n) K=\(k)")
                }
            }
        }
    }

    func testMultiplyLeftOnEveryPath() {
        var rng = SeededRNG(seed: 33)
        for (n, k) in [(37, 53), (300, 77), (5, 7)] {
            let w = weights(n, k, rng: &rng)
            let wr = fp16Rounded(w)
            let f = FP16Weights(Tensor(shape: [n, k], storage: w))
            for cols in [1, 5, 100] {
                let b = Tensor.randomNormal([k, cols], std: 1, rng: &rng).storage
                for isa in paths {
                    VectorISA.select(isa)
                    var y = [Float](repeating: .nan, count: n * cols)
                    b.withUnsafeBufferPointer { bp in
                        y.withUnsafeMutableBufferPointer { f.multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: .serial) }
                    }
                    // y (n, cols) = W (n, k) · b (k, cols).
                    check(y, rows: n, cols: cols, k: k, term: { i, j, t in (b[t * cols + j], w[i * k + t], wr[i * k + t]) },
                          "multiplyLeft \(isa) N=\(n) K=\(k) cols=\(cols)")
                }
            }
        }
    }

    func testTwoThreadsGiveTheOneThreadResult() {
        var rng = SeededRNG(seed: 34)
        // N = 8000 at K = 300: the streaming path splits into 2 chunks of output features
        // (≥ 1 M weights each) and the panel path has 37 panels of 218 rows to share out.
        let (n, k) = (8000, 300)
        let f = FP16Weights(Tensor.randomNormal([n, k], std: 0.2, rng: &rng))
        // 1 and 8: streaming on every path; 150: panels on every path.
        for m in [1, 8, 150] {
            let x = Tensor.randomNormal([m, k], std: 1, rng: &rng).storage
            func run(threads: Int) -> ([Float], [Float]) {
                let context = ExecutionContext(threads: threads)
                var y = [Float](repeating: .nan, count: m * n)
                var z = [Float](repeating: .nan, count: n * m)
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { f.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: context) }
                    // x read as b (k, m)-shaped data: any (K, cols) matrix will do here.
                    z.withUnsafeMutableBufferPointer { f.multiplyLeft(xp.baseAddress!, columns: m, into: $0.baseAddress!, in: context) }
                }
                return (y, z)
            }
            for isa in paths {
                VectorISA.select(isa)
                let one = run(threads: 1), two = run(threads: 2)
                // Each output's sum runs in the same order however the outputs are split
                // (streaming: whole rows per thread; panels: same panels, single-threaded sgemm).
                XCTAssertEqual(one.0, two.0, "multiply \(isa) M=\(m)")
                XCTAssertEqual(one.1, two.1, "multiplyLeft \(isa) cols=\(m)")
            }
        }
    }

    func testLinearLayerWithFP16Weights() {
        // Through the layer: bias added after the product, shapes carried.
        var rng = SeededRNG(seed: 35)
        let w = Tensor.randomNormal([11, 19], std: 0.3, rng: &rng)
        let bias = Tensor.randomNormal([11], std: 0.1, rng: &rng)
        let x = Tensor.randomNormal([2, 3, 19], std: 1, rng: &rng)
        let dense = Linear(weight: Tensor(shape: [11, 19], storage: fp16Rounded(w.storage)), bias: bias)
        let half = Linear(weights: FP16Weights(w), bias: bias)
        var a = Tensor(zeros: [0]), b = Tensor(zeros: [0])
        dense(x, into: &a, in: .serial)
        half(x, into: &b, in: .serial)
        XCTAssertEqual(b.shape, [2, 3, 11])
        for (u, v) in zip(a.storage, b.storage) { XCTAssertEqual(u, v, accuracy: 1e-5) }
    }
}
