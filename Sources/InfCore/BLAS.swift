// The Swift-shaped wrapper around OpenBLAS. This is the only Swift file that
// imports CBLAS; everything else calls `BLAS.*`.
import CBLAS
import Foundation

public enum BLAS {
    /// C = alpha * op(A) * op(B) + beta * C, row-major.
    /// op(A) is (m, k), op(B) is (k, n), C is (m, n); lda/ldb/ldc are row strides
    /// of the stored matrices, so strided views (a head inside a (T, 3C) row)
    /// need no copy. Most of infbench's running time is spent here.
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int,
                             alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    /// y = alpha · op(A) · x + beta · y, row-major A (m, n) with row stride lda; op(A) is (m, n)
    /// or its transpose. One pass over A: the right call for a single activation row, where
    /// sgemm would first copy (pack) the whole weight matrix.
    @inlinable
    public static func sgemv(transA: Bool = false, m: Int, n: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                             beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, blasint(m), blasint(n),
                    alpha, a, blasint(lda), x, 1, beta, y, 1)
    }

    /// Eigen-decomposition of a symmetric (n, n) matrix (LAPACK ssyev): eigenvalues ascending,
    /// and eigenvectors as the rows of the returned (n, n) matrix, in the same order.
    /// Nil if LAPACK reports a failure.
    public static func symmetricEigen(_ a: [Float], n: Int) -> (values: [Float], vectors: [Float])? {
        precondition(a.count == n * n, "symmetricEigen needs an (n, n) matrix")
        // Column-major input: a symmetric matrix is its own transpose; on return column j holds
        // eigenvector j, which read row-major is row j.
        var m = a, w = [Float](repeating: 0, count: n)
        var n32 = Int32(n), lwork = Int32(-1), info = Int32(0)
        var query: Float = 0
        ssyev_("V", "U", &n32, &m, &n32, &w, &query, &lwork, &info)
        guard info == 0 else { return nil }
        lwork = Int32(query)
        var work = [Float](repeating: 0, count: max(1, Int(lwork)))
        ssyev_("V", "U", &n32, &m, &n32, &w, &work, &lwork, &info)
        return info == 0 ? (w, m) : nil
    }

    /// Number of threads OpenBLAS uses now. OpenBLAS keeps one count per process: change it only
    /// through `withThreads`, which restores it.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS on `n` threads and restores the count it found (so regions nest).
    /// Setting the count it already has is skipped: most calls change nothing.
    public static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let saved = threads
        if saved != n { openblas_set_num_threads(Int32(n)) }
        defer { if saved != n { openblas_set_num_threads(Int32(saved)) } }
        return try body()
    }

    /// Build configuration string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64".
    public static var config: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p).trimmingCharacters(in: .whitespaces)
    }

    /// The kernel family OpenBLAS selected for this CPU at run time, e.g. "Cooperlake".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Processors OpenBLAS sees.
    public static var processors: Int { Int(openblas_get_num_procs()) }
}
