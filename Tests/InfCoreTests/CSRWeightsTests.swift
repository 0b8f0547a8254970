// CSRWeights against DenseWeights (OpenBLAS sgemm) on the same pruned matrix: multiply
// and multiplyLeft at sparsities 0 … 1, batch sizes 1, 3, 64 and 300, odd shapes, empty
// rows, both index widths, 1 and 2 threads, and every vector path this CPU has.
@testable import InfCore
import XCTest

final class CSRWeightsTests: XCTestCase {
    var paths: [VectorISA] { VectorISA.allCases.filter { VectorISA.select($0) } }

    override func setUp() {
        super.setUp()
        // Split rows over threads even for these small matrices, so the split is tested.
        CSRWeights.minParallelWork = 0
    }

    override func tearDown() {
        CSRWeights.minParallelWork = 1 << 15
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Random (N, K) with exactly round(sparsity · N·K) zeros at seeded random places, and
    /// (when asked) rows 0 and N/2 entirely zero, so the kernels meet empty rows.
    func prunedMatrix(_ n: Int, _ k: Int, sparsity: Double, emptyRows: Bool, seed: UInt64) -> Tensor {
        var rng = SeededRNG(seed: seed)
        var w = Tensor.randomNormal([n, k], std: 1, rng: &rng)
        var order = Array(0..<(n * k))
        order.shuffle(using: &rng)
        for i in order.prefix(Int((sparsity * Double(n * k)).rounded())) { w.storage[i] = 0 }
        if emptyRows && n > 1 {
            for r in [0, n / 2] { for c in 0..<k { w.storage[r * k + c] = 0 } }
        }
        return w
    }

    /// Tolerance: both sides are fp32 sums of the same nonzero products (sgemm also adds
    /// exact zeros, which change nothing) in different orders, so each is within
    /// γ_K·Σ|w·x| of the exact sum (Higham §3.1) and they differ by at most 2·γ_K·Σ|w·x|.
    func assertSame(_ sparse: [Float], _ dense: [Float], absSums: [Double], k: Int, _ name: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(sparse.count, dense.count, name, file: file, line: line)
        var worst = 0.0
        for i in sparse.indices {
            let d = abs(Double(sparse[i]) - Double(dense[i]))
            let bound = 2 * gamma(k) * absSums[i]
            worst = max(worst, d)
            if !(d <= bound) {
                XCTFail("\(name): [\(i)] sparse \(sparse[i]) dense \(dense[i]) |Δ| \(d) > \(bound)", file: file, line: line)
                return
            }
        }
        print("OK     \(name): max |Δ| = \(worst)")
    }

    /// x (M, K) seeded, and the dense product with its Σ|w·x| per output.
    struct DenseCase {
        var x: [Float], dense: [Float], absSums: [Double]
    }

    func denseCase(_ w: Tensor, m: Int, seed: UInt64) -> DenseCase {
        let (n, k) = (w.shape[0], w.shape[1])
        var rng = SeededRNG(seed: seed)
        let x = randn(m * k, rng: &rng)
        var yd = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
            yd.withUnsafeMutableBufferPointer { DenseWeights(w).multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: .serial) }
        }
        let absSums = Ref.matmul(x.map(abs), lda: k, transA: false, w.storage.map(abs), ldb: k, transB: true, m: m, n: n, k: k)
        return DenseCase(x: x, dense: yd, absSums: absSums)
    }

    func sparseProduct(_ csr: CSRWeights, _ c: DenseCase, m: Int) -> [Float] {
        // NaN-filled output: every element must be written.
        var ys = [Float](repeating: .nan, count: c.dense.count)
        c.x.withUnsafeBufferPointer { xp in
            ys.withUnsafeMutableBufferPointer { csr.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: .serial) }
        }
        return ys
    }

    func testMultiplyEqualsDenseOnTheSamePrunedMatrix() {
        for (n, k) in [(37, 53), (130, 300), (1, 17)] {
            for s in [0, 0.5, 0.9, 0.99, 1.0] {
                let w = prunedMatrix(n, k, sparsity: s, emptyRows: true, seed: UInt64(n * 1000 + k) &+ UInt64(s * 100))
                // 1 and 2: the gather kernel; 3: a masked tile only; 64: one full tile;
                // 300: two blocks of ≤ 256 rows, full tiles and tails.
                for m in [1, 2, 3, 64, 300] {
                    let c = denseCase(w, m: m, seed: UInt64(m))
                    for narrow in [true, false] {
                        let csr = CSRWeights(w, narrowIndices: narrow)
                        for isa in paths {
                            VectorISA.select(isa)
                            for threads in [1, 2, 3] {
                                let context = ExecutionContext(threads: threads)
                                assertSame(sparseProduct(csr, c, m: m), c.dense, absSums: c.absSums, k: k,
                                           "multiply N=\(n) K=\(k) s=\(s) M=\(m) \(narrow ? "u16" : "i32") \(isa) \(threads) thr")
                            }
                        }
                    }
                }
            }
        }
    }

    func testBothBatchPathsAgree() {
        let w = prunedMatrix(70, 90, sparsity: 0.8, emptyRows: true, seed: 3)
        var csr = CSRWeights(w)
        for m in [2, 3, 17, 64] {
            let c = denseCase(w, m: m, seed: 9)
            csr.batchPath = .transposed
            assertSame(sparseProduct(csr, c, m: m), c.dense, absSums: c.absSums, k: 90, "transposed M=\(m)")
            csr.batchPath = .gatherPerRow
            assertSame(sparseProduct(csr, c, m: m), c.dense, absSums: c.absSums, k: 90, "gather per row M=\(m)")
            csr.batchPath = .automatic
            assertSame(sparseProduct(csr, c, m: m), c.dense, absSums: c.absSums, k: 90, "automatic M=\(m)")
        }
    }

    func testMultiplyLeftEqualsDense() {
        for (n, k) in [(37, 53), (16, 27), (65, 144)] {
            for s in [0, 0.5, 0.9, 0.99, 1.0] {
                let w = prunedMatrix(n, k, sparsity: s, emptyRows: true, seed: UInt64(n + k) &+ UInt64(s * 100))
                // 1 (the matvec kernel), 3 and 7 (tails only), 70 and 130 (full tiles + tails of every width).
                for cols in [1, 3, 7, 70, 130] {
                    var rng = SeededRNG(seed: UInt64(cols))
                    let b = randn(k * cols, rng: &rng)
                    var yd = [Float](repeating: .nan, count: n * cols)
                    b.withUnsafeBufferPointer { bp in
                        yd.withUnsafeMutableBufferPointer { DenseWeights(w).multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: .serial) }
                    }
                    let absSums = Ref.matmul(w.storage.map(abs), lda: k, transA: false, b.map(abs), ldb: cols, transB: false,
                                             m: n, n: cols, k: k)
                    for narrow in [true, false] {
                        let csr = CSRWeights(w, narrowIndices: narrow)
                        for isa in paths {
                            VectorISA.select(isa)
                            for threads in [1, 2, 3] {
                                let context = ExecutionContext(threads: threads)
                                var ys = [Float](repeating: .nan, count: n * cols)
                                b.withUnsafeBufferPointer { bp in
                                    ys.withUnsafeMutableBufferPointer { csr.multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: context) }
                                }
                                assertSame(ys, yd, absSums: absSums, k: k,
                                           "multiplyLeft N=\(n) K=\(k) s=\(s) cols=\(cols) \(narrow ? "u16" : "i32") \(isa) \(threads) thr")
                            }
                        }
                    }
                }
            }
        }
    }

    func testStorageIsExactAndBytesAreHonest() {
        let w = prunedMatrix(40, 33, sparsity: 0.7, emptyRows: true, seed: 21)
        let nnz = w.storage.filter { $0 != 0 }.count
        let narrow = CSRWeights(w)
        XCTAssertEqual(narrow.dense(), w, "dense() gives back the matrix bit for bit")
        XCTAssertEqual(narrow.nonzeroCount, nnz)
        XCTAssertEqual(narrow.byteCount, 41 * 4 + nnz * 2 + nnz * 4, "row pointers + UInt16 columns + fp32 values")
        guard case .uint16 = narrow.columns else { return XCTFail("K = 33 takes UInt16 indices") }
        let wide = CSRWeights(w, narrowIndices: false)
        XCTAssertEqual(wide.dense(), w)
        XCTAssertEqual(wide.byteCount, 41 * 4 + nnz * 4 + nnz * 4)
        XCTAssertEqual(narrow.sparsity, 1 - Double(nnz) / Double(40 * 33), accuracy: 1e-12)

        let empty = CSRWeights(Tensor(zeros: [5, 8]))
        XCTAssertEqual(empty.nonzeroCount, 0)
        XCTAssertEqual(empty.byteCount, 6 * 4)
        XCTAssertEqual(empty.dense(), Tensor(zeros: [5, 8]))

        // Past 65536 columns a UInt16 cannot name a column.
        var long = Tensor(zeros: [2, 70_000])
        long.storage[69_999] = 1
        long.storage[70_000 + 65_536] = 2
        let csr = CSRWeights(long)
        guard case .int32 = csr.columns else { return XCTFail("K = 70000 needs Int32 indices") }
        XCTAssertEqual(csr.dense(), long)
        var x = [Float](repeating: 0, count: 70_000)
        x[69_999] = 3
        x[65_536] = 5
        var y = [Float](repeating: .nan, count: 2)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { csr.multiply(xp.baseAddress!, rows: 1, into: $0.baseAddress!, in: .serial) } }
        XCTAssertEqual(y, [3, 10])
    }
}
