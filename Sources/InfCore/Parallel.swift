// Who owns the threads. One count serves both OpenBLAS (inside each GEMM) and
// infbench's own loops (elementwise kernels, attention heads), and the two never
// run at once: the loops run between BLAS calls, and loops that call BLAS from
// several threads switch OpenBLAS to one thread meanwhile, so 2 cores never
// see 4 busy threads.
import Dispatch

public enum Parallel {
    /// Threads for OpenBLAS and infbench's loops; set with `setThreads`.
    nonisolated(unsafe) public private(set) static var threads = 1

    /// Sets the thread count for OpenBLAS and for infbench's own loops.
    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "thread count must be ≥ 1")
        threads = n
        BLAS.threads = n
    }

    /// Runs `body(chunk, range)` over 0..<count split into at most `threads` contiguous
    /// chunks, concurrently; `chunk` (0..<threads) indexes per-thread scratch.
    /// Serial when one thread is set or there are fewer than 2·minChunk items: waking a
    /// worker costs microseconds, more than a small loop.
    public static func forChunks(_ count: Int, minChunk: Int = 1, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let chunks = min(threads, count / max(minChunk, 1))
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, (c * count / chunks)..<((c + 1) * count / chunks))
        }
    }

    /// Runs `body` with OpenBLAS on one thread, for loops that call BLAS from several threads at once.
    /// OpenBLAS's count is restored to what it was (the region may sit inside another one-thread region).
    public static func withSingleThreadedBLAS<R>(_ body: () -> R) -> R {
        guard threads > 1 else { return body() }
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        return body()
    }

    /// `forChunks` for bodies that call GEMMs or other split loops themselves (a conv's
    /// im2col + GEMM per image): each chunk owns one thread, so inside the region OpenBLAS runs
    /// on one thread and `threads` reads 1 (a weight format's own row split runs serially on its
    /// chunk instead of waking more workers), and the profiler is off (it is not thread-safe:
    /// the caller measures the region as one phase). All three are restored before returning.
    /// With one chunk, `body` runs on the calling thread with nothing changed.
    public static func forChunksOwningThreads(_ count: Int, minChunk: Int = 1,
                                              _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let chunks = min(threads, count / max(minChunk, 1))
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        // OpenBLAS's count is restored to what it was, not to `threads`: the region may sit
        // inside one that already runs OpenBLAS on one thread.
        let saved = threads, savedBLAS = BLAS.threads, profiler = Profiler.active
        BLAS.threads = 1
        threads = 1
        Profiler.active = nil
        defer {
            Profiler.active = profiler
            threads = saved
            BLAS.threads = savedBLAS
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, (c * count / chunks)..<((c + 1) * count / chunks))
        }
    }

    /// Splits y (m, N) = x · Wᵀ for a kernel on W packed in panels of output features (fp32, bf16):
    /// one thread below `minMultiplyAdds` (a wake-up costs more); contiguous rows when every thread
    /// gets `minRowsPerThread`; otherwise runs of whole panels, so reading W — the cost of a small
    /// batch — is shared. Each output is summed by one call either way: identical at any thread count.
    public static func forPackedGEMM(rows m: Int, panels: Int, multiplyAdds: Int, minRowsPerThread: Int, minMultiplyAdds: Int,
                                     rows: (Range<Int>) -> Void, panels panelRange: (Range<Int>) -> Void) {
        guard threads > 1, multiplyAdds >= minMultiplyAdds else {
            rows(0..<m)
            return
        }
        if m < 2 * minRowsPerThread && panels > 1 {
            forChunks(panels) { _, r in panelRange(r) }
        } else {
            forChunks(m, minChunk: minRowsPerThread) { _, r in rows(r) }
        }
    }

    /// Runs a GEMM over `rows` output rows: with many rows, infbench splits them over its
    /// threads, each calling single-threaded sgemm on its slice; with few, one call lets
    /// OpenBLAS thread it. Measured on 2 cores (MiniLM, 128 tokens): splitting rows took
    /// batch 32 from 79% to 91% of the sgemm roofline (OpenBLAS's idle workers spin and
    /// slow the elementwise loops between GEMMs), but made batch 1 (128 rows) 19% slower.
    public static func gemmRows(_ rows: Int, minRowsPerThread: Int = 256, _ gemm: (Range<Int>) -> Void) {
        guard threads > 1, rows >= 2 * minRowsPerThread else {
            gemm(0..<rows)
            return
        }
        withSingleThreadedBLAS { forChunks(rows, minChunk: minRowsPerThread) { _, r in gemm(r) } }
    }
}
