// infbench's own threading, through an execution context: chunks cover every index once on the
// worker team, nested work runs serially with OpenBLAS on one thread, OpenBLAS's count is
// restored, and every layer that splits work over threads (row-split GEMM, attention heads,
// GELU, LayerNorm) gives the single-thread result.
import Foundation
import InfCore
import XCTest

final class ExecutionContextTests: XCTestCase {
    func testChunksCoverEveryIndexOnce() {
        for threads in [1, 2, 3, 7] {
            let context = ExecutionContext(threads: threads)
            for count in [0, 1, 2, 5, 100, 1001] {
                var seen = [Int](repeating: 0, count: count)
                var chunkIds = Set<Int>()
                let lock = NSLock()
                context.forChunks(count) { chunk, range in
                    lock.withLock {
                        chunkIds.insert(chunk)
                        for i in range { seen[i] += 1 }
                    }
                }
                XCTAssertEqual(seen, [Int](repeating: 1, count: count), "threads \(threads), count \(count)")
                XCTAssertTrue(chunkIds.allSatisfy { $0 < threads }, "chunk ids index per-thread scratch")
            }
        }
    }

    /// The worker team runs jobs back to back (no lost or doubled chunk), from idle as well as from
    /// spinning workers, and the workers do take chunks (which ones depends on the scheduler: the
    /// caller runs whatever no awake worker claimed).
    func testWorkerTeamRunsEveryJobOnce() {
        let context = ExecutionContext(threads: 3)
        let lock = NSLock()
        var threadsSeen = Set<pthread_t>()
        for job in 0..<2000 {
            var hits = [Int](repeating: 0, count: 3)
            context.forChunks(3) { chunk, _ in
                let me = pthread_self()
                spin(20_000) // 20 µs: long enough for a spinning worker to claim a chunk
                lock.withLock { hits[chunk] += 1; threadsSeen.insert(me) }
            }
            XCTAssertEqual(hits, [1, 1, 1], "job \(job)")
            if job == 1000 { usleep(20_000) } // longer than the workers spin: they go to sleep
        }
        XCTAssertGreaterThan(threadsSeen.count, 1, "workers took chunks")
        XCTAssertGreaterThanOrEqual(context.wakeups, 1, "the pause woke sleeping workers")
    }

    func spin(_ ns: UInt64) {
        let start = monotonicNanoseconds()
        while monotonicNanoseconds() - start < ns {}
    }

    func testChunksOwningThreadsRunNestedWorkSeriallyAndRestore() {
        let profiler = Profiler()
        let context = ExecutionContext(threads: 2).profiling(profiler)
        BLAS.withThreads(2) {
            let lock = NSLock()
            var chunks = Set<Int>(), inside = [(threads: Int, blas: Int, profiling: Bool)]()
            context.forChunksOwningThreads(10) { chunk, _, one in
                let seen = (one.threads, BLAS.threads, one.profiler != nil)
                lock.withLock { chunks.insert(chunk); inside.append(seen) }
            }
            XCTAssertEqual(chunks, [0, 1], "two chunks at 2 threads")
            XCTAssertTrue(inside.allSatisfy { $0.threads == 1 && $0.blas == 1 && !$0.profiling },
                          "inside: one thread each, OpenBLAS on one, profiler off: \(inside)")
            XCTAssertEqual(BLAS.threads, 2, "OpenBLAS's count is restored")
            // One chunk: the body gets this context, nothing changed.
            var serial = (0, 0)
            context.forChunksOwningThreads(10, minChunk: 6) { _, _, one in serial = (one.threads, BLAS.threads) }
            XCTAssertEqual(serial.0, 2)
            XCTAssertEqual(serial.1, 2)
        }
    }

    /// OpenBLAS runs on one thread inside a context's regions and gets its count back after, nested or not.
    func testBLASThreadsAreScoped() {
        BLAS.withThreads(2) {
            ExecutionContext(threads: 2).withSingleThreadedBLAS {
                XCTAssertEqual(BLAS.threads, 1)
                ExecutionContext.serial.withSingleThreadedBLAS { XCTAssertEqual(BLAS.threads, 1) }
                XCTAssertEqual(BLAS.threads, 1)
            }
            XCTAssertEqual(BLAS.threads, 2)
        }
    }

    /// OpenBLAS products split into single-threaded calls give what one call gives: by rows (≥ 512),
    /// by runs of 64 output columns (fewer rows, the column count not a multiple of 64), and the
    /// one-row GEMV split by output features; the conv-shaped W · b likewise.
    func testOpenBLASProductsSplitOverTheTeam() {
        var rng = SeededRNG(seed: 5)
        for (m, n, k) in [(1, 3000, 700), (37, 1000, 300), (1100, 200, 40)] {
            let w = DenseWeights(Tensor.randomNormal([n, k], std: 0.1, rng: &rng))
            let x = Tensor.randomNormal([m, k], std: 1, rng: &rng)
            XCTAssertGreaterThanOrEqual(m * n * k, ExecutionContext.minMultiplyAddsToSplit, "(\(m), \(n), \(k)) must split")
            func product(_ context: ExecutionContext) -> [Float] {
                var y = [Float](repeating: .nan, count: m * n)
                x.storage.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { w.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: context) }
                }
                return y
            }
            func left(_ context: ExecutionContext) -> [Float] { // W (n, k) · xᵀ-shaped b (k, m)
                var y = [Float](repeating: .nan, count: n * m)
                x.storage.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { w.multiplyLeft(xp.baseAddress!, columns: m, into: $0.baseAddress!, in: context) }
                }
                return y
            }
            let two = ExecutionContext(threads: 2)
            for (name, f) in [("x·Wᵀ", product), ("W·b", left)] {
                let one = f(.serial), split = f(two)
                XCTAssertFalse(split.contains { $0.isNaN }, "(\(m), \(n), \(k)) \(name): every output written")
                let scale = one.map(abs).max()!
                let diff = zip(one, split).map { abs($0 - $1) }.max()!
                // Each output is one dot product of k terms either way; only OpenBLAS's blocking of a
                // narrower call may reorder it: within fp32 reassociation of k terms.
                XCTAssertLessThanOrEqual(diff, Float(k) * 1.2e-7 * scale, "(\(m), \(n), \(k)) \(name): max diff \(diff)")
            }
            BLAS.withThreads(2) {
                _ = product(two)
                XCTAssertEqual(BLAS.threads, 2, "OpenBLAS's count is restored after a split product")
            }
        }
    }

    /// Runs `body` at 1 and at 3 threads and compares. Row splits change no sum's order,
    /// but OpenBLAS may block a smaller GEMM differently, so allow fp32 reassociation.
    func assertSameAtThreads<T>(_ label: String, _ body: (ExecutionContext) -> T, _ values: (T) -> [Float]) {
        let one = values(body(.serial))
        let three = values(body(ExecutionContext(threads: 3)))
        XCTAssertEqual(one.count, three.count)
        let scale = one.map { abs($0) }.max() ?? 1
        let diff = zip(one, three).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(diff, 1e-5 * max(scale, 1), "\(label): max diff \(diff)")
    }

    func testLayersGiveTheSingleThreadResult() {
        var rng = SeededRNG(seed: 21)
        // 1100 rows: enough for the row-split GEMM path at 3 threads (≥ 2·256 rows).
        let x = Tensor.randomNormal([11, 100, 48], std: 1, rng: &rng)
        let linear = Linear(weight: Tensor.randomNormal([40, 48], std: 0.2, rng: &rng),
                            bias: Tensor.randomNormal([40], std: 0.1, rng: &rng))
        assertSameAtThreads("linear", { context -> Tensor in var y = Tensor(zeros: [0]); linear(x, into: &y, in: context); return y }, \.storage)

        let attention = MultiHeadAttention(
            qkv: Linear(weight: Tensor.randomNormal([144, 48], std: 0.3, rng: &rng), bias: Tensor.randomNormal([144], std: 0.1, rng: &rng)),
            output: Linear(weight: Tensor.randomNormal([48, 48], std: 0.2, rng: &rng), bias: nil), heads: 4)
        var mask = Tensor(shape: [11, 100]) { _ in 1 }
        for t in 60..<100 { mask[flat: 3 * 100 + t] = 0 }
        for causal in [false, true] {
            assertSameAtThreads("attention causal=\(causal)", { context -> Tensor in
                var y = Tensor(zeros: [0])
                var ws = MultiHeadAttention.Workspace()
                attention(x, keyMask: mask, causal: causal, into: &y, workspace: &ws, in: context)
                return y
            }, \.storage)
        }

        assertSameAtThreads("gelu", { context -> Tensor in var y = x; gelu(&y, in: context); return y }, \.storage)
        let norm = LayerNorm(weight: Tensor.randomNormal([48], std: 1, rng: &rng), bias: Tensor.randomNormal([48], std: 1, rng: &rng), eps: 1e-5)
        assertSameAtThreads("layernorm", { context -> Tensor in var y = Tensor(zeros: [0]); norm(x, residual: x, into: &y, in: context); return y }, \.storage)
    }
}
