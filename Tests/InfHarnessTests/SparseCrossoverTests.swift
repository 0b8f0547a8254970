// The sparse/dense crossover grid: on tiny shapes it returns one sensible row per
// (shape, sparsity), renders as a table and survives JSON. With INFBENCH_CROSSOVER=1
// it also measures the MiniLM shapes (run it on a release build; see the test).
import Foundation
import InfCore
import InfHarness
import XCTest

final class SparseCrossoverTests: XCTestCase {
    let quick = MeasurementPolicy(minSeconds: 0.002, minRuns: 5, maxWarmupRuns: 3, maxWarmupSeconds: 0.05)

    func testTinyGridGivesSensibleRows() throws {
        Parallel.setThreads(1)
        let shapes = [(m: 1, n: 24, k: 40), (m: 5, n: 33, k: 20)]
        let sparsities = [0.0, 0.9, 1.0]
        let rows = measureSparseCrossover(shapes: shapes, sparsities: sparsities, threads: 2, policy: quick, seed: 3)
        XCTAssertEqual(Parallel.threads, 1, "the thread count is restored")
        XCTAssertEqual(rows.count, 6)
        for (i, r) in rows.enumerated() {
            let shape = shapes[i / 3]
            XCTAssertEqual([r.m, r.n, r.k], [shape.m, shape.n, shape.k])
            XCTAssertEqual(r.sparsity, sparsities[i % 3])
            XCTAssertEqual(r.nonzeros, r.n * r.k - Int((r.sparsity * Double(r.n * r.k)).rounded()))
            XCTAssertGreaterThan(r.denseMedianNs, 0)
            XCTAssertGreaterThan(r.sparseMedianNs, 0)
            func median(_ xs: [UInt64]) -> Double {
                // { Double($0) }, not Double.init: on [UInt64] that picks Double(bitPattern:).
                let s = xs.sorted().map { Double($0) }
                return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            }
            let medians = median(r.denseSamplesNs) / median(r.sparseSamplesNs)
            // 1e-3, not 1e-9: Bootstrap.speedup may round a median (the mean of the two middle
            // samples) to a whole nanosecond, and these samples are a few µs.
            XCTAssertEqual(r.ratio, medians, accuracy: 1e-3 * medians, "the ratio is dense over sparse")
            XCTAssertEqual(r.denseMedianNs, median(r.denseSamplesNs) / Double(r.callsPerSample), accuracy: 1e-6 * r.denseMedianNs)
            XCTAssertLessThanOrEqual(r.low, r.ratio)
            XCTAssertGreaterThanOrEqual(r.high, r.ratio)
            XCTAssertEqual(r.withinNoise, r.low <= 1 && 1 <= r.high)
            XCTAssertEqual(r.denseSamplesNs.count, r.sparseSamplesNs.count, "interleaved rounds give equal counts")
            XCTAssertGreaterThanOrEqual(r.denseSamplesNs.count, 5)
            XCTAssertGreaterThanOrEqual(r.callsPerSample, 1)
            XCTAssertEqual(r.denseBytes, r.n * r.k * 4)
            XCTAssertEqual(r.sparseBytes, (r.n + 1) * 4 + r.nonzeros * 6, "row pointers + UInt16 columns + values")
            XCTAssertLessThan(r.maxAbsDiff, 1e-4, "both kernels compute the same product")
        }

        let table = renderCrossover(rows)
        let lines = table.split(separator: "\n")
        XCTAssertEqual(lines.count, 2 + rows.count + 1, table)
        XCTAssertTrue(lines[0].contains("dense/sparse") && lines[0].contains("sparsity"), table)
        XCTAssertTrue(table.contains("90.0%") && table.contains("×"), table)
        print(table)

        let json = try JSONEncoder().encode(rows)
        XCTAssertEqual(try JSONDecoder().decode([CrossoverRow].self, from: json), rows)
    }

    /// The measurement behind the reported ratios (MiniLM's FFN and QKV shapes); optional
    /// INFBENCH_CROSSOVER_M (default "1,16,128"), _THREADS (1) and _SECONDS (0.3 per body):
    ///   INFBENCH_CROSSOVER=1 swift test -c release -Xswiftc -enable-testing \
    ///     --scratch-path .build-sparse-release --filter SparseCrossoverTests/testMeasureMiniLMShapes
    func testMeasureMiniLMShapes() throws {
        let env = ProcessInfo.processInfo.environment
        try XCTSkipUnless(env["INFBENCH_CROSSOVER"] == "1", "set INFBENCH_CROSSOVER=1 to measure the crossover grid")
        let ms = (env["INFBENCH_CROSSOVER_M"] ?? "1,16,128").split(separator: ",").compactMap { Int($0) }
        let threads = Int(env["INFBENCH_CROSSOVER_THREADS"] ?? "1") ?? 1
        var shapes: [(m: Int, n: Int, k: Int)] = []
        for m in ms { for (n, k) in [(1536, 384), (384, 1536), (1152, 384)] { shapes.append((m, n, k)) } }
        let seconds = Double(env["INFBENCH_CROSSOVER_SECONDS"] ?? "0.3") ?? 0.3
        let policy = MeasurementPolicy(minSeconds: seconds, minRuns: 30, maxWarmupRuns: 20, maxWarmupSeconds: 0.5)
        #if DEBUG
        print("WARNING: debug build; these timings mean nothing")
        #endif
        let rows = measureSparseCrossover(shapes: shapes, sparsities: [0.5, 0.7, 0.9, 0.95], threads: threads,
                                          policy: policy, seed: 42)
        print("threads: \(threads)   OpenBLAS: \(BLAS.config)   load: \(try String(contentsOfFile: "/proc/loadavg", encoding: .utf8))")
        print(renderCrossover(rows))
    }
}
