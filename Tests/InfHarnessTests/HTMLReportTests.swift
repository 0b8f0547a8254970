// The HTML report: self-contained (no network reference, no script), and — rendered by a real
// browser, headless Chromium (Debian's `chromium`) — it shows the summary with its verdicts,
// the inline charts, the environment and the warnings. Without Chromium the browser test skips
// and says how to install it; `.ci/run` installs it so CI runs it.
import Foundation
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class HTMLReportTests: XCTestCase {
    static func report() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-html-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("report.html")
        try writeAtomically(HTMLReport.render(SummaryTests.fixture()), to: file.path)
        return file
    }

    func testSelfContained() throws {
        let html = HTMLReport.render(SummaryTests.fixture())
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href="] {
            XCTAssertFalse(html.contains(forbidden), "network or external reference: \(forbidden)")
        }
        // "http" appears only as the SVG namespace name, which is never fetched.
        let http = html.components(separatedBy: "http").count - 1
        let namespaces = html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1
        XCTAssertEqual(http, namespaces)
        XCTAssertFalse(html.contains("<?xml"), "an inline SVG carries no XML declaration")
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: "<svg").count - 1, 2, "speed-up and latency charts inline")
        XCTAssertTrue(html.contains("faster, outputs unchanged"))
        XCTAssertTrue(html.contains("Test CPU | 2.0GHz"), "the environment")
        XCTAssertTrue(html.contains("a very long warning"), "the warnings")
        XCTAssertTrue(html.contains("Every instance"), "the full table")
    }

    /// Chromium from PATH (Debian: chromium; elsewhere chromium-browser), or $CHROMIUM.
    static func chromium() -> String? {
        if let env = ProcessInfo.processInfo.environment["CHROMIUM"], !env.isEmpty { return env }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }

    /// Runs Chromium headless with `arguments` on `file`; returns stdout. Fails after 120 s.
    func runChromium(_ chromium: String, _ arguments: [String], file: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        let profile = file.deletingLastPathComponent().appendingPathComponent("profile").path
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"]
            + arguments + [file.absoluteString]
        // Files, not pipes: a page's DOM can outgrow a pipe's buffer while we wait.
        let dir = file.deletingLastPathComponent()
        let outURL = dir.appendingPathComponent("chromium.out"), errURL = dir.appendingPathComponent("chromium.err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline { usleep(100_000) }
        if p.isRunning { p.terminate(); XCTFail("chromium did not finish in 120 s") }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        let data = try Data(contentsOf: outURL)
        return String(decoding: data, as: UTF8.self)
    }

    func testChromiumShowsTheReport() throws {
        guard let chromium = Self.chromium() else {
            throw XCTSkip("Chromium not found: install Debian's chromium package (apt-get install chromium) to render the HTML report in a browser; .ci/run does.")
        }
        let file = try Self.report()
        let dom = try runChromium(chromium, ["--dump-dom"], file: file)
        // What the browser parsed: the summary table with verdicts, charts as SVG elements, environment, warnings.
        XCTAssertTrue(dom.contains("<table class=\"summary\">"), dom.prefix(2000).description)
        for text in ["faster, outputs unchanged", "faster, costs 2.0% top-1", "within noise", "slower",
                     "Environment", "Test CPU | 2.0GHz", "Warnings (1)", "a very long warning"] {
            XCTAssertTrue(dom.contains(text), "the rendered page lacks \(text)")
        }
        XCTAssertGreaterThanOrEqual(dom.components(separatedBy: "<svg").count - 1, 2, "inline charts")
        XCTAssertTrue(dom.contains("<rect") || dom.contains("<path") || dom.contains("<line"), "the charts draw something")

        // And what it paints: a screenshot, 1280 px wide, with more than a blank page's bytes.
        let png = file.deletingLastPathComponent().appendingPathComponent("report.png")
        _ = try runChromium(chromium, ["--screenshot=\(png.path)", "--window-size=1280,2400", "--hide-scrollbars"], file: file)
        let bytes = try Data(contentsOf: png)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 1280)
        XCTAssertGreaterThan(bytes.count, 30_000, "a blank 1280×2400 page compresses to a few kB; the report does not")
        if let keep = ProcessInfo.processInfo.environment["INFBENCH_KEEP_SCREENSHOT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: png, to: URL(fileURLWithPath: keep))
        }
    }
}
