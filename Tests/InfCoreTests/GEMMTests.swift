// BLAS.sgemm against the naive matmul (all four transpose combinations, non-square shapes,
// strided views with lda/ldb/ldc wider than the rows, alpha/beta), and Linear on (B, T, C).
import InfCore
import XCTest

final class GEMMTests: XCTestCase {
    /// Runs sgemm on random operands stored with `padA`/`padB`/`padC` extra floats per row and
    /// checks C against Ref.matmul. Padding in A and B is NaN, so reading it would poison C;
    /// padding in C is a sentinel that must survive untouched.
    ///
    /// Tolerance: each C element is a fp32 dot product of k terms, then ·alpha and + beta·C₀,
    /// whatever the blocking or FMA use, within γ_{k+2}·(|alpha|·Σ|a||b| + |beta|·|C₀|)
    /// (Higham, Accuracy and Stability, §3.1). We take the max of that bound over C.
    private func check(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                       padA: Int = 0, padB: Int = 0, padC: Int = 0,
                       alpha: Float = 1, beta: Float = 0, seed: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: seed)
        let (rowsA, colsA) = transA ? (k, m) : (m, k)
        let (rowsB, colsB) = transB ? (n, k) : (k, n)
        let lda = colsA + padA, ldb = colsB + padB, ldc = n + padC
        func strided(_ rows: Int, _ cols: Int, _ ld: Int, pad: Float) -> [Float] {
            var out = [Float](repeating: pad, count: rows * ld)
            for r in 0..<rows { for c in 0..<cols { out[r * ld + c] = rng.nextGaussian() } }
            return out
        }
        let a = strided(rowsA, colsA, lda, pad: .nan)
        let b = strided(rowsB, colsB, ldb, pad: .nan)
        let sentinel: Float = 12345
        // With beta = 0 BLAS must not read C at all (attention's scratch holds stale values),
        // so C starts as NaN; otherwise it starts random.
        var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : strided(m, n, ldc, pad: sentinel)
        if beta == 0 { for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = sentinel } } }
        let c0 = c

        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                               beta: beta, c: cp.baseAddress!, ldc: ldc)
                }
            }
        }

        let ab = Ref.matmul(a, lda: lda, transA: transA, b, ldb: ldb, transB: transB, m: m, n: n, k: k)
        let absAB = Ref.matmul(a.map(abs), lda: lda, transA: transA, b.map(abs), ldb: ldb, transB: transB, m: m, n: n, k: k)
        var want = [Double](), got = [Float](), bound = 0.0
        for i in 0..<m {
            for j in 0..<n {
                let old = beta == 0 ? 0 : Double(c0[i * ldc + j])
                want.append(Double(alpha) * ab[i * n + j] + Double(beta) * old)
                got.append(c[i * ldc + j])
                bound = max(bound, abs(Double(alpha)) * absAB[i * n + j] + abs(Double(beta)) * abs(old))
            }
            for j in n..<ldc {
                XCTAssertEqual(c[i * ldc + j], sentinel, "sgemm wrote into C's row padding at (\(i), \(j))", file: file, line: line)
            }
        }
        let name = "sgemm \(transA ? "T" : "N")\(transB ? "T" : "N") m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc) α=\(alpha) β=\(beta)"
        assertClose(got, want, absTol: gamma(k + 2) * bound, relTol: 0, name, file: file, line: line)
    }

    func testAllTransposeCombinationsSmallNonSquare() {
        for (i, (ta, tb)) in [(false, false), (false, true), (true, false), (true, true)].enumerated() {
            check(transA: ta, transB: tb, m: 7, n: 5, k: 3, seed: UInt64(10 + i))
        }
    }

    func testAllTransposeCombinationsStridedViews() {
        // Leading dimensions wider than the rows, as for a head read out of a (T, 3C) buffer.
        for (i, (ta, tb)) in [(false, false), (false, true), (true, false), (true, true)].enumerated() {
            check(transA: ta, transB: tb, m: 37, n: 29, k: 53, padA: 3, padB: 5, padC: 2, seed: UInt64(20 + i))
        }
    }

    func testAlphaBetaAccumulate() {
        // Attention scales by alpha = 1/√d; beta = 1 accumulates into C.
        check(transA: false, transB: true, m: 9, n: 11, k: 16, padC: 1, alpha: 0.25, beta: 1, seed: 30)
        check(transA: true, transB: false, m: 12, n: 6, k: 40, alpha: -1.5, beta: 0.5, seed: 31)
    }

    func testDegenerateShapes() {
        check(transA: false, transB: false, m: 1, n: 64, k: 17, seed: 40)  // a row vector times a matrix
        check(transA: false, transB: true, m: 33, n: 1, k: 8, seed: 41)    // a matrix times a vector
        check(transA: true, transB: true, m: 4, n: 6, k: 1, seed: 42)      // an outer product
    }

    /// x (B, T, C) → (B, T, OC). Tolerance: γ_{C+1} · max Σ|x||w| + |b| (a C-term fp32 dot
    /// product, then one bias add).
    private func checkLinear(bias: Bool, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        let (b, t, c, oc) = (2, 3, 24, 40)
        let x = randn(b * t * c, rng: &rng), w = randn(oc * c, std: 0.2, rng: &rng)
        let bv: [Float]? = bias ? randn(oc, rng: &rng) : nil
        let layer = Linear(weight: Tensor(shape: [oc, c], storage: w), bias: bv.map { Tensor(shape: [oc], storage: $0) })
        XCTAssertEqual(layer.inFeatures, c)
        XCTAssertEqual(layer.outFeatures, oc)
        XCTAssertEqual(layer.parameterCount, oc * c + (bias ? oc : 0))
        // fp32 weights are packed in panels of 32 output features: 40 rows take 64.
        XCTAssertEqual(layer.byteCount, 4 * (64 * c + (bias ? oc : 0)))

        var y = Tensor(zeros: [5, 5]) // wrong shape on purpose: the layer resizes it
        layer(Tensor(shape: [b, t, c], storage: x), into: &y, in: .serial)
        XCTAssertEqual(y.shape, [b, t, oc])
        let want = Ref.linear(x, rows: b * t, weight: w, bias: bv, inFeatures: c, outFeatures: oc)
        let bound = Ref.linear(x.map(abs), rows: b * t, weight: w.map(abs), bias: bv?.map(abs),
                               inFeatures: c, outFeatures: oc).max()!
        assertClose(y.storage, want, absTol: gamma(c + 1) * bound, relTol: 0, "linear (B,T,C) bias=\(bias)")

        // Running again into the same buffer overwrites rather than accumulates.
        let first = y.storage
        layer(Tensor(shape: [b, t, c], storage: x), into: &y, in: .serial)
        XCTAssertEqual(y.storage, first)
    }

    func testLinearWithBias() { checkLinear(bias: true, seed: 50) }
    func testLinearWithoutBias() { checkLinear(bias: false, seed: 51) }

    func testDenseWeightsRoundTrip() {
        var rng = SeededRNG(seed: 52)
        let w = Tensor.randomNormal([3, 4], std: 1, rng: &rng)
        let dense = DenseWeights(w)
        XCTAssertEqual(dense.dense(), w)
        XCTAssertEqual(dense.outFeatures, 3)
        XCTAssertEqual(dense.inFeatures, 4)
        XCTAssertEqual(dense.byteCount, 48)
        // Both initialisers execute the same product.
        let x = Tensor.randomNormal([2, 4], std: 1, rng: &rng)
        var y1 = Tensor(zeros: [0]), y2 = Tensor(zeros: [0])
        Linear(weight: w, bias: nil)(x, into: &y1, in: .serial)
        Linear(weights: dense, bias: nil)(x, into: &y2, in: .serial)
        XCTAssertEqual(y1, y2)
    }
}
