// The Zipf request stream behind `infbench cache`: seeded, in range, and skewed
// the way the exponent says.
import InfCore
@testable import InfHarness
@testable import InfMeasure
import InfModels
import XCTest

final class CacheBenchTests: XCTestCase {
    func testZipfStreamIsSeededAndSkewed() {
        var a = SeededRNG(seed: 9), b = SeededRNG(seed: 9)
        let s1 = CacheBench.zipfStream(count: 20_000, catalogue: 100, exponent: 1.0, rng: &a)
        XCTAssertEqual(s1, CacheBench.zipfStream(count: 20_000, catalogue: 100, exponent: 1.0, rng: &b))
        XCTAssertTrue(s1.allSatisfy { (0..<100).contains($0) })
        var counts = [Int](repeating: 0, count: 100)
        for r in s1 { counts[r] += 1 }
        // P(rank 1) = 1/H₁₀₀ ≈ 0.193 and P(rank 2) is half of it (s = 1); 20 000 draws: σ ≈ 0.003.
        XCTAssertEqual(Double(counts[0]) / 20_000, 1 / 5.187, accuracy: 0.015)
        XCTAssertEqual(Double(counts[1]) / Double(counts[0]), 0.5, accuracy: 0.05)
        var c = SeededRNG(seed: 9)
        let flat = CacheBench.zipfStream(count: 20_000, catalogue: 100, exponent: 0, rng: &c)
        XCTAssertLessThan(flat.filter { $0 == 0 }.count, 400, "s = 0 is uniform: ~200 of 20 000")
    }

    func testScenarioCountsHitsOnlyForRepeatedInputs() throws {
        let model = try ModelLoader.load("cnn-small").model
        let engine = Engine(policy: MeasurementPolicy(minSeconds: 0, minRuns: 2, maxWarmupRuns: 1, maxWarmupSeconds: 1),
                            bootstrapResamples: 100, bootstrapSeed: 1)
        let r = CacheBench.run(model: model, sequenceLength: 0, requests: 60, catalogue: 5, exponent: 1.0,
                               capacity: 10, threads: 1, engine: engine, seed: 4)
        XCTAssertEqual(r.kind, .cache)
        XCTAssertEqual(r.rows.map(\.variant), ["no cache", "no cache A/A", "LRU cache", "LRU cache, unique stream"])
        XCTAssertNil(r.rows[0].metrics?["hitRate"])
        // 60 requests over 5 distinct images, all of which fit: every request after a first sight hits.
        XCTAssertGreaterThan(r.rows[2].metrics!["hitRate"]!, 0.9)
        XCTAssertLessThanOrEqual(r.rows[2].metrics!["entries"]!, 5)
        XCTAssertEqual(r.rows[3].metrics!["hitRate"], 0, "all-unique inputs never hit")
        XCTAssertEqual(r.rows[3].metrics!["entries"], 10)
        XCTAssertEqual(r.rows[2].quality?.identical, true, "a hit returns exactly the uncached output")
        XCTAssertEqual(r.rows[2].quality?.n, 60)
        XCTAssertTrue(r.rows[1].isAA)
        XCTAssertTrue(r.rows.allSatisfy { $0.samplesNs.count == r.rows[0].samplesNs.count && $0.itemsPerRun == 60 })
    }
}
