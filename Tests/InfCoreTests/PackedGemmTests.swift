// infbench's fp32 GEMM on packed weights (the linear layers' fp32 path) against fp64 naive
// references: packing round-trips exactly; every instruction-set path this CPU has stays within
// fp32 summation error on shapes off every blocking boundary, with and without bias, for W·b and
// across threads (bit-identical); and a Linear layer packs plain fp32 weights and still matches.
import InfCore
import XCTest

final class PackedGemmTests: XCTestCase {
    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Every path this CPU can run: the kernel follows the active ISA.
    var paths: [VectorISA] {
        let out = VectorISA.allCases.filter { VectorISA.select($0) }
        VectorISA.select(.best)
        return out
    }

    // (M, N, K) off every boundary: M not a multiple of the 8/4/2-row tiles or of the 48-row
    // block, M = 1, M over 256 (x packed in blocks; fewer rows are read in place); N not a
    // multiple of the 32-column panel, N < 32; K odd, K = 1, K over one
    // 256-deep block (later blocks add into y), K not a multiple of the 4-step unroll; K = 0.
    let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 33, 7), (1, 64, 515), (2, 32, 2), (13, 31, 5), (12, 64, 256), (49, 70, 257),
        (100, 96, 1000), (7, 130, 777), (61, 5, 64), (3, 5, 0), (300, 45, 300),
    ]

    func multiply(_ w: PackedWeights, _ x: [Float], m: Int, bias: [Float]?, in context: ExecutionContext = .serial,
                  file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        let n = w.outFeatures, sentinel: Float = 12345
        // y starts NaN (a kernel reading y before its first write shows) with a sentinel after it.
        var y = [Float](repeating: .nan, count: m * n) + [Float](repeating: sentinel, count: 8)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if let bias {
                    bias.withUnsafeBufferPointer { w.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, bias: $0.baseAddress!, in: context) }
                } else {
                    w.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, in: context)
                }
            }
        }
        XCTAssertEqual(Array(y[(m * n)...]), [Float](repeating: sentinel, count: 8), "wrote past y", file: file, line: line)
        return Array(y[..<(m * n)])
    }

    /// |got − want| ≤ γ_(K+1) · Σ|terms| elementwise (fp32 summation of K products and a bias in
    /// some order, Higham §3.1), with the largest |Δ|/bound printed so a pass shows its room.
    func assertWithin(_ got: [Float], _ want: [Double], _ magnitude: [Double], k: Int, _ name: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, name, file: file, line: line)
        var worst = 0.0, failures = 0
        for i in got.indices {
            let d = abs(Double(got[i]) - want[i]), bound = gamma(k + 1) * magnitude[i]
            if !(d <= bound) { failures += 1 }
            worst = max(worst, bound > 0 ? d / bound : (d == 0 ? 0 : .infinity))
        }
        print("\(failures == 0 ? "OK    " : "NOT OK") \(name): max |Δ|/bound = \(String(format: "%.3f", worst))")
        XCTAssertEqual(failures, 0, "\(name): \(failures) of \(got.count) outside the bound (max |Δ|/bound \(worst))", file: file, line: line)
    }

    func testPackingRoundTripsExactly() {
        var rng = SeededRNG(seed: 1)
        for (n, k) in [(1, 1), (3, 5), (32, 2), (33, 7), (70, 385)] {
            var w = randn(n * k, std: 3, rng: &rng)
            w[0] = -0.0
            w[w.count - 1] = .greatestFiniteMagnitude
            let packed = PackedWeights(Tensor(shape: [n, k], storage: w))
            XCTAssertEqual(packed.dense().shape, [n, k])
            XCTAssertEqual(packed.dense().storage.map(\.bitPattern), w.map(\.bitPattern), "(\(n), \(k)) round trip")
            XCTAssertEqual(packed.byteCount, (n + 31) / 32 * 32 * k * 4, "(\(n), \(k)): 4 bytes a weight, N padded to 32")
        }
    }

    func testEveryPathAgainstFP64Reference() {
        for isa in paths {
            VectorISA.select(isa)
            XCTAssertEqual(PackedKernel.name, isa.rawValue)
            for (s, (m, n, k)) in shapes.enumerated() {
                var rng = SeededRNG(seed: UInt64(100 + s))
                let x = randn(m * k, rng: &rng), w = randn(n * k, std: 0.1, rng: &rng), b = randn(n, rng: &rng)
                let weights = PackedWeights(Tensor(shape: [n, k], storage: w))
                let exact = Ref.matmul(x, lda: k, transA: false, w, ldb: k, transB: true, m: m, n: n, k: k)
                let sum = Ref.matmul(x.map(abs), lda: k, transA: false, w.map(abs), ldb: k, transB: true, m: m, n: n, k: k)
                assertWithin(multiply(weights, x, m: m, bias: nil), exact, sum, k: k, "\(isa) m=\(m) n=\(n) k=\(k)")
                let withBias = exact.enumerated().map { $0.element + Double(b[$0.offset % n]) }
                let magnitude = sum.enumerated().map { $0.element + Double(abs(b[$0.offset % n])) }
                assertWithin(multiply(weights, x, m: m, bias: b), withBias, magnitude, k: k, "\(isa) m=\(m) n=\(n) k=\(k) + bias")
            }
        }
    }

    /// y (N, cols) = W · b, b (K, cols): the kernel on the transposes, through strides.
    func testMultiplyLeftAgainstFP64Reference() {
        for isa in paths {
            VectorISA.select(isa)
            for (s, (cols, n, k)) in [(1, 5, 27), (50, 16, 27), (97, 33, 300), (13, 70, 401)].enumerated() {
                var rng = SeededRNG(seed: UInt64(300 + s))
                let b = randn(k * cols, rng: &rng), w = randn(n * k, std: 0.2, rng: &rng)
                let weights = PackedWeights(Tensor(shape: [n, k], storage: w))
                var y = [Float](repeating: .nan, count: n * cols)
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { weights.multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: .serial) }
                }
                let exact = Ref.matmul(w, lda: k, transA: false, b, ldb: cols, transB: false, m: n, n: cols, k: k)
                let sum = Ref.matmul(w.map(abs), lda: k, transA: false, b.map(abs), ldb: cols, transB: false, m: n, n: cols, k: k)
                assertWithin(y, exact, sum, k: k, "\(isa) W·b n=\(n) k=\(k) cols=\(cols)")
            }
        }
    }

    /// Threads split rows (301 rows) or 32-column panels (5 or 1 rows, ≥ 2M multiply–adds); neither
    /// changes any output's sum order, so 2 threads give the same bits as one. The last product is
    /// too small to split, and must not.
    func testTwoThreadsGiveTheSameBits() {
        for (m, n, k, splits) in [(301, 70, 400, true), (5, 100, 6000, true), (1, 4000, 600, true), (5, 20, 9, false)] {
            var rng = SeededRNG(seed: 7)
            let x = randn(m * k, rng: &rng), b = randn(n, rng: &rng)
            let w = PackedWeights(Tensor.randomNormal([n, k], std: 0.1, rng: &rng))
            let two = ExecutionContext(threads: 2)
            let results = [multiply(w, x, m: m, bias: b), multiply(w, x, m: m, bias: b, in: two)]
            XCTAssertEqual(two.splitJobs > 0, splits, "m=\(m) n=\(n) k=\(k): split over 2 threads")
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "m=\(m) n=\(n) k=\(k) at 2 threads")
            XCTAssertFalse(results.joined().contains { $0.isNaN }, "every output written")
        }
    }

    /// A Linear layer stores plain fp32 weights packed — also when assigned after construction,
    /// as loading does — and matches the reference with its bias.
    func testLinearPacksFP32Weights() {
        var rng = SeededRNG(seed: 9)
        let (rows, c, oc) = (37, 45, 29)
        let x = Tensor.randomNormal([rows, c], std: 1, rng: &rng)
        let w = Tensor.randomNormal([oc, c], std: 0.2, rng: &rng), b = Tensor.randomNormal([oc], std: 1, rng: &rng)
        var layer = Linear(weight: Tensor(zeros: [oc, c]), bias: b)
        XCTAssert(layer.weights is PackedWeights)
        layer.weights = DenseWeights(w)
        XCTAssert(layer.weights is PackedWeights, "assigned DenseWeights are packed")
        XCTAssertEqual(layer.weights.dense(), w)
        var y = Tensor(zeros: [1])
        layer(x, into: &y, in: .serial)
        XCTAssertEqual(y.shape, [rows, oc])
        let want = Ref.linear(x.storage, rows: rows, weight: w.storage, bias: b.storage, inFeatures: c, outFeatures: oc)
        let magnitude = Ref.linear(x.storage.map(abs), rows: rows, weight: w.storage.map(abs), bias: b.storage.map(abs), inFeatures: c, outFeatures: oc)
        assertWithin(y.storage, want, magnitude, k: c, "Linear with packed fp32 weights")
    }
}

/// The GELU epilogue (GELU applied as the last K block of each tile is stored) against the separate
/// pass it replaces: multiply (with or without bias), then `geluKernel`. Both evaluate the one
/// `ib_gelu_approx` on the same fp32 sums with the same FP flags, so the tolerance is zero: every
/// output must have the same bits, on every ISA path, at 1 and 2 threads, and through `Linear`.
final class PackedGemmGeluEpilogueTests: XCTestCase {
    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    // Off every boundary: M not a multiple of 8/4/2 or 48, N not a multiple of 32 (and < 32), K over
    // one 256 block and not a multiple of 4 (the epilogue must run after the last block only), K = 0.
    let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 33, 7), (1, 64, 515), (13, 31, 5), (49, 70, 257), (7, 130, 777), (61, 5, 600), (3, 5, 0), (16, 1536, 384), (300, 40, 300),
    ]

    func run(_ w: PackedWeights, _ x: [Float], m: Int, bias: [Float]?, fused: Bool,
             in context: ExecutionContext = .serial) -> [Float] {
        let n = w.outFeatures
        var y = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                withOptional(bias) { b in
                    if fused {
                        w.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, bias: b, activation: .gelu, in: context)
                    } else {
                        w.multiply(xp.baseAddress!, rows: m, into: yp.baseAddress!, bias: b, in: context)
                        geluKernel(yp.baseAddress!, yp.baseAddress!, count: m * n)
                    }
                }
            }
        }
        return y
    }

    func withOptional(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> Void) {
        guard let a else { return body(nil) }
        a.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    func testFusedGeluHasTheSeparatePassesBitsOnEveryPath() {
        let paths = VectorISA.allCases.filter { VectorISA.select($0) }
        XCTAssertFalse(paths.isEmpty)
        for isa in paths {
            VectorISA.select(isa)
            for (s, (m, n, k)) in shapes.enumerated() {
                var rng = SeededRNG(seed: UInt64(500 + s))
                // std 1 inputs, weights scaled so sums spread over GELU's bend and both tails.
                let x = randn(m * k, rng: &rng), w = randn(n * k, std: 2 / Float(max(1, k)).squareRoot(), rng: &rng)
                let b = randn(n, rng: &rng)
                let weights = PackedWeights(Tensor(shape: [n, k], storage: w))
                for bias in [nil, b] {
                    let fused = run(weights, x, m: m, bias: bias, fused: true)
                    let separate = run(weights, x, m: m, bias: bias, fused: false)
                    let name = "\(isa) m=\(m) n=\(n) k=\(k) bias=\(bias != nil)"
                    XCTAssertFalse(fused.contains { $0.isNaN }, "\(name): every output written")
                    XCTAssert(fused.contains { $0 < 0 } && fused.contains { $0 > 1 } || m * n < 8 || k == 0, "\(name): outputs cover GELU's bend")
                    let differ = zip(fused, separate).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(differ, 0, "\(name): \(differ) of \(fused.count) outputs differ from multiply + geluKernel")
                }
            }
        }
    }

    func testTwoThreadsGiveTheSameBits() {
        for (m, n, k) in [(301, 70, 400), (5, 100, 6000), (1, 4000, 600)] {
            var rng = SeededRNG(seed: 11)
            let x = randn(m * k, rng: &rng), b = randn(n, rng: &rng)
            let w = PackedWeights(Tensor.randomNormal([n, k], std: 0.05, rng: &rng))
            var results: [[Float]] = []
            for threads in [1, 2] {
                results.append(run(w, x, m: m, bias: b, fused: true, in: ExecutionContext(threads: threads)))
            }
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "m=\(m) n=\(n) k=\(k) at 2 threads")
            XCTAssertEqual(results[0].map(\.bitPattern), run(w, x, m: m, bias: b, fused: false).map(\.bitPattern), "m=\(m) n=\(n) k=\(k): fused = separate")
        }
    }

    /// Weights that are not packed (any other format) take Linear's fallback: multiply, bias, gelu pass.
    struct UnpackedWeights: LinearWeights {
        let inner: DenseWeights
        var outFeatures: Int { inner.outFeatures }
        var inFeatures: Int { inner.inFeatures }
        var byteCount: Int { inner.byteCount }
        func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
            inner.multiply(x, rows: rows, into: y, in: context)
        }
        func multiplyLeft(_ b: UnsafePointer<Float>, columns n: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
            inner.multiplyLeft(b, columns: n, into: y, in: context)
        }
        func dense() -> Tensor { inner.dense() }
    }

    func testLinearActivationMatchesLinearThenGelu() {
        var rng = SeededRNG(seed: 12)
        let (rows, c, oc) = (37, 300, 45)
        let x = Tensor.randomNormal([2, rows, c], std: 1, rng: &rng)
        let w = Tensor.randomNormal([oc, c], std: 0.1, rng: &rng), b = Tensor.randomNormal([oc], std: 1, rng: &rng)
        for layer in [Linear(weight: w, bias: b), Linear(weight: w, bias: nil), Linear(weights: UnpackedWeights(inner: DenseWeights(w)), bias: b)] {
            let name = "\(type(of: layer.weights)) bias=\(layer.bias != nil)"
            var want = Tensor(zeros: [1]), got = Tensor(zeros: [1]), plain = Tensor(zeros: [1])
            layer(x, into: &want, in: .serial)
            gelu(&want, in: .serial)
            layer(x, into: &got, activation: .gelu, in: .serial)
            layer(x, into: &plain, activation: .none, in: .serial)
            XCTAssertEqual(got.shape, [2, rows, oc], name)
            XCTAssertEqual(got.storage.map(\.bitPattern), want.storage.map(\.bitPattern), "\(name): fused = Linear then gelu")
            var unfused = Tensor(zeros: [1])
            layer(x, into: &unfused, in: .serial)
            XCTAssertEqual(plain.storage.map(\.bitPattern), unfused.storage.map(\.bitPattern), "\(name): .none is the plain layer")
        }
    }
}
