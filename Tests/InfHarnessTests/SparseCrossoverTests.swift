// The sparse/dense crossover grid: on tiny shapes it returns one sensible row per
// (shape, sparsity), renders as a table and survives JSON. With INFBENCH_CROSSOVER=1
// it also measures the MiniLM shapes (run it on a release build; see the test).
import Foundation
import InfCore
import InfHarness
import InfMeasure
import XCTest

final class SparseCrossoverTests: XCTestCase {
    let quick = MeasurementPolicy(minSeconds: 0.002, minRuns: 5, maxWarmupRuns: 3, maxWarmupSeconds: 0.05)

    func testTinyGridGivesSensibleRows() throws {
        let shapes = [(m: 1, n: 24, k: 40), (m: 5, n: 33, k: 20)]
        let sparsities = [0.0, 0.9, 1.0]
        var warnings: [String] = []
        let (rows, resultRows) = measureSparseCrossover(shapes: shapes, sparsities: sparsities, threads: 2,
                                                        engine: Engine(policy: quick, bootstrapResamples: 200, bootstrapSeed: 1),
                                                        seed: 3, warnings: &warnings)
        XCTAssertEqual(resultRows.map(\.variant), Array(repeating: ["dense sgemm", "dense sgemm A/A", "CSR"], count: 6).flatMap { $0 })
        XCTAssertTrue(resultRows.allSatisfy { $0.workload == "spmm" })
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
            XCTAssertTrue(!(r.low <= 1 && 1 <= r.high) || r.withinNoise, "an interval covering 1 is always ~noise")
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
}
