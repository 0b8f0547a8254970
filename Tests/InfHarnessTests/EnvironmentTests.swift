// Environment capture and memory readings: plausible values, the build
// configuration matching this binary, and git answering "unknown" outside a
// repository and "-dirty" in a modified one.
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class EnvironmentTests: XCTestCase {
    func testCapture() {
        let env = EnvironmentInfo.capture()
        XCTAssertFalse(env.cpuModel.isEmpty)
        XCTAssertGreaterThanOrEqual(env.logicalCores, 1)
        XCTAssertEqual(env.buildConfiguration, isDebugBuild ? "debug" : "release")
        XCTAssertTrue(env.openblasConfig.contains("OpenBLAS"), env.openblasConfig)
        XCTAssertNotNil(env.swiftVersion.first?.wholeNumberValue, env.swiftVersion)
        XCTAssertEqual(env.loadAverage.count, 3)
        XCTAssertNotNil(env.timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression),
                        env.timestamp)
        XCTAssertFalse(env.hostname.isEmpty)
        XCTAssertNotEqual(env.os, "unknown")
        XCTAssertFalse(env.gitCommit.isEmpty)
    }

    func testTimestampIsUTC() {
        XCTAssertEqual(iso8601UTC(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00Z")
    }

    func testGitOutsideARepository() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // GIT_CEILING_DIRECTORIES is not ours to set; /tmp is simply not inside a repository here.
        try XCTSkipIf(runGit(["rev-parse", "--git-dir"], in: dir)?.status == 0, "temporary directory is inside a git repository")
        XCTAssertEqual(readGitCommit(in: dir), "unknown")
        XCTAssertEqual(readGitCommit(in: dir + "/does-not-exist"), "unknown")
    }

    func testGitCleanAndDirty() throws {
        try XCTSkipIf(findExecutable("git") == nil, "git is not installed")
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let identity = ["-c", "user.name=infbench", "-c", "user.email=infbench@example.invalid"]
        XCTAssertEqual(runGit(["init", "-q"], in: dir)?.status, 0)
        try "one\n".write(toFile: dir + "/f.txt", atomically: false, encoding: .utf8)
        XCTAssertEqual(runGit(["add", "f.txt"], in: dir)?.status, 0)
        XCTAssertEqual(runGit(identity + ["commit", "-q", "-m", "x"], in: dir)?.status, 0)

        let clean = readGitCommit(in: dir)
        XCTAssertEqual(clean.count, 12, clean)
        XCTAssertTrue(clean.allSatisfy(\.isHexDigit), clean)
        try "two\n".write(toFile: dir + "/f.txt", atomically: false, encoding: .utf8)
        XCTAssertEqual(readGitCommit(in: dir), clean + "-dirty")
    }

    func testMemory() {
        let current = currentRSSBytes()
        XCTAssertGreaterThan(current, 1 << 20)
        XCTAssertGreaterThanOrEqual(peakRSSBytes(), current)
    }
}

func makeTempDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "infharness-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
