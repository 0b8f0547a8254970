// How a forward pass may run: how many threads, on which worker team, and whether a profiler
// records its phases. Callers build one and pass it down through models, layers and weight
// formats; nothing reads a process-wide thread count. infbench owns every thread of a forward
// pass: its own loops (GEMM panels, attention heads, elementwise kernels) and the OpenBLAS calls
// it makes (`blasGEMM`) split over the worker team, with OpenBLAS on one thread. OpenBLAS's own
// threads busy-wait after each call (up to ~0.1 s), and beside the team they made 3 busy threads
// on 2 cores: a third of MiniLM's 2-thread batch-1 runs took the 1-thread time.
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
        team.run(chunks) { c in body(c, Self.chunk(c, of: chunks, count: count)) }
    }

    /// Chunk c of `chunks` near-equal contiguous ranges of 0..<count.
    private static func chunk(_ c: Int, of chunks: Int, count: Int) -> Range<Int> {
        (c * count / chunks)..<((c + 1) * count / chunks)
    }

    /// `forChunks` for bodies that run layers or GEMMs themselves (a conv's im2col + GEMM per image):
    /// each chunk owns one thread and gets a one-thread context without the profiler (the caller
    /// measures the region as one phase), and OpenBLAS runs on one thread inside the region.
    /// With one chunk, `body` runs on the calling thread with this context. The chunks run on the
    /// team like every other region: on GCD (an earlier version) the team's worker still spun beside
    /// GCD's two threads after each depthwise or pooling job, and efficientnet-lite0 b8 at 2 threads
    /// took 111–113 ms a pass against 96–97 ms on the team, same binary, alternating runs.
    public func forChunksOwningThreads(_ count: Int, minChunk: Int = 1,
                                       _ body: (_ chunk: Int, _ range: Range<Int>, _ context: ExecutionContext) -> Void) {
        let chunks = min(threads, count / max(minChunk, 1))
        guard chunks > 1 else {
            if count > 0 { body(0, 0..<count, self) }
            return
        }
        BLAS.withThreads(1) { split(count, into: chunks) { c, r in body(c, r, .serial) } }
    }

    /// Runs `body` with OpenBLAS on one thread (restored afterwards): every OpenBLAS call a forward
    /// pass makes runs inside here or `blasGEMM`, so OpenBLAS never starts threads of its own.
    public func withSingleThreadedBLAS<R>(_ body: () -> R) -> R { BLAS.withThreads(1, body) }

    /// Splits y (m, N) = x · Wᵀ for a kernel on W packed in panels of output features (fp32, bf16):
    /// one thread below `minMultiplyAddsToSplit` (a hand-off costs more); contiguous rows when every thread
    /// gets `minRowsPerThread`; otherwise runs of whole panels, so reading W — the cost of a small
    /// batch — is shared. Each output is summed by one call either way: identical at any thread count.
    public func forPackedGEMM(rows m: Int, panels: Int, multiplyAdds: Int, minRowsPerThread: Int,
                              rows: (Range<Int>) -> Void, panels panelRange: (Range<Int>) -> Void) {
        guard threads > 1, multiplyAdds >= Self.minMultiplyAddsToSplit else {
            rows(0..<m)
            return
        }
        if m < 2 * minRowsPerThread && panels > 1 {
            forChunks(panels) { _, r in panelRange(r) }
        } else {
            forChunks(m, minChunk: minRowsPerThread) { _, r in rows(r) }
        }
    }

    /// Runs an OpenBLAS product with output (rows, columns) as single-threaded calls on parts of it,
    /// `gemm(rowRange, columnRange)`, split over the team: by rows when every thread gets
    /// `minRowsPerThread`, else by runs of 64 columns (each call then reads only its part of the
    /// weights, the cost of a small batch); one call below `minMultiplyAddsToSplit`.
    public func blasGEMM(rows m: Int, columns n: Int, multiplyAdds: Int, minRowsPerThread: Int = 256,
                         _ gemm: (_ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        withSingleThreadedBLAS {
            guard threads > 1, multiplyAdds >= Self.minMultiplyAddsToSplit else {
                gemm(0..<m, 0..<n)
                return
            }
            if m >= 2 * minRowsPerThread {
                forChunks(m, minChunk: minRowsPerThread) { _, r in gemm(r, 0..<n) }
            } else {
                let block = 64, blocks = (n + block - 1) / block
                forChunks(blocks) { _, r in gemm(0..<m, (r.lowerBound * block)..<min(n, r.upperBound * block)) }
            }
        }
    }

    /// Multiply–adds below which a product (packed fp32, bf16, OpenBLAS) runs on one thread: a hand-off
    /// costs microseconds, as long as ~2M multiply–adds take on one core here (measured for the bf16
    /// kernel: M = 1, N = K = 384 took 2.9 µs on one thread and 7.9 on two).
    public static let minMultiplyAddsToSplit = 1 << 21

    /// Jobs that had to wake a sleeping worker (the rest found it spinning), for tests and diagnostics.
    public var wakeups: Int { team?.wakeups ?? 0 }

    /// Regions that split over more than one thread, for tests (did it really split?).
    public var splitJobs: Int { team?.jobs ?? 0 }
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
    var jobs: Int { Int(ib_pool_jobs(pool)) }
}
