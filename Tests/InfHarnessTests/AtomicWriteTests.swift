// Atomic result writes: the content lands whole, a failure names the path,
// leaves no temporary file behind and leaves an existing file as it was.
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class AtomicWriteTests: XCTestCase {
    func testWritesAndReplaces() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r.json"
        try writeAtomically("first ✓\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "first ✓\n")
        try writeAtomically("second\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["r.json"])
    }

    func testMissingDirectoryFailsWithOneSentence() {
        let path = "/nonexistent-infbench-dir/x.json"
        XCTAssertThrowsError(try writeAtomically("x", to: path)) { error in
            XCTAssertEqual("\(error)", "cannot write results to \(path): No such file or directory.")
            XCTAssertEqual(error.localizedDescription, "cannot write results to \(path): No such file or directory.")
        }
    }

    func testDirectoryTargetIsRefusedAndLeftIntact() throws {
        // The target is a non-empty directory: refused before any temporary file
        // is written. Nothing may be left behind and nothing changed.
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/results.json"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try "keep".write(toFile: target + "/inner", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try writeAtomically("new", to: target)) { error in
            XCTAssertEqual("\(error)", "refusing to write results to \(target): it is a directory, not a regular file, and infbench only replaces regular files.")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["results.json"])
        XCTAssertEqual(try String(contentsOfFile: target + "/inner", encoding: .utf8), "keep")
    }

    func testUnwritableDirectoryKeepsExistingFile() throws {
        try XCTSkipIf(geteuid() == 0, "root ignores directory permissions")
        let dir = try makeTempDirectory()
        defer {
            chmod(dir, 0o755)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let path = dir + "/r.json"
        try writeAtomically("old", to: path)
        XCTAssertEqual(chmod(dir, 0o555), 0)
        XCTAssertThrowsError(try writeAtomically("new", to: path))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["r.json"])
    }

    func testRelativePath() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try writeAtomically("rel", to: "plain.txt")
        XCTAssertEqual(try String(contentsOfFile: dir + "/plain.txt", encoding: .utf8), "rel")
    }
}
