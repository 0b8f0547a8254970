// The bf16 weights and GEMM against fp64 naive references: packing round-trips exactly,
// both kernels (vdpbf16ps and the portable widening one, on every instruction set this CPU
// has) stay within bounds derived from the formats, on odd shapes, for W·b and across threads.
import InfCore
import XCTest

final class BF16GemmTests: XCTestCase {
    override func tearDown() {
        BF16Kernel.forcePortable(false)
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Unit roundoff of bf16 (8 significant bits, round to nearest): 2⁻⁸.
    let bf16U: Double = 0x1p-8

    /// Every kernel this CPU can run, by name, with a closure that selects it.
    var kernels: [(name: String, select: () -> Void)] {
        var out: [(String, () -> Void)] = []
        if BF16Kernel.nativeAvailable {
            out.append(("avx512bf16", { VectorISA.select(.best); BF16Kernel.forcePortable(false) }))
        }
        for isa in VectorISA.allCases where VectorISA.select(isa) {
            out.append(("portable-\(isa.rawValue)", { VectorISA.select(isa); BF16Kernel.forcePortable(true) }))
        }
        VectorISA.select(.best)
        return out
    }

    // Shapes (M, N, K) off every blocking boundary: M not a multiple of the 8/4-row tiles or
    // the 48-row block, M = 1; N not a multiple of the 32-column panel, N < 32; K odd, K = 1,
    // K over one 384-deep block (so later blocks accumulate into y); K = 0 (y = 0).
    let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 33, 7), (2, 32, 2), (13, 31, 5), (12, 64, 384), (49, 70, 385),
        (100, 96, 1000), (7, 130, 777), (61, 5, 64), (3, 5, 0),
    ]

    func rounded(_ v: [Float]) -> [Float] { v.map { floatFromBF16Bits(bf16Bits($0)) } }

    /// Multiplies through BF16Weights: y (m, n) = x (m, k) · Wᵀ. y starts NaN, so a kernel that
    /// read y before its first write would show it, and a sentinel after y must survive.
    func multiply(_ w: BF16Weights, _ x: [Float], m: Int, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        let n = w.outFeatures, sentinel: Float = 12345
        var y = [Float](repeating: .nan, count: m * n) + [Float](repeating: sentinel, count: 8)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in w.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, in: .serial) }
        }
        XCTAssertEqual(Array(y[(m * n)...]), [Float](repeating: sentinel, count: 8), "wrote past y", file: file, line: line)
        return Array(y[..<(m * n)])
    }

    /// Asserts |got − want| ≤ bound elementwise and prints OK / NOT OK with the largest
    /// |Δ| / bound, so a pass shows how much room was left.
    func assertWithin(_ got: [Float], _ want: [Double], _ bound: [Double], _ name: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, name, file: file, line: line)
        var worst = 0.0, failures = 0
        for i in got.indices {
            let d = abs(Double(got[i]) - want[i])
            if !(d <= bound[i]) { failures += 1 }
            worst = max(worst, bound[i] > 0 ? d / bound[i] : (d == 0 ? 0 : .infinity))
        }
        print("\(failures == 0 ? "OK    " : "NOT OK") \(name): max |Δ|/bound = \(String(format: "%.3f", worst))")
        XCTAssertEqual(failures, 0, "\(name): \(failures) of \(got.count) outside the bound (max |Δ|/bound \(worst))", file: file, line: line)
    }

    // MARK: Packing

    func testPackingRoundTripsTheRoundedWeightsExactly() {
        var rng = SeededRNG(seed: 1)
        // Values that test the rounding itself: ties (to even, both ways), a carry into the
        // exponent, subnormals, the largest finite fp32 (rounds to inf), infinities and NaN.
        let special: [Float] = [
            Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_8001),
            Float(bitPattern: 0x3FFF_FFFF), Float(bitPattern: 0x0000_0001), Float(bitPattern: 0x8040_7FFF),
            .greatestFiniteMagnitude, -.infinity, .infinity, .nan, Float(bitPattern: 0x7F80_0001), -0.0, 0,
        ]
        for (n, k) in [(1, 1), (3, 5), (32, 2), (33, 7), (70, 385), (13, 13)] {
            var w = randn(n * k, std: 3, rng: &rng)
            for (i, s) in special.enumerated() where i < w.count { w[(i * 7919) % w.count] = s }
            let packed = BF16Weights(Tensor(shape: [n, k], storage: w))
            let back = packed.dense()
            XCTAssertEqual(back.shape, [n, k])
            XCTAssertEqual(back.storage.map(\.bitPattern), w.map { UInt32(bf16Bits($0)) << 16 },
                           "(\(n), \(k)): dense() is the bf16-rounded input, bit for bit")
            // 2 bytes per weight, with N padded to the 32-column panel and K to even.
            XCTAssertEqual(packed.byteCount, ((n + 31) / 32 * 32) * ((k + 1) / 2 * 2) * 2, "(\(n), \(k)) bytes")
            for v in special { XCTAssertEqual(BF16Kernel.round(v).bitPattern, UInt32(bf16Bits(v)) << 16, "\(v)") }
        }
        XCTAssertEqual(BF16Weights(Tensor(zeros: [384, 384])).byteCount, 2 * 384 * 384, "no padding when 32 | N, 2 | K")
    }

    // MARK: The product

    /// Against fp64 on the bf16-ROUNDED inputs. Each product of two bf16 (8-bit significands)
    /// is exact in fp32, so the only error is fp32 summation of K terms in some order:
    /// |Δ| ≤ γ_K · Σ|x̂ ŵ| with γ_K = K·2⁻²⁴/(1 − K·2⁻²⁴) (Higham §3.1).
    ///
    /// Against fp64 on the UNROUNDED inputs: x̂ = x(1 + δ), ŵ = w(1 + ε), |δ|, |ε| ≤ u = 2⁻⁸, so
    /// |x̂ŵ − xw| ≤ (2u + u²)|xw| and |Δ| ≤ ((1 + u)²(1 + γ_K) − 1) · Σ|x w| ≈ 2⁻⁷ · Σ|x w|.
    func testKernelsAgainstFP64References() {
        for kernel in kernels {
            kernel.select()
            XCTAssertEqual(BF16Kernel.kernelName, kernel.name)
            for (s, (m, n, k)) in shapes.enumerated() {
                var rng = SeededRNG(seed: UInt64(100 + s))
                let x = randn(m * k, rng: &rng), w = randn(n * k, std: 0.1, rng: &rng)
                let got = multiply(BF16Weights(Tensor(shape: [n, k], storage: w)), x, m: m)
                let (xr, wr) = (rounded(x), rounded(w))
                let label = "\(kernel.name) m=\(m) n=\(n) k=\(k)"

                let exactOnRounded = Ref.matmul(xr, lda: k, transA: false, wr, ldb: k, transB: true, m: m, n: n, k: k)
                let sumOnRounded = Ref.matmul(xr.map(abs), lda: k, transA: false, wr.map(abs), ldb: k, transB: true, m: m, n: n, k: k)
                assertWithin(got, exactOnRounded, sumOnRounded.map { gamma(k) * $0 }, "\(label) vs fp64 on rounded inputs")

                let exact = Ref.matmul(x, lda: k, transA: false, w, ldb: k, transB: true, m: m, n: n, k: k)
                let sum = Ref.matmul(x.map(abs), lda: k, transA: false, w.map(abs), ldb: k, transB: true, m: m, n: n, k: k)
                let rel = (1 + bf16U) * (1 + bf16U) * (1 + gamma(k)) - 1
                assertWithin(got, exact, sum.map { rel * $0 }, "\(label) vs fp64 on unrounded inputs")
            }
        }
    }

    /// Every kernel against every other: both are within γ_K·Σ|x̂ŵ| of the same exact value.
    func testKernelsAgree() {
        let all = kernels
        for (s, (m, n, k)) in shapes.enumerated() {
            var rng = SeededRNG(seed: UInt64(200 + s))
            let x = randn(m * k, rng: &rng), w = randn(n * k, std: 0.1, rng: &rng)
            let weights = BF16Weights(Tensor(shape: [n, k], storage: w))
            let sum = Ref.matmul(rounded(x).map(abs), lda: k, transA: false, rounded(w).map(abs), ldb: k, transB: true, m: m, n: n, k: k)
            all[0].select()
            let first = multiply(weights, x, m: m)
            for other in all.dropFirst() {
                other.select()
                assertWithin(multiply(weights, x, m: m), first.map(Double.init), sum.map { 2 * gamma(k) * $0 },
                             "\(other.name) vs \(all[0].name) m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    /// y (N, cols) = W · b, b (K, cols): the kernel on the transposes, through strides.
    func testMultiplyLeftAgainstFP64Reference() {
        for kernel in kernels {
            kernel.select()
            for (s, (cols, n, k)) in [(1, 5, 27), (50, 16, 27), (97, 33, 144), (13, 70, 401), (200, 32, 9)].enumerated() {
                var rng = SeededRNG(seed: UInt64(300 + s))
                let b = randn(k * cols, rng: &rng), w = randn(n * k, std: 0.2, rng: &rng)
                let weights = BF16Weights(Tensor(shape: [n, k], storage: w))
                var y = [Float](repeating: .nan, count: n * cols)
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { weights.multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: .serial) }
                }
                let (br, wr) = (rounded(b), rounded(w))
                let exact = Ref.matmul(wr, lda: k, transA: false, br, ldb: cols, transB: false, m: n, n: cols, k: k)
                let sum = Ref.matmul(wr.map(abs), lda: k, transA: false, br.map(abs), ldb: cols, transB: false, m: n, n: cols, k: k)
                assertWithin(y, exact, sum.map { gamma(k) * $0 }, "\(kernel.name) W·b n=\(n) k=\(k) cols=\(cols)")
            }
        }
    }

    /// Threads split rows (many rows) or 32-column panels (few rows but ≥ 2M multiply–adds, e.g.
    /// 5 × 70 × 6000); neither changes any output's sum order, so the result is identical, bit
    /// for bit. Both for multiply and for multiplyLeft (where the kernel's rows are b's columns).
    func testTwoThreadsGiveTheSameBits() {
        for kernel in kernels {
            kernel.select()
            for (m, n, k) in [(301, 70, 400), (5, 70, 6000), (5, 20, 9)] {
                var rng = SeededRNG(seed: 7)
                let x = randn(m * k, rng: &rng), w = BF16Weights(Tensor.randomNormal([n, k], std: 0.1, rng: &rng))
                var results: [[Float]] = []
                for threads in [1, 2] {
                    let context = ExecutionContext(threads: threads)
                    var left = [Float](repeating: .nan, count: n * m)
                    x.withUnsafeBufferPointer { bp in // the same m·k floats read as b (K, cols = m)
                        left.withUnsafeMutableBufferPointer { w.multiplyLeft(bp.baseAddress!, columns: m, into: $0.baseAddress!, in: context) }
                    }
                    results += [multiply(w, x, m: m), left]
                }
                let context = ExecutionContext(threads: 1)
                XCTAssertEqual(results[0].map(\.bitPattern), results[2].map(\.bitPattern), "\(kernel.name) m=\(m) n=\(n): multiply at 2 threads")
                XCTAssertEqual(results[1].map(\.bitPattern), results[3].map(\.bitPattern), "\(kernel.name) m=\(m) n=\(n): multiplyLeft at 2 threads")
                XCTAssertFalse(results.joined().contains { $0.isNaN }, "every output written")
            }
        }
    }

    /// Through a Linear layer (bias added after the product), as the models use it.
    func testLinearLayerWithBF16Weights() {
        var rng = SeededRNG(seed: 9)
        let (rows, c, oc) = (37, 45, 29)
        let x = Tensor.randomNormal([rows, c], std: 1, rng: &rng)
        let w = Tensor.randomNormal([oc, c], std: 0.2, rng: &rng), b = Tensor.randomNormal([oc], std: 1, rng: &rng)
        let layer = Linear(weights: BF16Weights(w), bias: b)
        var y = Tensor(zeros: [1])
        layer(x, into: &y, in: .serial)
        XCTAssertEqual(y.shape, [rows, oc])
        let want = Ref.linear(rounded(x.storage), rows: rows, weight: rounded(w.storage), bias: b.storage, inFeatures: c, outFeatures: oc)
        let sum = Ref.linear(rounded(x.storage).map(abs), rows: rows, weight: rounded(w.storage).map(abs),
                             bias: b.storage.map(abs), inFeatures: c, outFeatures: oc)
        assertWithin(y.storage, want, sum.map { gamma(c + 1) * $0 }, "Linear with BF16Weights")
    }
}
