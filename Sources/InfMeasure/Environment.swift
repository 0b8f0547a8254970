// Capturing where and how the numbers were made: CPU, cores, OpenBLAS build,
// compiler, build configuration, git commit, load, time, host and OS — every
// result carries this so a reader can judge and a later run can compare.
import Foundation
import InfCore

/// True when this binary was compiled without optimisation; its timings mean nothing.
public var isDebugBuild: Bool {
    #if DEBUG
    return true
    #else
    return false
    #endif
}

extension EnvironmentInfo {
    /// The environment of this process, now. Never fails: anything that cannot
    /// be read is reported as "unknown" (or empty / zero).
    public static func capture() -> EnvironmentInfo {
        var info = EnvironmentInfo(cpuModel: readCPUModelName(),
                        cpuFeatures: CPUFeatures.current.names,
                        logicalCores: ProcessInfo.processInfo.activeProcessorCount,
                        openblasConfig: BLAS.config,
                        openblasCore: BLAS.coreName,
                        kernelISA: VectorISA.active.rawValue,
                        swiftVersion: compilerVersion,
                        buildConfiguration: isDebugBuild ? "debug" : "release",
                        gitCommit: readGitCommit(in: sourceTreeDirectory),
                        loadAverage: readLoadAverage(),
                        timestamp: iso8601UTC(Date()),
                        hostname: readHostName(),
                        os: readOSDescription())
        info.variables = ProcessInfo.processInfo.environment.filter { key, _ in
            ["OPENBLAS_", "GOTO_", "INFBENCH_"].contains { key.hasPrefix($0) } || key == "OMP_NUM_THREADS"
        }
        return info
    }

    /// A sentence when the environment overrides what OpenBLAS would choose, else nil.
    public var openblasOverride: String? {
        guard let core = variables["OPENBLAS_CORETYPE"] else { return nil }
        return "OPENBLAS_CORETYPE=\(core) is set in the environment: OpenBLAS runs the \(openblasCore) kernels it names instead "
            + "of choosing for this CPU (on an AVX-512 CPU it would pick wider ones); unset it to measure OpenBLAS's own choice."
    }
}

/// The version of the Swift compiler this binary was built with (not the
/// toolchain installed where it runs), major.minor.
let compilerVersion: String = {
    #if compiler(>=6.5)
    return "6.5 or later"
    #elseif compiler(>=6.4)
    return "6.4"
    #elseif compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1)
    return "6.1"
    #elseif compiler(>=6.0)
    return "6.0"
    #elseif compiler(>=5.10)
    return "5.10"
    #elseif compiler(>=5.9)
    return "5.9"
    #else
    return "older than 5.9"
    #endif
}()

/// "model name" from /proc/cpuinfo (the first processor's), or "unknown".
func readCPUModelName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
        if let colon = line.firstIndex(of: ":") {
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !value.isEmpty { return value }
        }
    }
    return "unknown"
}

/// 1, 5 and 15 minute load averages; empty if the system will not say.
func readLoadAverage() -> [Double] {
    var values = [Double](repeating: 0, count: 3)
    let n = getloadavg(&values, 3)
    return n > 0 ? Array(values.prefix(Int(n))) : []
}

/// Now, ISO 8601 in UTC, whole seconds: "2025-01-31T12:00:00Z".
public func iso8601UTC(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

/// gethostname(2) directly: Foundation's hostName may block on a DNS lookup.
public func readHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    let name = String(cString: buffer)
    return name.isEmpty ? "unknown" : name
}

/// PRETTY_NAME from /etc/os-release plus the kernel, e.g. "Ubuntu 24.04.1 LTS (Linux 6.8.0-45-generic)".
func readOSDescription() -> String {
    var pretty: String?
    if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) {
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = value.dropFirst().dropLast()
            }
            pretty = String(value)
        }
    }
    var kernel: String?
    var info = utsname()
    if uname(&info) == 0 {
        let sysname = withUnsafeBytes(of: &info.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let release = withUnsafeBytes(of: &info.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        kernel = "\(sysname) \(release)"
    }
    switch (pretty, kernel) {
    case let (p?, k?): return "\(p) (\(k))"
    case let (p?, nil): return p
    case let (nil, k?): return k
    default: return "unknown"
    }
}

/// The working tree's commit, `git rev-parse --short=12 HEAD`, with "-dirty"
/// when tracked files have changes; "unknown" when git is absent, fails, or
/// takes longer than a few seconds.
/// The checkout this binary was built from (Sources/InfMeasure/ → repository root), so the
/// commit recorded is the binary's, whatever directory infbench runs in; the current
/// directory when that tree is gone (a copied binary).
let sourceTreeDirectory: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    return FileManager.default.fileExists(atPath: root + "/Package.swift") ? root : FileManager.default.currentDirectoryPath
}()

func readGitCommit(in directory: String = FileManager.default.currentDirectoryPath) -> String {
    guard let head = runGit(["rev-parse", "--short=12", "HEAD"], in: directory),
          head.status == 0 else { return "unknown" }
    let commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !commit.isEmpty else { return "unknown" }
    // Results/ is excluded: regenerating reference results must not mark the source dirty.
    guard let status = runGit(["status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)Results"], in: directory),
          status.status == 0 else { return commit }
    let dirty = !status.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    return dirty ? commit + "-dirty" : commit
}

/// Runs git with `arguments`; nil when git is not on PATH, cannot start, or
/// does not finish within `timeout` seconds (it is then terminated).
func runGit(_ arguments: [String], in directory: String, timeout: Double = 5) -> (status: Int32, output: String)? {
    guard let git = findExecutable("git") else { return nil }
    // Output goes to a temporary file, not a pipe: a pipe could fill and block
    // git, and a file needs no reader thread.
    let outPath = NSTemporaryDirectory() + "infbench-git-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    guard FileManager.default.createFile(atPath: outPath, contents: nil),
          let out = FileHandle(forWritingAtPath: outPath) else { return nil }
    defer { try? out.close(); unlink(outPath) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: git)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    var env = ProcessInfo.processInfo.environment
    env["GIT_TERMINAL_PROMPT"] = "0"   // never wait for credentials
    env["GIT_OPTIONAL_LOCKS"] = "0"    // `git status` must not take index.lock under someone else's feet
    process.environment = env
    do { try process.run() } catch { return nil }

    let deadline = monotonicNanoseconds() + UInt64(timeout * 1e9)
    while process.isRunning && monotonicNanoseconds() < deadline {
        usleep(5_000)
    }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        return nil
    }
    process.waitUntilExit()
    guard let data = FileManager.default.contents(atPath: outPath) else { return nil }
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The first executable file called `name` on PATH.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") where !dir.isEmpty {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
