// The summary printed first by the default suite: no line wider than 120 columns, verdicts
// that follow the rules (within noise when the interval covers 1× or the row is ~noise,
// faster/slower only outside it, a faster row says what it costs), best first within a model.
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class SummaryTests: XCTestCase {
    static let longModel = "a-model-whose-name-goes-on-and-on-" + String(repeating: "x", count: 120)

    static func row(_ variant: String, model: String = "encoder-small", batch: Int = 1, workload: String? = "forward",
                    point: String? = nil, median: UInt64 = 2_000_000, speedup: (Double, Double, Double)?,
                    noiseFloor: Double? = nil, quality: Quality? = nil, accuracy: Double? = nil,
                    weightBytes: Int = 10_000_000, executes: String = "fp32 weights and activations, OpenBLAS sgemm") -> ResultRow {
        var r = PrinterTests.row(variant, executes: executes, median: median, speedup: speedup.map {
            Speedup(baseline: "fp32", ratio: $0.0, low: $0.1, high: $0.2, confidence: 0.95)
        }, quality: quality)
        r.model = model
        r.batch = batch
        r.itemsPerRun = batch
        r.workload = workload
        r.point = point
        r.weightBytes = weightBytes
        r.accuracy = accuracy
        if let noiseFloor { r.speedup!.apply(noiseFloor: noiseFloor) }
        return r
    }

    static func fixture() -> SuiteResult {
        var result = PrinterTests.fixture()
        let same = Quality(maxAbsDiff: 0, meanCosine: 1, top1Agreement: 1, n: 64)
        let close = Quality(maxAbsDiff: 1e-4, meanCosine: 0.999999, top1Agreement: 1, n: 64)
        result.rows = [
            row("fp32", speedup: nil, accuracy: 0.90),
            row("fp32 A/A", speedup: (1.0, 0.98, 1.02), accuracy: 0.90),
            row("fp16", speedup: (1.01, 0.98, 1.05), quality: close, accuracy: 0.90, weightBytes: 5_000_000,
                executes: "fp16 weight storage (IEEE half), fp32 compute"),
            row("bf16", speedup: (1.03, 1.01, 1.05), noiseFloor: 0.04, quality: close, accuracy: 0.90, weightBytes: 5_000_000),
            row("int8", speedup: (1.5, 1.4, 1.6), quality: Quality(maxAbsDiff: 0.1, meanCosine: 0.999, top1Agreement: 0.98, n: 64),
                weightBytes: 2_500_000, executes: "W8A8 dynamic: int8 weights per output channel"),
            row("int8-weights", speedup: (1.1, 1.05, 1.15), quality: Quality(maxAbsDiff: 0.1, meanCosine: 0.999, top1Agreement: 0.97, n: 64),
                accuracy: 0.901, weightBytes: 2_500_000),
            row("fp8", speedup: (1.09, 1.05, 1.12), quality: Quality(maxAbsDiff: 0.1, meanCosine: 0.99999, top1Agreement: 0.9996, n: 5000)),
            row("q4", speedup: (0.7, 0.65, 0.75), quality: close, accuracy: 0.90, weightBytes: 1_400_000),
            row("distilled", speedup: (3.0, 2.8, 3.2), quality: Quality(maxAbsDiff: 1, meanCosine: 0.9, top1Agreement: 0.95, n: 64),
                accuracy: 0.85, weightBytes: 3_000_000),
            row("prune-unstructured-global:0.9+ft:1", speedup: (1.2, 1.1, 1.3), quality: close, accuracy: 0.90),
            row("fp32", batch: 32, speedup: nil, accuracy: 0.90),
            row("int8", batch: 32, speedup: (2.1, 2.0, 2.2), quality: Quality(maxAbsDiff: 0.1, meanCosine: 0.999, top1Agreement: 0.98, n: 64),
                weightBytes: 2_500_000),
            row("no cache", workload: "generate", point: "16 + 64", speedup: nil),
            row("no cache A/A", workload: "generate", point: "16 + 64", speedup: (1.0, 0.99, 1.01)),
            row("KV cache", workload: "generate", point: "16 + 64", speedup: (5.0, 4.8, 5.2), quality: same),
            row("dynamic batching", workload: "drain", point: "q", speedup: nil),
            row("dynamic batching", workload: "drain", point: "q", speedup: (4.0, 3.5, 4.5)),
            row("fp32", model: longModel, speedup: nil),
            row("prune-unstructured-global:0.9+ft:1" + String(repeating: "y", count: 80), model: longModel,
                speedup: (123.456, 100.0, 150.0), quality: Quality(maxAbsDiff: 1, meanCosine: 0.5, top1Agreement: nil, n: 4),
                executes: String(repeating: "long executes ", count: 20)),
        ]
        result.warnings = [String(repeating: "a very long warning ", count: 20)]
        return result
    }

    func testNoLineIsWiderThan120Columns() {
        let text = Summary.render(Self.fixture())
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            XCTAssertLessThanOrEqual(line.count, 120, "too wide: \(line)")
        }
        XCTAssertTrue(text.contains("encoder-small"), text)
    }

    /// Finds the summary line of `variant` (its first row) in the encoder-small block.
    func line(_ text: String, _ variant: String) -> String? {
        text.split(separator: "\n").map(String.init).first { $0.hasPrefix("  \(variant) ") }
    }

    func testVerdictsFollowTheRules() throws {
        let text = Summary.render(Self.fixture())
        XCTAssertTrue(try XCTUnwrap(line(text, "fp16")).hasSuffix("within noise"), "interval covers 1×")
        XCTAssertTrue(try XCTUnwrap(line(text, "bf16")).hasSuffix("within noise"), "~noise: inside the A/A deviation")
        XCTAssertTrue(try XCTUnwrap(line(text, "q4")).hasSuffix("slower"))
        XCTAssertTrue(try XCTUnwrap(line(text, "int8")).hasSuffix("faster, costs 2.0% top-1"))
        XCTAssertTrue(try XCTUnwrap(line(text, "distilled")).hasSuffix("faster, costs 5.0pp accuracy"))
        XCTAssertTrue(try XCTUnwrap(line(text, "int8-weights")).hasSuffix("faster, no accuracy lost"),
                      "with labels, accuracy decides: top-1 moved but accuracy did not drop")
        XCTAssertTrue(try XCTUnwrap(line(text, "fp8")).hasSuffix("faster, costs 0.04% top-1"), "a small cost never reads 0.0")
        XCTAssertTrue(try XCTUnwrap(line(text, "KV cache")).hasSuffix("faster, outputs unchanged"))
        XCTAssertTrue(try XCTUnwrap(line(text, "dynamic batching")).hasSuffix("faster, quality not measured"))
        XCTAssertNil(line(text, "fp32 A/A"), "the A/A row is the noise floor in the heading, not a technique")
        XCTAssertTrue(text.contains("A/A noise ±2.0%"), text)

        // Every line with a speed-up: its verdict agrees with its interval.
        let pattern = try NSRegularExpression(pattern: #"([0-9.]+)× \[([0-9.]+)–([0-9.]+)\]"#)
        var checked = 0
        for l in text.split(separator: "\n").map(String.init) {
            guard let m = pattern.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) else { continue }
            let low = Double(l[Range(m.range(at: 2), in: l)!])!, high = Double(l[Range(m.range(at: 3), in: l)!])!
            if low <= 1 && 1 <= high { XCTAssertTrue(l.hasSuffix("within noise"), l) }
            if l.hasSuffix("slower") { XCTAssertLessThan(high, 1, l) }
            if l.contains("  faster") { XCTAssertGreaterThan(low, 1, l) }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }

    func testVerdictFunction() {
        let base = Self.row("fp32", speedup: nil, accuracy: 0.9)
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (0.99, 0.97, 1.01)), baseline: base), .withinNoise)
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (1.02, 1.01, 1.03), noiseFloor: 0.03), baseline: base), .withinNoise)
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (0.9, 0.85, 0.95), quality: nil), baseline: base), .slower)
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (1.2, 1.1, 1.3), quality: Quality(maxAbsDiff: 0, meanCosine: 1, top1Agreement: 1)),
                                       baseline: base), .fasterUnchanged)
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (1.2, 1.1, 1.3), quality: Quality(maxAbsDiff: 0.2, meanCosine: 0.99, top1Agreement: nil)),
                                       baseline: base), .fasterCosts("cos 0.9900"))
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (1.2, 1.1, 1.3), quality: Quality(maxAbsDiff: 0.2, meanCosine: 0.99, top1Agreement: 0.9),
                                                accuracy: 0.85), baseline: base), .fasterCosts("5.0pp accuracy"))
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (1.2, 1.1, 1.3),
                                                quality: Quality(maxAbsDiff: 0.2, meanCosine: 0.9, top1Agreement: nil, embeddingCosine: 0.99995)),
                                       baseline: base), .fasterUnchanged, "an embedding within the cosine tolerance is unchanged")
        // Adaptive softmax compares tokens only: maxAbsDiff stays 0 while top-1 agreement is 0 %.
        var tokensOnly = Quality(maxAbsDiff: 0, meanCosine: 1, top1Agreement: 0)
        tokensOnly.identical = false
        XCTAssertEqual(Summary.verdict(Self.row("x", speedup: (4, 3.8, 4.2), quality: tokensOnly), baseline: base),
                       .fasterCosts("100.0% top-1"), "a row whose tokens all differ is never 'outputs unchanged'")
        XCTAssertEqual(Summary.qualityCell(Self.row("x", speedup: (4, 3.8, 4.2), quality: tokensOnly), baseline: base), "top1 0.0%")
        XCTAssertNil(Summary.verdict(base, baseline: base), "the baseline has no verdict")
    }

    func testBestFirstWithinEachModel() throws {
        let text = Summary.render(Self.fixture())
        let order = ["KV cache", "dynamic batching", "distilled", "int8", "prune-global:0.9+ft:1", "int8-weights", "fp8", "bf16", "fp16", "q4"]
        let positions = try order.map { v in try XCTUnwrap(text.range(of: "\n  \(v) ")?.lowerBound, v) }
        XCTAssertEqual(positions, positions.sorted(), text)
        // The first row's second line says what executes, in short.
        XCTAssertTrue(text.contains("\n    W8A8 dynamic"), text)
    }
}
