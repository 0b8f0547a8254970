// How a forward pass may run: how many threads, on which worker team, and whether a profiler
// records its phases. Callers build one and pass it down through models, layers and weight
// formats; nothing reads a process-wide thread count. One count serves OpenBLAS (inside each
// GEMM it runs) and infbench's own loops (GEMM panels, attention heads, elementwise kernels), and
// the two never run at once: OpenBLAS gets this context's count only around its own calls
// (`withBLASThreads`), and loops that call BLAS from several threads switch it to one meanwhile,
// so 2 cores never see 4 busy threads.
import CKernels

public final class ExecutionContext: @unchecked Sendable {
    /// Threads for OpenBLAS and infbench's loops (≥ 1).
    public let threads: Int
    /// Records per-phase wall time when set (`infbench run --profile`).
    public let profiler: Profiler?
    private let team: WorkerTeam?

    /// One thread, no profiler: what tests and single-threaded tools pass.
    public static let serial = ExecutionContext(threads: 1)

    /// A context on `threads` threads: the caller plus threads − 1 workers started now.
    public init(threads: Int, profiler: Profiler? = nil) {
        precondition(threads >= 1, "thread count must be ≥ 1")
        self.threads = threads
        self.profiler = profiler
        team = threads > 1 ? WorkerTeam(threads: threads) : nil
    }

    private init(threads: Int, profiler: Profiler?, team: WorkerTeam?) {
        (self.threads, self.profiler, self.team) = (threads, profiler, team)
    }

    /// The same threads and workers, recording into `profiler` (nil: not profiling).
    public func profiling(_ profiler: Profiler?) -> ExecutionContext {
        ExecutionContext(threads: threads, profiler: profiler, team: team)
    }

    /// Runs `body` as phase `phase` of the profile, when profiling. Call it from the thread that
    /// runs the forward pass, around whole phases (never inside `forChunks` bodies, whose chunks
    /// get a context without the profiler): wall time is what the phases must add up to.
    @inlinable @inline(__always)
    public func measure<R>(_ phase: String, _ body: () throws -> R) rethrows -> R {
        guard let profiler else { return try body() }
        return try profiler.measure(phase, body)
    }

    /// Runs `body(chunk, range)` over 0..<count split into at most `threads` contiguous chunks,
    /// concurrently; `chunk` (0..<threads) indexes per-chunk scratch (a chunk runs on one thread at
    /// a time, whichever claims it). Serial when one thread is set
    /// or there are fewer than 2·minChunk items: a hand-off costs more than a tiny loop.
    public func forChunks(_ count: Int, minChunk: Int = 1, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        split(count, into: min(threads, count / max(minChunk, 1)), body)
    }

    /// body(c, range c of `chunks` near-equal contiguous ranges of 0..<count), concurrently.
    private func split(_ count: Int, into chunks: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard chunks > 1, let team else {
            if count > 0 { body(0, 0..<count) }
            return
        }
        team.run(chunks) { c in body(c, (c * count / chunks)..<((c + 1) * count / chunks)) }
    }

    /// `forChunks` for bodies that run layers or GEMMs themselves (a conv's im2col + GEMM per image):
    /// each chunk owns one thread and gets a one-thread context without the profiler (the caller
    /// measures the region as one phase), and OpenBLAS runs on one thread inside the region.
    /// With one chunk, `body` runs on the calling thread with this context.
    public func forChunksOwningThreads(_ count: Int, minChunk: Int = 1,
                                       _ body: (_ chunk: Int, _ range: Range<Int>, _ context: ExecutionContext) -> Void) {
        let chunks = min(threads, count / max(minChunk, 1))
        guard chunks > 1 else {
            if count > 0 { body(0, 0..<count, self) }
            return
        }
        BLAS.withThreads(1) { split(count, into: chunks) { c, r in body(c, r, .serial) } }
    }

    /// Runs `body` with OpenBLAS on this context's thread count, restored afterwards: every
    /// OpenBLAS call an inference path makes goes through here or through `withSingleThreadedBLAS`.
    public func withBLASThreads<R>(_ body: () -> R) -> R { BLAS.withThreads(threads, body) }

    /// Runs `body` with OpenBLAS on one thread, for loops that call BLAS from several threads at once.
    public func withSingleThreadedBLAS<R>(_ body: () -> R) -> R { BLAS.withThreads(1, body) }

    /// Splits y (m, N) = x · Wᵀ for a kernel on W packed in panels of output features (fp32, bf16):
    /// one thread below `minMultiplyAdds` (a hand-off costs more); contiguous rows when every thread
    /// gets `minRowsPerThread`; otherwise runs of whole panels, so reading W — the cost of a small
    /// batch — is shared. Each output is summed by one call either way: identical at any thread count.
    public func forPackedGEMM(rows m: Int, panels: Int, multiplyAdds: Int, minRowsPerThread: Int, minMultiplyAdds: Int,
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

    /// Runs an OpenBLAS GEMM over `rows` output rows: with many rows, infbench splits them over its
    /// threads, each calling single-threaded sgemm on its slice; with few, one call lets OpenBLAS
    /// thread it. Measured on 2 cores (MiniLM, 128 tokens): splitting rows took batch 32 from 79% to
    /// 91% of the sgemm roofline (OpenBLAS's idle workers spin and slow the elementwise loops between
    /// GEMMs), but made batch 1 (128 rows) 19% slower.
    public func gemmRows(_ rows: Int, minRowsPerThread: Int = 256, _ gemm: (Range<Int>) -> Void) {
        guard threads > 1, rows >= 2 * minRowsPerThread else {
            withBLASThreads { gemm(0..<rows) }
            return
        }
        withSingleThreadedBLAS { forChunks(rows, minChunk: minRowsPerThread) { _, r in gemm(r) } }
    }

    /// Jobs that had to wake a sleeping worker (the rest found it spinning), for tests and diagnostics.
    public var wakeups: Int { team?.wakeups ?? 0 }
}

/// The C worker team (CKernels/thread_pool.c): threads − 1 workers that spin between jobs for
/// `spinMicroseconds`, then sleep. Measured here (MiniLM 1×16, 2 threads): with GCD's
/// concurrentPerform every GEMM's hand-off woke an idle vCPU, and 2 threads ran 1.28× one thread.
final class WorkerTeam: @unchecked Sendable {
    /// Longer than the gaps inside a forward pass (LayerNorm, softmax, the harness between runs),
    /// short enough that an idle team gives its cores back at once.
    static let spinMicroseconds: Int32 = 500

    private let pool: OpaquePointer

    init(threads: Int) {
        guard let pool = ib_pool_create(Int32(threads), Self.spinMicroseconds) else {
            fatalError("could not start \(threads - 1) worker threads")
        }
        self.pool = pool
    }

    deinit { ib_pool_destroy(pool) }

    /// body(i) once for each i in 0..<n; the caller and the workers claim indices as they come free.
    func run(_ n: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var job = body
            withUnsafeMutablePointer(to: &job) { p in
                ib_pool_run(pool, Int32(n), { context, i in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
                }, p)
            }
        }
    }

    var wakeups: Int { Int(ib_pool_wakeups(pool)) }
}
