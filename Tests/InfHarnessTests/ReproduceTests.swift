// Judging a re-run against a stored result: speed-ups within the measured noise and
// equal quality reproduce; a moved speed-up, a changed accuracy or a missing row do not.
import Foundation
import InfCore
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class ReproduceTests: XCTestCase {
    func speedup(_ ratio: Double, halfWidth: Double = 0.01) -> Speedup {
        Speedup(baseline: "fp32", ratio: ratio, low: ratio - halfWidth, high: ratio + halfWidth, confidence: 0.95)
    }

    func rows(speedup s: Double, accuracy: Double = 0.9, top1: Double = 1, baselineMs: Double = 10) -> [ResultRow] {
        var base = CompareTests.row(samples: CompareTests.samples(centreNs: baselineMs * 1e6, seed: 1))
        base.accuracy = accuracy
        var variant = CompareTests.row("fp16", samples: CompareTests.samples(centreNs: baselineMs * 1e6 / s, seed: 2), speedup: speedup(s),
                                       quality: Quality(maxAbsDiff: 1e-3, meanCosine: 0.99999, top1Agreement: top1))
        variant.accuracy = accuracy
        return [base, variant]
    }

    func judge(_ reported: [ResultRow], _ new: [ResultRow]) -> Reproduction {
        reproduce(reported: CompareTests.suite(reported), new: CompareTests.suite(new), path: "r.json")
    }

    func testSameFiguresOnASlowerMachineReproduce() {
        // Absolute times twice as long: not judged. Speed-up and quality equal: reproduced.
        let r = judge(rows(speedup: 1.5), rows(speedup: 1.52, baselineMs: 20))
        XCTAssertEqual(r.rows.map(\.verdict), [.reproduced, .reproduced])
        XCTAssertEqual(r.rows[0].speedupVerdict, .notJudged, "the baseline's absolute time is not judged")
        XCTAssertTrue(r.reproduced)
        XCTAssertTrue(renderReproduction(r).contains("verdict: REPRODUCED — 2 of 2 judged rows reproduced"), renderReproduction(r))
    }

    func testAMovedSpeedupIsDifferent() {
        let r = judge(rows(speedup: 1.5), rows(speedup: 1.2))
        XCTAssertEqual(r.rows[1].speedupVerdict, .different)
        XCTAssertEqual(r.rows[1].tolerance!, 0.02, accuracy: 1e-9, "narrow intervals: the 2 % floor")
        XCTAssertFalse(r.reproduced)
        // Wide intervals widen the tolerance: both log half-widths in quadrature, not their sum.
        var wide = rows(speedup: 1.5), wider = rows(speedup: 1.35)
        wide[1].speedup = speedup(1.5, halfWidth: 0.15)
        wider[1].speedup = speedup(1.35, halfWidth: 0.135)
        let noisy = judge(wide, wider)
        let h = (log(1.65) - log(1.35)) / 2
        XCTAssertEqual(noisy.rows[1].tolerance!, exp((2 * h * h).squareRoot()) - 1, accuracy: 1e-9)
        XCTAssertEqual(noisy.rows[1].speedupVerdict, .reproduced, "a 10 % move inside ±14 % of noise")
    }

    func testAReversedSpeedupIsDifferentWhateverTheIntervals() {
        // Reported 1.285× faster; a new 0.97× would sit inside the old sum-of-widths tolerance.
        var reported = rows(speedup: 1.285), reversed = rows(speedup: 0.97)
        reported[1].speedup = speedup(1.285, halfWidth: 0.2)
        reversed[1].speedup = speedup(0.97, halfWidth: 0.01)
        let r = judge(reported, reversed)
        XCTAssertEqual(r.rows[1].speedupVerdict, .different)
        XCTAssertTrue(r.rows[1].speedupNote!.contains("reported faster, now slower"), r.rows[1].speedupNote!)
        // Same class, but the new interval reaches 1×: the reported finding no longer holds.
        var covers = rows(speedup: 1.2)
        covers[1].speedup = Speedup(baseline: "fp32", ratio: 1.2, low: 0.99, high: 1.4, confidence: 0.95)
        covers[1].speedup!.withinNoise = false
        XCTAssertEqual(judge(rows(speedup: 1.2), covers).rows[1].speedupVerdict, .different)
    }

    func testAARowsAreNotJudged() {
        var reported = rows(speedup: 1.5), new = rows(speedup: 1.5)
        reported[1].variant = aaVariantName
        new[1].variant = aaVariantName
        new[1].speedup = speedup(0.5)
        let r = judge(reported, new)
        XCTAssertEqual(r.rows[1].verdict, .notJudged, "the A/A row is the noise floor, not a finding")
    }

    func testQualityMustReproduceTightly() {
        let r = judge(rows(speedup: 1.5, accuracy: 0.9), rows(speedup: 1.5, accuracy: 0.88))
        XCTAssertEqual(r.rows[0].qualityVerdict, .different)
        XCTAssertTrue(r.rows[0].qualityNote!.contains("accuracy 90.00% → 88.00%"), r.rows[0].qualityNote!)
        let flipped = judge(rows(speedup: 1.5, top1: 1), rows(speedup: 1.5, top1: 0))
        XCTAssertEqual(flipped.rows[1].qualityVerdict, .different)
    }

    func testMissingRowsFailTheVerdict() {
        let r = judge(rows(speedup: 1.5), Array(rows(speedup: 1.5).prefix(1)))
        XCTAssertEqual(r.missing.count, 1)
        XCTAssertFalse(r.reproduced)
    }
}
