// The W8A8 kernels against naive references: weight and activation quantization stay within
// half a step, the int32 sums equal a naive Int64 sum EXACTLY on every kernel this CPU can run
// (VNNI, AVX2, portable), the fp32 output is exactly (float)sum · (sx·sw), and the whole product
// stays within the bound quantization implies of fp64 on the unquantized inputs.
import InfCore
import XCTest

final class Int8GemmTests: XCTestCase {
    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Every kernel this CPU can run, by name, with the ISA path that selects it.
    var kernels: [(name: String, isa: VectorISA)] {
        var out: [(String, VectorISA)] = []
        for isa in VectorISA.allCases.reversed() where VectorISA.select(isa) {
            out.append((Int8Kernel.kernelName, isa))
        }
        VectorISA.select(.best)
        return out
    }

    // (M, N, K) off every boundary: M not a multiple of the 8/4-row tiles or the 96-row block,
    // M = 1; N not a multiple of the 32-column panel, N < 32; K not a multiple of 4 or 16
    // (quantization's vector loop), K = 1; K = 0 (y = 0).
    let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 33, 7), (2, 32, 4), (13, 31, 5), (12, 64, 384), (97, 70, 385),
        (100, 96, 1000), (7, 130, 777), (61, 5, 64), (3, 5, 0), (9, 40, 1536),
    ]

    /// x with a spread of row shapes: Gaussian, all positive (zp = 0), all negative (zp = 255),
    /// one all-zero row, one row with a single outlier.
    func activations(_ m: Int, _ k: Int, rng: inout SeededRNG) -> [Float] {
        var x = randn(m * k, rng: &rng)
        for i in 0..<m {
            for c in 0..<k {
                switch i % 5 {
                case 1: x[i * k + c] = abs(x[i * k + c])
                case 2: x[i * k + c] = -abs(x[i * k + c]) * 3
                case 3 where i == 3: x[i * k + c] = 0
                case 4 where c == 0: x[i * k + c] = 50
                default: break
                }
            }
        }
        return x
    }

    /// W with an all-zero row and a row of one nonzero weight.
    func weights(_ n: Int, _ k: Int, rng: inout SeededRNG) -> [Float] {
        var w = randn(n * k, std: 0.1, rng: &rng)
        if n > 2 && k > 0 {
            for c in 0..<k { w[1 * k + c] = 0; w[2 * k + c] = c == k / 2 ? -0.7 : 0 }
        }
        return w
    }

    func multiply(_ w: Int8Weights, _ x: [Float], m: Int, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        let n = w.outFeatures, sentinel: Float = 12345
        var y = [Float](repeating: .nan, count: m * n) + [Float](repeating: sentinel, count: 8)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in w.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, in: .serial) }
        }
        XCTAssertEqual(Array(y[(m * n)...]), [Float](repeating: sentinel, count: 8), "wrote past y", file: file, line: line)
        return Array(y[..<(m * n)])
    }

    // MARK: Quantization

    /// q = round(w / s) with s = max|w|/127: |w − s·q| ≤ s·(½ + 127·2⁻²⁴) (one rounding of w/s),
    /// q in [−127, 127], ±127 reached in every nonzero row; an all-zero row has s = 0.
    func testWeightQuantizationWithinHalfAStep() {
        var rng = SeededRNG(seed: 1)
        for (n, k) in [(1, 1), (3, 5), (33, 7), (70, 385), (5, 0)] {
            let w = weights(n, k, rng: &rng)
            let q8 = Int8Weights(Tensor(shape: [n, k], storage: w))
            let q = q8.quantized
            XCTAssertEqual(q8.byteCount, ((n + 31) / 32 * 32) * ((k + 3) / 4 * 4) + 8 * n, "(\(n), \(k)) bytes")
            var worst = 0.0
            for j in 0..<n {
                let row = w[(j * k)..<((j + 1) * k)], s = q8.scales[j]
                let amax = row.map { abs($0) }.max() ?? 0
                XCTAssertEqual(s, amax / 127, "(\(n), \(k)) row \(j) scale")
                XCTAssertEqual(q8.colsums[j], Int32(q[(j * k)..<((j + 1) * k)].reduce(0) { $0 + Int($1) }), "row \(j) Σq")
                if amax == 0 { XCTAssertTrue(q[(j * k)..<((j + 1) * k)].allSatisfy { $0 == 0 }); continue }
                XCTAssertEqual(q[(j * k)..<((j + 1) * k)].map { abs(Int($0)) }.max(), 127, "row \(j) uses the full range")
                for c in 0..<k {
                    XCTAssertTrue((-127...127).contains(Int(q[j * k + c])))
                    let d = abs(Double(w[j * k + c]) - Double(s) * Double(q[j * k + c])), bound = Double(s) * (0.5 + 127 * floatU)
                    XCTAssertLessThanOrEqual(d, bound, "(\(n), \(k)) w[\(j), \(c)]")
                    worst = max(worst, d / bound)
                }
            }
            print("OK     int8 weights (\(n), \(k)): max |Δ|/bound = \(String(format: "%.3f", worst))")
            XCTAssertEqual(q8.dense().storage, (0..<(n * k)).map { q8.scales[$0 / k] * Float(q[$0]) })
        }
    }

    /// Per row: s = (hi − lo)/255 with lo = min(0, x), hi = max(0, x), 0 exact (u = zp), and
    /// |x − s(u − zp)| ≤ s·(½ + 2⁻¹³) (x·(1/s) carries two fp32 roundings of a value ≤ 255, and a
    /// clamp at 0 or 255 can add at most that slop). Every path writes the same bytes.
    func testActivationQuantizationWithinHalfAStepOnEveryPath() {
        var rng = SeededRNG(seed: 2)
        let (m, k) = (11, 45)
        var x = activations(m, k, rng: &rng)
        x[5 * k + 7] = 0 // a zero in a mixed row
        var first: (u: [UInt8], scale: [Float], zeroPoint: [Int32])?
        for kernel in kernels {
            VectorISA.select(kernel.isa)
            let (u, s, zp) = Int8Kernel.quantizeRows(x, rows: m, columns: k)
            if let first {
                XCTAssertEqual(u, first.u, "\(kernel.name): same bytes as \(kernels[0].name)")
                XCTAssertEqual(s, first.scale)
                XCTAssertEqual(zp, first.zeroPoint)
            } else { first = (u, s, zp) }
            for i in 0..<m {
                let row = x[(i * k)..<((i + 1) * k)]
                let lo = min(0, row.min()!), hi = max(0, row.max()!)
                if hi == lo { XCTAssertEqual(s[i], 0); XCTAssertEqual(zp[i], 0); XCTAssertTrue(u[(i * k)..<((i + 1) * k)].allSatisfy { $0 == 0 }); continue }
                XCTAssertEqual(s[i], (hi - lo) / 255, "row \(i) scale")
                XCTAssertTrue((0...255).contains(zp[i]))
                if lo == 0 { XCTAssertEqual(zp[i], 0, "all ≥ 0: zero point 0") }
                if hi == 0 { XCTAssertEqual(zp[i], 255, "all ≤ 0: zero point 255") }
                for c in 0..<k {
                    let v = x[i * k + c], q = Int(u[i * k + c]) - Int(zp[i])
                    if v == 0 { XCTAssertEqual(q, 0, "0 is exact") }
                    XCTAssertLessThanOrEqual(abs(Double(v) - Double(s[i]) * Double(q)), Double(s[i]) * (0.5 + 0x1p-13), "\(kernel.name) x[\(i), \(c)]")
                }
            }
        }
    }

    // MARK: The product

    /// Σ (u − zp)·q from each kernel equals the naive Int64 sum exactly.
    func testInt32SumsEqualTheNaiveSumExactlyOnEveryPath() {
        XCTAssertTrue(kernels.map(\.name).contains("generic"))
        if Int8Kernel.vnniAvailable { XCTAssertEqual(kernels.first?.name, "avx512vnni") }
        for kernel in kernels {
            VectorISA.select(kernel.isa)
            XCTAssertEqual(Int8Kernel.kernelName, kernel.name)
            for (s, (m, n, k)) in shapes.enumerated() {
                var rng = SeededRNG(seed: UInt64(100 + s))
                let x = activations(m, k, rng: &rng)
                let w = Int8Weights(Tensor(shape: [n, k], storage: weights(n, k, rng: &rng)))
                let (u, _, zp) = Int8Kernel.quantizeRows(x, rows: m, columns: k)
                let q = w.quantized
                var want = [Int32](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var acc: Int64 = 0
                        for c in 0..<k { acc += (Int64(u[i * k + c]) - Int64(zp[i])) * Int64(q[j * k + c]) }
                        want[i * n + j] = Int32(acc)
                    }
                }
                let got = Int8Kernel.int32Product(w, u: u, zeroPoint: zp, rows: m)
                let mismatches = zip(got, want).filter { $0 != $1 }.count
                print("\(mismatches == 0 ? "OK    " : "NOT OK") \(kernel.name) int32 m=\(m) n=\(n) k=\(k): \(mismatches) mismatches")
                XCTAssertEqual(got, want, "\(kernel.name) m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    /// y = (float)Σ · (sx·sw) bit for bit, and within the quantization bound of fp64 on the
    /// unquantized inputs: with x = x̂ + ex, |ex| ≤ ½sx(1 + 2⁻¹²), and w = ŵ + ew, |ew| ≤ ½sw(1 + 2⁻¹⁸),
    /// |Σ xw − Σ x̂ŵ| ≤ Σ (|x|·|ew| + |w|·|ex| + |ex||ew|); the int32 sum is exact and the fp32
    /// rescale adds three roundings (int→float past 2²⁴, sx·sw, the product): 3u·Σ|x̂ŵ|.
    func testFP32OutputOnEveryPath() {
        for kernel in kernels {
            VectorISA.select(kernel.isa)
            for (s, (m, n, k)) in shapes.enumerated() {
                var rng = SeededRNG(seed: UInt64(200 + s))
                let x = activations(m, k, rng: &rng), wf = weights(n, k, rng: &rng)
                let w = Int8Weights(Tensor(shape: [n, k], storage: wf))
                let got = multiply(w, x, m: m)
                let (u, sx, zp) = Int8Kernel.quantizeRows(x, rows: m, columns: k)
                let acc = Int8Kernel.int32Product(w, u: u, zeroPoint: zp, rows: m)
                let want = (0..<(m * n)).map { Float(acc[$0]) * (sx[$0 / n] * w.scales[$0 % n]) }
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(kernel.name) m=\(m) n=\(n) k=\(k): rescale")

                let exact = Ref.matmul(x, lda: k, transA: false, wf, ldb: k, transB: true, m: m, n: n, k: k)
                let sumAbs = Ref.matmul(x.map(abs), lda: k, transA: false, wf.map(abs), ldb: k, transB: true, m: m, n: n, k: k)
                let xAbs = (0..<m).map { i in (0..<k).reduce(0.0) { $0 + Double(abs(x[i * k + $1])) } }
                let wAbs = (0..<n).map { j in (0..<k).reduce(0.0) { $0 + Double(abs(wf[j * k + $1])) } }
                var worst = 0.0, failures = 0
                for i in 0..<m {
                    for j in 0..<n {
                        let ex = 0.5 * Double(sx[i]) * (1 + 0x1p-12), ew = 0.5 * Double(w.scales[j]) * (1 + 0x1p-18)
                        let quant = xAbs[i] * ew + wAbs[j] * ex + Double(k) * ex * ew
                        let bound = quant + 3 * floatU * (sumAbs[i * n + j] + quant)
                        let d = abs(Double(got[i * n + j]) - exact[i * n + j])
                        if !(d <= bound) { failures += 1 }
                        if bound > 0 { worst = max(worst, d / bound) }
                    }
                }
                print("\(failures == 0 ? "OK    " : "NOT OK") \(kernel.name) m=\(m) n=\(n) k=\(k) vs fp64: max |Δ|/bound = \(String(format: "%.3f", worst))")
                XCTAssertEqual(failures, 0, "\(kernel.name) m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    /// W · b (convolutions): columns of b quantized through strides give the same bits as
    /// multiplying bᵀ, on every path.
    func testMultiplyLeftIsTheTransposedProduct() {
        for kernel in kernels {
            VectorISA.select(kernel.isa)
            for (s, (cols, n, k)) in [(1, 5, 27), (50, 16, 27), (97, 33, 144), (13, 70, 401)].enumerated() {
                var rng = SeededRNG(seed: UInt64(300 + s))
                let b = randn(k * cols, rng: &rng)
                let w = Int8Weights(Tensor.randomNormal([n, k], std: 0.2, rng: &rng))
                var y = [Float](repeating: .nan, count: n * cols)
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { w.multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: .serial) }
                }
                let bt = (0..<(cols * k)).map { b[($0 % k) * cols + $0 / k] } // (cols, K)
                let yt = multiply(w, bt, m: cols)                              // (cols, N)
                let want = (0..<(n * cols)).map { yt[($0 % cols) * n + $0 / cols] }
                XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "\(kernel.name) W·b n=\(n) k=\(k) cols=\(cols)")
            }
        }
    }

    /// Threads split rows (many rows) or 32-column panels (few rows, ≥ 4M multiply–adds); the
    /// sums are exact, so the bits are identical at any thread count.
    func testTwoThreadsGiveTheSameBits() {
        for (m, n, k) in [(301, 70, 400), (5, 130, 7000), (5, 20, 9)] {
            var rng = SeededRNG(seed: 7)
            let x = randn(m * k, rng: &rng), w = Int8Weights(Tensor.randomNormal([n, k], std: 0.1, rng: &rng))
            var results: [[Float]] = []
            for threads in [1, 2] {
                let context = ExecutionContext(threads: threads)
                var left = [Float](repeating: .nan, count: n * m)
                x.withUnsafeBufferPointer { bp in
                    left.withUnsafeMutableBufferPointer { w.multiplyLeft(bp.baseAddress!, columns: m, into: $0.baseAddress!, in: context) }
                }
                results += [multiply(w, x, m: m), left]
            }
            let context = ExecutionContext(threads: 1)
            XCTAssertEqual(results[0].map(\.bitPattern), results[2].map(\.bitPattern), "m=\(m) n=\(n): multiply at 2 threads")
            XCTAssertEqual(results[1].map(\.bitPattern), results[3].map(\.bitPattern), "m=\(m) n=\(n): multiplyLeft at 2 threads")
            XCTAssertFalse(results.joined().contains { $0.isNaN }, "every output written")
        }
    }

    /// Through a Linear layer, the bias added after the rescale.
    func testLinearLayerWithInt8Weights() {
        var rng = SeededRNG(seed: 9)
        let (rows, c, oc) = (37, 45, 29)
        let x = Tensor.randomNormal([rows, c], std: 1, rng: &rng)
        let w = Tensor.randomNormal([oc, c], std: 0.2, rng: &rng), b = Tensor.randomNormal([oc], std: 1, rng: &rng)
        let weights = Int8Weights(w)
        var y = Tensor(zeros: [1])
        Linear(weights: weights, bias: b)(x, into: &y, in: .serial)
        XCTAssertEqual(y.shape, [rows, oc])
        let product = multiply(weights, x.storage, m: rows)
        XCTAssertEqual(y.storage, (0..<(rows * oc)).map { product[$0] + b.storage[$0 % oc] }, "product, then bias")
    }
}
