// The SVG charts: every one parses as XML, has no non-finite coordinate even on
// empty or one-point input, escapes markup in names, draws one bar per speed-up
// row, and keeps every point inside its axes. Result kinds are told apart.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import InfHarness
@testable import InfMeasure

/// Elements of an SVG document as XMLParser sees them.
private final class SVGElements: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }

    /// All text, whitespace runs collapsed, so a caption wrapped over several <text> lines reads as one.
    var words: String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        text += " "
    }

    func withClass(_ role: String) -> [[String: String]] {
        elements.filter { $0.attributes["class"] == role }.map(\.attributes)
    }
}

final class ChartTests: XCTestCase {
    static func row(model: String = "bert-tiny", variant: String, batch: Int = 8, threads: Int = 1,
                    medianNs: UInt64 = 2_000_000, speedup: Speedup? = nil) -> ResultRow {
        let samples = medianNs == 0 ? [] : [medianNs - 1000, medianNs, medianNs + 2000]
        let stats = SampleStats(samplesNs: samples)
        return ResultRow(model: model, variant: variant, executes: "test", batch: batch, sequenceLength: 128,
                         threads: threads, itemUnit: "seq", itemsPerRun: batch, warmupRuns: 2, samplesNs: samples,
                         stats: stats, throughput: stats.median > 0 ? Double(batch) / stats.median : 0,
                         flopsPerRun: 1e9, gflops: 1, rooflinePercent: nil, weightBytes: 0, peakRSSBytes: 0,
                         speedup: speedup, quality: nil)
    }

    static func suite(_ rows: [ResultRow]) -> SuiteResult {
        var result = PrinterTests.fixture()
        result.rows = rows
        return result
    }

    static let faster = Speedup(baseline: "fp32", ratio: 2.5, low: 2.4, high: 2.6, confidence: 0.95)
    static let noise = Speedup(baseline: "fp32", ratio: 1.01, low: 0.97, high: 1.04, confidence: 0.95)

    /// Parses `svg`, failing the test unless it is well-formed XML with an <svg> root in the SVG
    /// namespace and no non-finite number in any attribute.
    private func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGElements {
        let elements = SVGElements()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = elements
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")", file: file, line: line)
        XCTAssertEqual(elements.elements.first?.name, "svg", file: file, line: line)
        XCTAssertEqual(elements.elements.first?.attributes["xmlns"], "http://www.w3.org/2000/svg", file: file, line: line)
        XCTAssertNotNil(elements.elements.first?.attributes["viewBox"], file: file, line: line)
        for element in elements.elements {
            for (name, value) in element.attributes where name != "class" {
                let lower = value.lowercased()
                XCTAssertFalse(lower.contains("nan") || lower.contains("inf"),
                               "\(element.name) \(name)=\"\(value)\"", file: file, line: line)
            }
        }
        return elements
    }

    /// Fails unless every point lies within the plot rectangle the two axis lines span.
    private func assertPointsInsideAxes(_ svg: SVGElements, file: StaticString = #filePath, line: UInt = #line) {
        let axes = svg.withClass("axis").map { a in ["x1", "y1", "x2", "y2"].map { Double(a[$0]!)! } }
        guard let xAxis = axes.first(where: { $0[1] == $0[3] }), let yAxis = axes.first(where: { $0[0] == $0[2] }) else {
            return XCTFail("no axis lines", file: file, line: line)
        }
        let xs = min(xAxis[0], xAxis[2])...max(xAxis[0], xAxis[2])
        let ys = min(yAxis[1], yAxis[3])...max(yAxis[1], yAxis[3])
        for p in svg.withClass("point") {
            let cx = Double(p["cx"]!)!, cy = Double(p["cy"]!)!
            XCTAssertTrue(xs.contains(cx) && ys.contains(cy), "point (\(cx), \(cy)) outside \(xs) × \(ys)", file: file, line: line)
        }
    }

    // MARK: Suite charts

    func testSpeedupChartHasOneBarPerSpeedupRowAndGreysTheNoise() {
        let rows = [Self.row(variant: "fp32"), Self.row(variant: "fp32 A/A", speedup: Self.noise),
                    Self.row(variant: "fp16", speedup: Self.faster), Self.row(variant: "bf16", threads: 2, speedup: Self.faster)]
        let svg = parse(speedupChart(Self.suite(rows)))
        let bars = svg.withClass("bar")
        XCTAssertEqual(bars.count, 3)
        XCTAssertEqual(bars[0]["fill"], noiseGrey, "the interval covers 1")
        XCTAssertNotEqual(bars[1]["fill"], noiseGrey)
        XCTAssertTrue(svg.words.contains("1.01× ~noise"))
        XCTAssertTrue(svg.words.contains("2.50×"))
        XCTAssertTrue(svg.words.contains("1× (no change)"), "the reference line is labelled")
        XCTAssertTrue(svg.words.contains("Whiskers = 95% bootstrap confidence interval"), "the caption says what whiskers mean")
        // The bar of a 2.5× speed-up is 2.5 times as long as 1× would be; its whisker spans 2.4–2.6.
        let ticks = svg.elements.filter { $0.name == "line" && $0.attributes["stroke"] == "#b22222" }
        XCTAssertEqual(ticks.count, 1, "one reference line")
        let one = Double(ticks[0].attributes["x1"]!)!, zero = Double(bars[1]["x"]!)!
        XCTAssertEqual(Double(bars[1]["width"]!)!, 2.5 * (one - zero), accuracy: 0.2)
    }

    func testLatencyThroughputChartHasAPointPerRowInsideItsAxes() {
        let rows = [1, 8, 32].flatMap { b in
            [Self.row(variant: "fp32", batch: b, medianNs: UInt64(b) * 1_000_000),
             Self.row(variant: aaVariantName, batch: b, medianNs: UInt64(b) * 1_000_000, speedup: Self.noise),
             Self.row(variant: "fp16", batch: b, medianNs: UInt64(b) * 600_000 + 5000)]
        }
        let svg = parse(latencyThroughputChart(Self.suite(rows)))
        XCTAssertEqual(svg.withClass("point").count, 6, "the A/A rows are left out")
        XCTAssertTrue(svg.words.contains("b32"))
        XCTAssertTrue(svg.words.contains("— bert-tiny"), "the shared model is named once, in the title")
        assertPointsInsideAxes(svg)
    }

    func testMarkupInNamesIsEscaped() {
        let name = "evil<model>&\"co\""
        let rows = [Self.row(model: name, variant: "fp32"), Self.row(model: name, variant: "x<y>", speedup: Self.faster),
                    Self.row(model: "other", variant: "fp32")]
        for chart in [speedupChart(Self.suite(rows)), latencyThroughputChart(Self.suite(rows))] {
            XCTAssertTrue(chart.contains("evil&lt;model&gt;&amp;&quot;co&quot;"))
            XCTAssertTrue(parse(chart).words.contains(name))
        }
    }

    func testEmptyAndSinglePointSuitesGiveFiniteCharts() {
        for rows in [[], [Self.row(variant: "fp32")], [Self.row(variant: "fp32", medianNs: 0)],
                     [Self.row(variant: "fp16", speedup: Self.faster)]] {
            let result = Self.suite(rows)
            let latency = parse(latencyThroughputChart(result))
            assertPointsInsideAxes(latency)
            _ = parse(speedupChart(result))
        }
        XCTAssertTrue(latencyThroughputChart(Self.suite([])).contains("no data to plot"))
        XCTAssertTrue(speedupChart(Self.suite([])).contains("no speed-up rows"))
    }

    // MARK: Generation and sparsity

    /// A `generate` result whose rows carry per-position medians.
    static func generation(_ rows: [ResultRow]) -> SuiteResult {
        var result = suite(rows)
        result.kind = .generate
        return result
    }

    static func variant(_ name: String, medians: [Double]) -> ResultRow {
        var row = PrinterTests.fixture().rows[0]
        row.model = "gpt<tiny>"
        row.variant = name
        row.workload = "generate"
        row.speedup = name == "KV cache" ? faster : nil
        row.positions = medians.indices.map { PositionBucket(start: 16 + 8 * $0, end: 24 + 8 * $0, median: medians[$0]) }
        return row
    }

    func testKVCacheChartPlotsEveryBucket() {
        let result = Self.generation([Self.variant("no cache", medians: (1...8).map { Double($0) * 1e-3 }),
                                      Self.variant("no cache A/A", medians: (1...8).map { Double($0) * 1e-3 }),
                                      Self.variant("KV cache", medians: Array(repeating: 5e-4, count: 8))])
        let svg = parse(kvCacheChart(result))
        XCTAssertEqual(svg.withClass("point").count, 16, "the A/A row is left out")
        XCTAssertTrue(svg.words.contains("gpt<tiny>"))
        XCTAssertTrue(svg.words.contains("not a spread"), "the caption says what the horizontal bars are")
        assertPointsInsideAxes(svg)
        for empty in [Self.generation([]), Self.generation([Self.variant("KV cache", medians: [0])]),
                      Self.generation([Self.variant("no cache", medians: [2e-3])])] {
            assertPointsInsideAxes(parse(kvCacheChart(empty)))
        }
    }

    static func crossover(m: Int, sparsity: Double, dense: Double, sparse: Double) -> CrossoverRow {
        let s = Bootstrap.speedup(baselineNs: [UInt64(dense)], variantNs: [UInt64(sparse)], baselineName: "dense",
                                  resamples: 0, seed: 1)
        return CrossoverRow(m: m, n: 384, k: 1536, sparsity: sparsity, nonzeros: 100, denseMedianNs: dense,
                            sparseMedianNs: sparse, ratio: s.ratio, low: s.ratio * 0.9, high: s.ratio * 1.1,
                            confidence: 0.95, withinNoise: abs(s.ratio - 1) < 0.1, denseBytes: 4, sparseBytes: 2,
                            maxAbsDiff: 0, callsPerSample: 2,
                            denseSamplesNs: [UInt64(2 * dense), UInt64(2 * dense) + 10],
                            sparseSamplesNs: [UInt64(2 * sparse), UInt64(2 * sparse) + 10])
    }

    func testSparsityChartDrawsDenseAndCSRPerShape() {
        let rows = [0.5, 0.9, 0.95].flatMap { s in
            [Self.crossover(m: 1, sparsity: s, dense: 20_000, sparse: 40_000 * (1 - s)),
             Self.crossover(m: 128, sparsity: s, dense: 900_000, sparse: 3_000_000 * (1 - s))]
        }
        var result = Self.suite(rows.flatMap { $0.resultRows(model: "m&m", threads: 2) })
        result.kind = .sparsity
        result.configuration.models = ["m&m"]
        let svg = parse(sparsityChart(result))
        XCTAssertEqual(svg.withClass("point").count, 12, "dense and CSR for 2 shapes × 3 sparsities")
        XCTAssertTrue(svg.words.contains("M=1 · W 384×1536: CSR faster from 90%"))
        assertPointsInsideAxes(svg)
        assertPointsInsideAxes(parse(sparsityChart(Self.suite([]))))
    }

    // MARK: Axes

    func testAxesCoverTheirValuesWithRoundTicks() {
        let cases: [[Double]] = [[0.0123, 0.0456], [1, 1], [0], [-3, 7.5], [3.7, 38.8, 0.63], [1e-9, 5e-9], [123_456, 999_999]]
        for values in cases {
            let linear = Axis(title: "", values: values)
            XCTAssertLessThanOrEqual(linear.lo, values.min()!, "\(values)")
            XCTAssertGreaterThanOrEqual(linear.hi, values.max()!, "\(values)")
            XCTAssertGreaterThan(linear.hi, linear.lo)
            XCTAssertLessThanOrEqual(linear.ticks.count, 13, "\(values): \(linear.ticks)")
            let positive = values.filter { $0 > 0 }
            guard !positive.isEmpty else { continue }
            let log = Axis(title: "", values: positive, scale: .log)
            XCTAssertLessThanOrEqual(log.lo, positive.min()!, "\(values)")
            XCTAssertGreaterThanOrEqual(log.hi, positive.max()!, "\(values)")
            for v in positive { XCTAssertTrue((0...1).contains(log.fraction(v)), "\(v) in \(log.ticks)") }
        }
        XCTAssertEqual(Axis(title: "", values: [0.1, 0.7]).ticks.map(tickLabel), ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"])
        XCTAssertEqual(Axis(title: "", values: [3, 40], scale: .log).ticks, [2, 5, 10, 20, 50])
    }

    // MARK: Which charts a file gets

    private var resultsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Results")
    }

    private func charts(_ name: String) throws -> [String] {
        let path = resultsDirectory.appendingPathComponent(name).path
        return ChartableResult.charts(for: try ChartableResult.decode(from: try Data(contentsOf: URL(fileURLWithPath: path)), path: path)).map(\.name)
    }

    func testResultKindsAreToldApart() throws {
        // Schema 1 suite files (the committed Results/) are read as kind run.
        XCTAssertEqual(try charts("minilm-techniques.json"), ["latency-throughput", "speedup"])
        XCTAssertEqual(try charts("batch-sweep.json"), ["latency-throughput"], "no speed-up rows, no speed-up chart")
        XCTAssertEqual(ChartableResult.charts(for: Self.generation([Self.variant("no cache", medians: [1e-3]),
                                                                     Self.variant("KV cache", medians: [1e-4])])).map(\.name),
                       ["kv-cache", "speedup"])
        var sparsity = Self.suite(Self.crossover(m: 1, sparsity: 0.5, dense: 10, sparse: 20).resultRows(model: "m", threads: 1))
        sparsity.kind = .sparsity
        sparsity.configuration.variants = ["dense sgemm", "CSR"]
        sparsity.configuration.batchSizes = [1]
        sparsity.configuration.threads = [1]
        let encoded = Data(JSONPrinter().render(sparsity).utf8)
        XCTAssertEqual(ChartableResult.charts(for: try ChartableResult.decode(from: encoded, path: "s.json")).map(\.name),
                       ["sparsity", "speedup"])
        var cache = Self.suite([PrinterTests.fixture().rows[0]])
        cache.kind = .cache
        XCTAssertEqual(ChartableResult.charts(for: cache).map(\.name), [], "a result without speed-ups has no chart")

        func error(_ text: String) -> String {
            do { _ = try ChartableResult.decode(from: Data(text.utf8), path: "x.json"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("garbage"), "x.json is not a JSON file.")
        XCTAssertEqual(error("{\"a\": 1}"), "x.json is not an infbench result file (it has no schemaVersion field).")
        XCTAssertTrue(error("{\"schemaVersion\": 1, \"environment\": {}, \"variants\": [], \"promptLength\": 3}")
            .hasPrefix("x.json is a schema 1 scenario result"))
        XCTAssertEqual(error("{\"schemaVersion\": 2, \"environment\": {}}"), "x.json is not a valid infbench result file: field kind is missing.")
        XCTAssertTrue(error("{\"schemaVersion\": 2, \"kind\": \"bake\"}").hasPrefix("x.json has result kind \"bake\""))
    }
}

extension CrossoverRow {
    /// The cell as two rows of the common result format: the dense baseline and the CSR
    /// variant, with the speed-up, samples, bytes and max |Δ| carried over; sparsity,
    /// nonzeros, N, K and calls per sample go in `metrics`.
    func resultRows(model: String, threads: Int) -> [ResultRow] {
        func row(_ variant: String, _ executes: String, _ samples: [UInt64], bytes: Int) -> ResultRow {
            let stats = SampleStats(samplesNs: samples)
            var r = ResultRow(model: model, variant: variant, executes: executes, batch: m, sequenceLength: nil,
                              threads: threads, itemUnit: "product", itemsPerRun: callsPerSample, warmupRuns: 0,
                              samplesNs: samples, stats: stats, throughput: Double(callsPerSample) / stats.median,
                              flopsPerRun: 2 * Double(m * n * k * callsPerSample),
                              gflops: 2 * Double(m * n * k * callsPerSample) / stats.median / 1e9,
                              rooflinePercent: nil, weightBytes: bytes, peakRSSBytes: 0, speedup: nil, quality: nil)
            r.workload = "spmm"
            r.point = "W \(n)×\(k), sparsity \(fixed(sparsity * 100, 1))%"
            r.metrics = ["sparsity": sparsity, "nonzeros": Double(nonzeros), "n": Double(n), "k": Double(k),
                         "callsPerSample": Double(callsPerSample)]
            return r
        }
        let dense = row("dense sgemm", "OpenBLAS sgemm on the pruned fp32 matrix (its zeros are still multiplied)", denseSamplesNs, bytes: denseBytes)
        var sparse = row("CSR", "infbench CSR kernel, nonzeros only", sparseSamplesNs, bytes: sparseBytes)
        var s = Speedup(baseline: "dense sgemm", ratio: ratio, low: low, high: high, confidence: confidence)
        s.withinNoise = withinNoise
        sparse.speedup = s
        sparse.quality = Quality(maxAbsDiff: maxAbsDiff, meanCosine: 1, top1Agreement: nil, n: m,
                                 evaluationSet: "the timed product", identical: maxAbsDiff < 1e-4)
        return [dense, sparse]
    }

}
