// Summary statistics against values computed by hand, and the bootstrap
// speedup: deterministic per seed, covering 1 on an A/A pair, excluding 1
// when the variant is clearly slower.
import XCTest
import InfCore
@testable import InfMeasure

final class StatisticsTests: XCTestCase {
    private func seconds(_ xs: [Double]) -> [UInt64] { xs.map { UInt64($0 * 1e9) } }

    func testOddCount() {
        // Sorted 1 2 3 4 5 s. p90: rank 0.9·4 = 3.6 → 4 + 0.6·(5−4); p99: rank 3.96.
        // Squared deviations 4+1+0+1+4 = 10, /(n−1) = 2.5.
        let s = SampleStats(samplesNs: seconds([5, 1, 3, 2, 4]))
        XCTAssertEqual(s.count, 5)
        XCTAssertEqual(s.median, 3, accuracy: 1e-12)
        XCTAssertEqual(s.mean, 3, accuracy: 1e-12)
        XCTAssertEqual(s.p90, 4.6, accuracy: 1e-12)
        XCTAssertEqual(s.p99, 4.96, accuracy: 1e-12)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 5)
        XCTAssertEqual(s.stddev, 2.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.cv, 2.5.squareRoot() / 3, accuracy: 1e-12)
    }

    func testEvenCount() {
        // Sorted 1 2 3 4 s: median halfway between ranks 1 and 2; p90 rank 2.7; p99 rank 2.97.
        // Squared deviations 2.25+0.25+0.25+2.25 = 5, /3.
        let s = SampleStats(samplesNs: seconds([4, 1, 3, 2]))
        XCTAssertEqual(s.median, 2.5, accuracy: 1e-12)
        XCTAssertEqual(s.mean, 2.5, accuracy: 1e-12)
        XCTAssertEqual(s.p90, 3.7, accuracy: 1e-12)
        XCTAssertEqual(s.p99, 3.97, accuracy: 1e-12)
        XCTAssertEqual(s.stddev, (5.0 / 3).squareRoot(), accuracy: 1e-12)
    }

    func testNanosecondsBecomeSeconds() {
        let s = SampleStats(samplesNs: [1_500_000, 2_500_000])
        XCTAssertEqual(s.median, 0.002, accuracy: 1e-15)
        XCTAssertEqual(s.min, 0.0015, accuracy: 1e-15)
    }

    func testSingleSample() {
        let s = SampleStats(samplesNs: seconds([7]))
        XCTAssertEqual(s, SampleStats(count: 1, median: 7, mean: 7, p90: 7, p99: 7, min: 7, max: 7, stddev: 0, cv: 0))
    }

    func testEmptySampleIsAllZero() {
        let s = SampleStats(samplesNs: [])
        XCTAssertEqual(s.count, 0)
        XCTAssertEqual(s.median, 0)
    }

    // MARK: Bootstrap

    /// n samples around `centre` ns with a few percent of Gaussian noise.
    private func noisy(_ n: Int, centre: Double, seed: UInt64) -> [UInt64] {
        var rng = SeededRNG(seed: seed)
        return (0..<n).map { _ in UInt64(centre * (1 + 0.03 * Double(rng.nextGaussian()))) }
    }

    func testRatioIsBaselineOverVariantMedian() {
        let s = Bootstrap.speedup(baselineNs: [10, 10, 10], variantNs: [5, 5, 5], baselineName: "fp32",
                                  resamples: 100, seed: 1)
        XCTAssertEqual(s.ratio, 2)
        XCTAssertEqual(s.low, 2)
        XCTAssertEqual(s.high, 2)
        XCTAssertEqual(s.baseline, "fp32")
        XCTAssertEqual(s.confidence, 0.95)
        XCTAssertFalse(s.withinNoise)
    }

    func testSameSeedSameInterval() {
        let a = noisy(40, centre: 1e6, seed: 1), b = noisy(40, centre: 1.02e6, seed: 2)
        let first = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "x", resamples: 500, seed: 42)
        let second = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "x", resamples: 500, seed: 42)
        XCTAssertEqual(first, second)
        let other = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "x", resamples: 500, seed: 43)
        XCTAssertNotEqual(first.low, other.low, "the seed must actually drive the resampling")
    }

    func testAAIntervalCoversOne() {
        let a = noisy(60, centre: 2e6, seed: 10)
        let same = Bootstrap.speedup(baselineNs: a, variantNs: a, baselineName: "fp32", resamples: 1000, seed: 7)
        XCTAssertEqual(same.ratio, 1)
        XCTAssertTrue(same.withinNoise)
        XCTAssertLessThan(same.low, 1)
        XCTAssertGreaterThan(same.high, 1)

        // Two independent draws from one distribution, as an interleaved A/A row gives.
        let b = noisy(60, centre: 2e6, seed: 11)
        let aa = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "fp32", resamples: 1000, seed: 7)
        XCTAssertTrue(aa.withinNoise, "A/A interval [\(aa.low), \(aa.high)] should cover 1")
        XCTAssertEqual(aa.ratio, 1, accuracy: 0.03)
        XCTAssertLessThan(aa.high - aa.low, 0.1)
    }

    func testTwiceAsSlowIsNotNoise() {
        let a = noisy(50, centre: 1e6, seed: 20), b = noisy(50, centre: 2e6, seed: 21)
        let s = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "fp32", resamples: 1000, seed: 3)
        XCTAssertEqual(s.ratio, 0.5, accuracy: 0.02)
        XCTAssertFalse(s.withinNoise)
        XCTAssertLessThan(s.high, 1)
        XCTAssertLessThanOrEqual(s.low, s.ratio)
        XCTAssertGreaterThanOrEqual(s.high, s.ratio)
    }

    func testWiderConfidenceGivesWiderInterval() {
        let a = noisy(30, centre: 1e6, seed: 30), b = noisy(30, centre: 1e6, seed: 31)
        let narrow = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "x", resamples: 2000, confidence: 0.5, seed: 5)
        let wide = Bootstrap.speedup(baselineNs: a, variantNs: b, baselineName: "x", resamples: 2000, confidence: 0.99, seed: 5)
        XCTAssertLessThan(wide.low, narrow.low)
        XCTAssertGreaterThan(wide.high, narrow.high)
    }
}

final class NanosecondConversionTests: XCTestCase {
    func testSpeedupSeesNanosecondsAsNumbers() {
        // map(Double.init) on [UInt64] resolves to Double(bitPattern:), turning 7572 ns into
        // 3.7e-320; ratios survived by proportionality, but a 1-ns resolution rounding crept in.
        // The median of [3, 4] ns is 3.5; as denormal bit patterns the halfway value rounds to 4.
        let s = Bootstrap.speedup(baselineNs: [3, 4], variantNs: [1], baselineName: "b", resamples: 0, seed: 1)
        XCTAssertEqual(s.ratio, 3.5)
        XCTAssertTrue(isSettled([1_000_000, 1_010_000, 1_020_000], window: 3, tolerance: 0.05))
        XCTAssertFalse(isSettled([1_000_000, 1_500_000, 1_020_000], window: 3, tolerance: 0.05))
    }
}
