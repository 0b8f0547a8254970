// Output quality of a variant against the reference (QualityMetrics.swift): per-token and
// pooled cosines, top-1/top-5 agreement. Moved from StatisticsTests when the statistics
// went to InfMeasure; the quality metrics stay in InfHarness.
import XCTest
import InfCore
@testable import InfHarness
@testable import InfMeasure

final class QualityMetricsTests: XCTestCase {
    func testCosinesAndAgreement() {
        // Two sequences of two tokens, C = 2. Variant: token (0,1) flipped in sign, others equal.
        let ref = Tensor(shape: [2, 2, 2], storage: [1, 0, 0, 1, 2, 2, 1, -1])
        var out = ref
        out.storage[2] = 0; out.storage[3] = -1
        let q = compareOutputs(reference: ref, output: out, logits: false)
        XCTAssertEqual(q.maxAbsDiff, 2)
        XCTAssertEqual(q.meanCosine, (1 - 1 + 1 + 1) / 4, accuracy: 1e-12, "per-token cosines 1, −1, 1, 1")
        // Sequence 0 pools to (1, 1) vs (1, −1): cosine 0; sequence 1 is identical: 1.
        XCTAssertEqual(q.embeddingCosine!, 0.5, accuracy: 1e-12)
        XCTAssertNil(q.top1Agreement)
        let logits = compareOutputs(reference: ref, output: out, logits: true)
        XCTAssertEqual(logits.top1Agreement!, 0.75, accuracy: 1e-12, "row (0, −1) picks index 0 against 1")
        XCTAssertNil(logits.embeddingCosine)
        XCTAssertNil(logits.top5Agreement, "two classes: top-5 means nothing")
    }

    func testTopFiveAgreement() {
        // Row 0: the variant swaps the order of two of the top five (same set); row 1: it lifts
        // class 6 over class 4, the fifth largest (different set); row 2 is identical.
        let ref = Tensor(shape: [3, 7], storage: [9, 8, 7, 6, 5, 1, 0,  0, 1, 2, 3, 4, 5, 6,  1, 2, 3, 4, 5, 6, 7])
        var out = ref
        out.storage[0] = 7.5; out.storage[2] = 9           // row 0: 7.5, 8, 9, … still {0…4}
        out.storage[7 + 1] = 10                            // row 1: class 1 enters, class 2 leaves
        let q = compareOutputs(reference: ref, output: out, logits: true)
        XCTAssertEqual(q.top5Agreement!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(q.top1Agreement!, 1.0 / 3, accuracy: 1e-12, "row 0's arg-max moves to class 2, row 1's to class 1")
    }
}
