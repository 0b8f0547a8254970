// Every printer on one hand-built result: the table's columns, alignment,
// debug warning and noise floor; CSV line count and RFC 4180 quoting; JSON
// round trip and its errors; Markdown tables and the full environment.
import XCTest
@testable import InfHarness
@testable import InfMeasure
import InfTechniques

final class PrinterTests: XCTestCase {
    /// Printers spell the A/A row's name themselves (so they need not import the techniques);
    /// it must be the technique's own name, or A/A rows would print as ordinary techniques.
    func testAAVariantNameIsTheTechniquesName() {
        XCTAssertEqual(aaVariantName, AABaseline.name)
    }

    static func row(_ variant: String, executes: String, median: UInt64, speedup: Speedup?,
                    quality: Quality?) -> ResultRow {
        let samples = [median - 1000, median, median + 2000]
        let stats = SampleStats(samplesNs: samples)
        return ResultRow(model: "bert-tiny", variant: variant, executes: executes, batch: 8,
                         sequenceLength: 128, threads: 2, itemUnit: "seq", itemsPerRun: 8,
                         warmupRuns: 4, samplesNs: samples, stats: stats,
                         throughput: 8 / stats.median, flopsPerRun: 1e9, gflops: 1e9 / stats.median / 1e9,
                         rooflinePercent: 42.5, weightBytes: 17_500_000, peakRSSBytes: 120_000_000,
                         speedup: speedup, quality: quality)
    }

    static func fixture(build: String = "release") -> SuiteResult {
        let env = EnvironmentInfo(cpuModel: "Test CPU | 2.0GHz", cpuFeatures: ["avx2", "fma"], logicalCores: 2,
                                  openblasConfig: "OpenBLAS 0.3.26 DYNAMIC_ARCH", openblasCore: "Haswell", kernelISA: "avx512",
                                  swiftVersion: "6.3", buildConfiguration: build, gitCommit: "0123456789ab",
                                  loadAverage: [0.5, 0.25, 0.125], timestamp: "2025-01-02T03:04:05Z",
                                  hostname: "box", os: "Linux")
        let config = RunConfiguration(models: ["bert-tiny"], variants: ["fp32", "fp16, weights only", aaVariantName], batchSizes: [8],
                                      threads: [1, 2], sequenceLengths: [128], minSeconds: 1, minRuns: 10,
                                      maxWarmupRuns: 20, maxWarmupSeconds: 5, inputSeed: 1, bootstrapSeed: 2,
                                      bootstrapResamples: 1000, threadPolicy: "openblas owns all threads")
        let roofline = [RooflinePoint(threads: 1, m: 1024, n: 1024, k: 1024, samplesNs: [21_900_000], gflops: 98.1),
                        RooflinePoint(threads: 2, m: 1024, n: 1024, k: 1024, samplesNs: [11_480_000], gflops: 187.0)]
        let rows = [
            row("fp32", executes: "fp32 weights, OpenBLAS sgemm", median: 2_000_000, speedup: nil, quality: nil),
            row("fp16, weights only", executes: #"fp16 "storage", fp32 compute"#, median: 1_960_000,
                speedup: Speedup(baseline: "fp32", ratio: 1.02, low: 0.98, high: 1.05, confidence: 0.95),
                quality: Quality(maxAbsDiff: 3.1e-4, meanCosine: 0.999998, top1Agreement: 1)),
            row(aaVariantName, executes: "fp32 weights, OpenBLAS sgemm", median: 2_001_000,
                speedup: Speedup(baseline: "fp32", ratio: 0.996, low: 0.991, high: 1.012, confidence: 0.95),
                quality: nil),
        ]
        return SuiteResult(suite: "default", environment: env, configuration: config, roofline: roofline,
                           rows: rows, warnings: ["load average 0.5 is above 0.1"])
    }

    func testPrinterChoice() {
        XCTAssertTrue(printer(for: .table) is TablePrinter)
        XCTAssertTrue(printer(for: .markdown) is MarkdownPrinter)
        XCTAssertTrue(printer(for: .csv) is CSVPrinter)
        XCTAssertTrue(printer(for: .json) is JSONPrinter)
        XCTAssertEqual(OutputFormat(rawValue: "markdown"), .markdown)
    }

    // MARK: Table

    func testTable() {
        let text = TablePrinter().render(Self.fixture())
        for column in resultColumns.map(\.header) { XCTAssertTrue(text.contains(column), column) }
        XCTAssertTrue(text.contains("sgemm roofline: 1 thr 98.1 GFLOP/s, 2 thr 187.0 GFLOP/s (1024³)"), text)
        XCTAssertTrue(text.contains("1.02× [0.98–1.05] ~noise"), text)
        XCTAssertTrue(text.contains("~noise: the interval covers 1×"), text)
        XCTAssertTrue(text.contains("max|Δ| 3.1e-04 cos 0.999998 top1 100.0%"), text)
        XCTAssertTrue(text.contains("250.0 seq/s") || text.contains("4000.0 seq/s"), text)
        XCTAssertTrue(text.contains("Noise floor (A/A): bert-tiny b8×128 2 thr: |ratio−1| 0.4% [0.991–1.012]"), text)
        XCTAssertTrue(text.contains("! load average 0.5 is above 0.1"))
        XCTAssertFalse(text.contains("DEBUG BUILD"))

        // Rows in the order given, and every table line the same width.
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines.firstIndex { $0.hasPrefix("model") }!
        let table = Array(lines[header...(header + 4)])
        XCTAssertTrue(table[2].contains("fp32 weights") == false && table[2].hasPrefix("bert-tiny  fp32 "))
        XCTAssertTrue(table[3].contains("fp16, weights only"))
        XCTAssertTrue(table[4].contains(aaVariantName))
        XCTAssertEqual(Set(table.map(\.count)).count, 1, table.joined(separator: "\n"))
    }

    func testTableDebugWarning() {
        let text = TablePrinter().render(Self.fixture(build: "debug"))
        XCTAssertTrue(text.hasPrefix(debugBuildWarning), text)
        XCTAssertTrue(text.contains("DEBUG BUILD"))
    }

    func testNoiseFloorWithoutAARow() {
        var result = Self.fixture()
        result.rows.removeLast()
        XCTAssertTrue(TablePrinter().render(result).contains("Noise floor (A/A): not measured"))
        XCTAssertFalse(isAARow(result.rows[0]))
    }

    func testRooflineShapes() {
        XCTAssertEqual(rooflineLine([]), "sgemm roofline: not measured")
        let odd = [RooflinePoint(threads: 1, m: 64, n: 32, k: 16, samplesNs: [1], gflops: 1.25)]
        XCTAssertEqual(rooflineLine(odd), "sgemm roofline: 1 thr 1.2 GFLOP/s (m64 n32 k16)")
    }

    // MARK: CSV

    /// A strict RFC 4180 reader: fields of each record.
    private func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var quoted = false, chars = Array(text.unicodeScalars), i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true
            } else if c == "," { fields.append(field); field = ""
            } else if c == "\n" { fields.append(field); records.append(fields); fields = []; field = ""
            } else { field.unicodeScalars.append(c) }
            i += 1
        }
        chars = []
        return records
    }

    func testCSV() {
        let result = Self.fixture()
        let text = CSVPrinter().render(result)
        XCTAssertEqual(text.split(separator: "\n").count, result.rows.count + 1)
        XCTAssertTrue(text.contains(#","fp16, weights only","fp16 ""storage"", fp32 compute","#), text)
        let records = parseCSV(text)
        XCTAssertEqual(records.count, 4)
        XCTAssertEqual(records[0], CSVPrinter.columns)
        XCTAssertEqual(CSVPrinter.columns.count, 33)
        for r in records { XCTAssertEqual(r.count, 33, r.joined(separator: " | ")) }
        let col = { (name: String) in CSVPrinter.columns.firstIndex(of: name)! }
        XCTAssertEqual(records[2][col("variant")], "fp16, weights only")
        XCTAssertEqual(records[2][col("executes")], #"fp16 "storage", fp32 compute"#)
        XCTAssertEqual(Double(records[2][col("median_s")]), result.rows[1].stats.median)
        XCTAssertEqual(records[2][col("within_noise")], "true")
        XCTAssertEqual(records[1][col("speedup")], "", "the baseline has no speedup")
        XCTAssertEqual(records[2][col("top1_agreement")], "1.0")
        XCTAssertEqual(records[3][col("weight_bytes")], "17500000")
    }

    func testCSVFieldQuoting() {
        XCTAssertEqual(csvField("plain"), "plain")
        XCTAssertEqual(csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(csvField("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(csvField("crlf\r\nend"), "\"crlf\r\nend\"")
    }

    // MARK: JSON

    func testJSONRoundTrip() throws {
        var result = Self.fixture()
        result.roofline[0].gflops = .nan   // a non-finite value must survive too
        let text = JSONPrinter().render(result)
        XCTAssertTrue(text.contains("\"samplesNs\""))
        XCTAssertTrue(text.contains("\"schemaVersion\" : 2"), "keys sorted, pretty-printed")
        XCTAssertTrue(text.contains("\"kind\" : \"run\""))
        let back = try decodeSuiteResult(from: Data(text.utf8), path: "r.json")
        XCTAssertEqual(JSONPrinter().render(back), text)
        XCTAssertEqual(back.rows.map(\.samplesNs), result.rows.map(\.samplesNs))
        XCTAssertEqual(back.configuration, result.configuration)
        XCTAssertTrue(back.roofline[0].gflops.isNaN)
    }

    func testSchemaVersionMatchesResults() {
        XCTAssertEqual(Self.fixture().schemaVersion, SuiteResult.currentSchemaVersion)
    }

    private func decodeError(_ text: String) -> String {
        do {
            _ = try decodeSuiteResult(from: Data(text.utf8), path: "Results/x.json")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testDecodeErrors() throws {
        XCTAssertEqual(decodeError("\u{1}garbage"), "Results/x.json is not a JSON file.")
        XCTAssertEqual(decodeError("[1, 2]"),
                       "Results/x.json is not an infbench result file (it has no schemaVersion field).")
        XCTAssertEqual(decodeError(#"{"name": "x"}"#),
                       "Results/x.json is not an infbench result file (it has no schemaVersion field).")
        XCTAssertEqual(decodeError(#"{"schemaVersion": 3}"#),
                       "Results/x.json has result schema version 3, but this infbench reads versions 1 and 2.")
        XCTAssertEqual(decodeError(#"{"schemaVersion": 2}"#),
                       "Results/x.json is not a valid infbench result file: field kind is missing.")
        XCTAssertEqual(decodeError(#"{"schemaVersion": 2, "kind": "run"}"#),
                       "Results/x.json is not a valid infbench result file: field suite is missing.")
        XCTAssertEqual(decodeError(#"{"schemaVersion": 1, "configuration": {}}"#),
                       "Results/x.json is not a valid infbench result file: field suite is missing.")

        // A real result with one nested field removed names that field.
        let json = JSONPrinter().render(Self.fixture())
        var object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        var rows = object["rows"] as! [[String: Any]]
        var stats = rows[1]["stats"] as! [String: Any]
        stats.removeValue(forKey: "median")
        rows[1]["stats"] = stats
        object["rows"] = rows
        let broken = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        XCTAssertEqual(decodeError(broken),
                       "Results/x.json is not a valid infbench result file: field rows[1].stats.median is missing.")
    }

    // MARK: Markdown

    func testMarkdown() {
        let text = MarkdownPrinter().render(Self.fixture(build: "debug"))
        XCTAssertTrue(text.contains("| model | variant | batch | seq | thr | n | median ms |"), text)
        XCTAssertTrue(text.contains("|---|---|---:|---:|---:|---:|---:|"), text)
        XCTAssertTrue(text.contains("| bert-tiny | fp16, weights only | 8 | 128 | 2 |"), text)
        XCTAssertTrue(text.contains("DEBUG BUILD"))
        XCTAssertTrue(text.contains("## Environment"))
        XCTAssertTrue(text.contains("Test CPU \\| 2.0GHz"), "a pipe inside a cell is escaped")
        for (name, _) in fieldList(Self.fixture().environment) + fieldList(Self.fixture().configuration) {
            XCTAssertTrue(text.contains("| \(name) | "), name)
        }
        XCTAssertTrue(text.contains("| loadAverage | 0.5, 0.25, 0.125 |"), text)
        XCTAssertTrue(text.contains("| threadPolicy | openblas owns all threads |"))
        XCTAssertFalse(MarkdownPrinter().render(Self.fixture()).contains("DEBUG BUILD"))
    }

    func testFieldListCoversEveryField() {
        XCTAssertEqual(fieldList(Self.fixture().environment).count, 14)
        XCTAssertEqual(fieldList(Self.fixture().configuration).count, 18)
    }
}

final class ScalingLinesTests: XCTestCase {
    func testEfficiencyFromTheBaselineRows() {
        var result = PrinterTests.fixture()
        var one = PrinterTests.row("fp32", executes: "x", median: 4_000_000, speedup: nil, quality: nil)
        one.threads = 1
        result.rows.insert(one, at: 0)
        // 1 thread: 8 seq / 4 ms; 2 threads: 8 seq / 2 ms → 2.00×, 100% efficient. Only the
        // baseline ("fp32", first in configuration.variants) counts; other variants are ignored.
        XCTAssertEqual(scalingLines(result), ["bert-tiny b8×128: vs 1 thr 2 thr 2.00× (100% efficient)"])
        XCTAssertTrue(TablePrinter().render(result).contains("Thread scaling"))
        result.rows.removeFirst()
        XCTAssertEqual(scalingLines(result), [], "one thread count: nothing to compare")
    }
}
