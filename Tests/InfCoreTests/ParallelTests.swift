// infbench's own threading: chunks cover every index once, and every layer that
// splits work over threads (row-split GEMM, attention heads, GELU, LayerNorm)
// gives the single-thread result.
import Foundation
import InfCore
import XCTest

final class ParallelTests: XCTestCase {
    override func tearDown() {
        Parallel.setThreads(1)
        super.tearDown()
    }

    func testChunksCoverEveryIndexOnce() {
        for threads in [1, 2, 3, 7] {
            Parallel.setThreads(threads)
            for count in [0, 1, 2, 5, 100, 1001] {
                var seen = [Int](repeating: 0, count: count)
                var chunkIds = Set<Int>()
                let lock = NSLock()
                Parallel.forChunks(count) { chunk, range in
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

    func testChunksOwningThreadsRunNestedWorkSeriallyAndRestore() {
        Parallel.setThreads(2)
        let profiler = Profiler()
        Profiler.active = profiler
        defer { Profiler.active = nil }
        let lock = NSLock()
        var chunks = Set<Int>(), inside = [(threads: Int, blas: Int, profiling: Bool)]()
        Parallel.forChunksOwningThreads(10) { chunk, _ in
            let seen = (Parallel.threads, BLAS.threads, Profiler.active != nil)
            lock.withLock { chunks.insert(chunk); inside.append(seen) }
        }
        XCTAssertEqual(chunks, [0, 1], "two chunks at 2 threads")
        XCTAssertTrue(inside.allSatisfy { $0.threads == 1 && $0.blas == 1 && !$0.profiling },
                      "inside: one thread each, OpenBLAS on one, profiler off: \(inside)")
        XCTAssertEqual(Parallel.threads, 2)
        XCTAssertEqual(BLAS.threads, 2)
        XCTAssertTrue(Profiler.active === profiler)
        // One chunk: nothing is changed.
        var serial = (0, 0)
        Parallel.forChunksOwningThreads(10, minChunk: 6) { _, _ in serial = (Parallel.threads, BLAS.threads) }
        XCTAssertEqual(serial.0, 2)
        XCTAssertEqual(serial.1, 2)
    }

    /// Runs `body` at 1 and at 3 threads and compares. Row splits change no sum's order,
    /// but OpenBLAS may block a smaller GEMM differently, so allow fp32 reassociation.
    func assertSameAtThreads<T>(_ label: String, _ body: () -> T, _ values: (T) -> [Float]) {
        Parallel.setThreads(1)
        let one = values(body())
        Parallel.setThreads(3)
        let three = values(body())
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
        assertSameAtThreads("linear", { () -> Tensor in var y = Tensor(zeros: [0]); linear(x, into: &y); return y }, \.storage)

        let attention = MultiHeadAttention(
            qkv: Linear(weight: Tensor.randomNormal([144, 48], std: 0.3, rng: &rng), bias: Tensor.randomNormal([144], std: 0.1, rng: &rng)),
            output: Linear(weight: Tensor.randomNormal([48, 48], std: 0.2, rng: &rng), bias: nil), heads: 4)
        var mask = Tensor(shape: [11, 100]) { _ in 1 }
        for t in 60..<100 { mask[flat: 3 * 100 + t] = 0 }
        for causal in [false, true] {
            assertSameAtThreads("attention causal=\(causal)", { () -> Tensor in
                var y = Tensor(zeros: [0])
                var ws = MultiHeadAttention.Workspace()
                attention(x, keyMask: mask, causal: causal, into: &y, workspace: &ws)
                return y
            }, \.storage)
        }

        assertSameAtThreads("gelu", { () -> Tensor in var y = x; gelu(&y); return y }, \.storage)
        let norm = LayerNorm(weight: Tensor.randomNormal([48], std: 1, rng: &rng), bias: Tensor.randomNormal([48], std: 1, rng: &rng), eps: 1e-5)
        assertSameAtThreads("layernorm", { () -> Tensor in var y = Tensor(zeros: [0]); norm(x, residual: x, into: &y); return y }, \.storage)
    }
}
