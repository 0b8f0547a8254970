// The catalogue of hostile and careless inputs (HostileInputs.json beside this
// file): each case builds its files in a fresh directory, runs the infbench
// binary as a user would, and checks the outcome it names — one sentence and a
// non-zero exit, or success — plus what must hold whatever happens: no trap, no
// hang, no destroyed or half-written file. The summary line counts the outcomes.
import Foundation
import XCTest

final class HostileInputTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        /// output, replay, weights, tokenizer, quality, lists, errors, traps.
        var `class`: String
        var setup: [Step]?
        var args: [String]?
        /// Run through /bin/sh -c instead of `args` (for ulimit); $BIN, $DIR and $REPO are set.
        var shell: String?
        /// "error" (exit 1…127 with the phrases on stderr), "ok" (exit 0), "killed" (SIGKILL after killAfter s).
        var expect: String
        /// Phrases stderr (error) or stdout + stderr (ok) must contain.
        var says: [String]?
        var unchanged: [String]?
        var absent: [String]?
        var validJSON: [String]?
        /// path → "file", "symlink", "chardev", "fifo", "directory".
        var kind: [String: String]?
        var noStrayFiles: Bool?
        var maxSeconds: Double?
        var killAfter: Double?
        var parallel: Int?
        var env: [String: String]?
        /// Skip unless this path exists (e.g. a fetched model).
        var requires: String?
        var unless: String?
    }

    struct Step: Decodable {
        var op: String
        var path: String?
        var from: String?
        var to: String?
        var text: String?
        var key: String?
        var value: JSONValue?
        var tensor: String?
        var field: String?
        var index: Int?
        var count: Int?
        var specials: Bool?
    }

    /// Any JSON value, to set into a file.
    enum JSONValue: Decodable {
        case value(Any)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .value(NSNull()) }
            else if let b = try? c.decode(Bool.self) { self = .value(b) }
            else if let i = try? c.decode(Int.self) { self = .value(i) }
            else if let d = try? c.decode(Double.self) { self = .value(d) }
            else if let s = try? c.decode(String.self) { self = .value(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .value(a.map { if case .value(let v) = $0 { return v }; return NSNull() }) }
            else {
                let o = try c.decode([String: JSONValue].self)
                self = .value(o.mapValues { if case .value(let v) = $0 { return v }; return NSNull() })
            }
        }
        var any: Any { if case .value(let v) = self { return v }; return NSNull() }
    }

    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repo = here.deletingLastPathComponent().deletingLastPathComponent()

    var binary: URL {
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("infbench")
    }

    func testTheCatalogueOfHostileInputs() throws {
        let data = try Data(contentsOf: Self.here.appendingPathComponent("HostileInputs.json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        XCTAssertGreaterThanOrEqual(cases.count, 60, "the catalogue lost cases")
        XCTAssertEqual(Set(cases.map(\.name)).count, cases.count, "case names must be unique")
        var tally: [String: Int] = [:], classes: [String: Int] = [:]
        let filter = ProcessInfo.processInfo.environment["HOSTILE_CASE"]
        for c in cases where filter == nil || c.name.contains(filter!) {
            if let r = c.requires, !FileManager.default.fileExists(atPath: expand(r, dir: "")) { tally["skipped", default: 0] += 1; continue }
            if let u = c.unless, FileManager.default.fileExists(atPath: expand(u, dir: "")) { tally["skipped", default: 0] += 1; continue }
            let failuresBefore = testRun?.totalFailureCount ?? 0
            try check(c)
            let passed = (testRun?.totalFailureCount ?? 0) == failuresBefore
            tally[passed ? c.expect : "FAILED", default: 0] += 1
            classes[c.class, default: 0] += 1
        }
        let summary = tally.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let byClass = classes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("hostile inputs: \(cases.count) cases: \(summary) (by class: \(byClass))")
    }

    // MARK: One case

    func check(_ c: Case) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for step in c.setup ?? [] { try apply(step, dir: dir) }

        let watched = (c.unchanged ?? []).map { path($0, dir) }
        let before = watched.map(snapshot)
        let label = "[\(c.class)] \(c.name)"
        let runs = try (0..<(c.parallel ?? 1)).map { i in try start(c, dir: dir, index: i) }
        let t0 = Date()
        let timeout = c.maxSeconds ?? 120
        var results: [(status: Int32, reason: Process.TerminationReason, out: String, err: String)] = []
        for (p, outPath, errPath) in runs {
            if let k = c.killAfter {
                while p.isRunning && Date().timeIntervalSince(t0) < k { usleep(20_000) }
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            }
            while p.isRunning && Date().timeIntervalSince(t0) < timeout { usleep(20_000) }
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                XCTFail("\(label): still running after \(timeout) s (a hang, or too slow)")
            }
            p.waitUntilExit()
            results.append((p.terminationStatus, p.terminationReason,
                            (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                            (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""))
        }

        for r in results {
            let both = r.out + r.err
            XCTAssertFalse(both.contains("Fatal error"), "\(label): trapped: \(r.err.prefix(2000))")
            switch c.expect {
            case "error":
                XCTAssertEqual(r.reason, .exit, "\(label): ended by a signal (\(r.status)): \(r.err.prefix(2000))")
                XCTAssertTrue((1...127).contains(r.status), "\(label): expected a failure exit, got \(r.status); stderr: \(r.err.prefix(2000))")
                for phrase in c.says ?? [] {
                    XCTAssertTrue(r.err.contains(expand(phrase, dir: dir)), "\(label): stderr lacks \"\(phrase)\":\n\(r.err.prefix(2000))")
                }
                XCTAssertLessThan(r.err.utf8.count, 8192, "\(label): the error is \(r.err.utf8.count) bytes, not one sentence")
            case "ok":
                XCTAssertEqual(r.reason, .exit, "\(label): ended by a signal (\(r.status))")
                XCTAssertEqual(r.status, 0, "\(label): expected success; stderr: \(r.err.prefix(2000))")
                for phrase in c.says ?? [] {
                    XCTAssertTrue(both.contains(expand(phrase, dir: dir)), "\(label): output lacks \"\(phrase)\":\n\(both.prefix(3000))")
                }
            case "killed":
                XCTAssertEqual(r.reason, .uncaughtSignal, "\(label): was meant to be killed mid-run but ended by itself (\(r.status))")
            default:
                XCTFail("\(label): unknown expectation \(c.expect)")
            }
        }
        for (path, old) in zip(watched, before) {
            XCTAssertEqual(snapshot(path), old, "\(label): \(path) changed")
        }
        for path in (c.absent ?? []).map({ self.path($0, dir) }) {
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(label): \(path) was written")
        }
        for path in (c.validJSON ?? []).map({ self.path($0, dir) }) {
            let data = FileManager.default.contents(atPath: path) ?? Data()
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: data), "\(label): \(path) is not complete JSON (\(data.count) bytes)")
        }
        for (path, expected) in c.kind ?? [:] {
            XCTAssertEqual(kind(self.path(path, dir)), expected, "\(label): \(path) is not a \(expected) any more")
        }
        if c.noStrayFiles == true {
            let stray = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".tmp-") } ?? []
            XCTAssertEqual(stray, [], "\(label): temporary files left behind")
        }
    }

    func start(_ c: Case, dir: String, index: Int) throws -> (Process, String, String) {
        let p = Process()
        if let shell = c.shell {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", shell]
        } else {
            p.executableURL = binary
            p.arguments = (c.args ?? []).map { expand($0, dir: dir) }
        }
        var env = ProcessInfo.processInfo.environment
        env["BIN"] = binary.path
        env["DIR"] = dir
        env["REPO"] = Self.repo.path
        for (k, v) in c.env ?? [:] { env[k] = v }
        p.environment = env
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let outPath = "\(dir)/../\(URL(fileURLWithPath: dir).lastPathComponent)-\(index).out"
        let errPath = "\(dir)/../\(URL(fileURLWithPath: dir).lastPathComponent)-\(index).err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, outPath, errPath)
    }

    // MARK: Setting up files

    func expand(_ s: String, dir: String) -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return s.replacingOccurrences(of: "$DIR", with: dir).replacingOccurrences(of: "$REPO", with: Self.repo.path)
            .replacingOccurrences(of: "$MORE_THAN_CORES", with: String(cores + 1))
    }

    func path(_ p: String?, _ dir: String) -> String {
        let e = expand(p ?? "", dir: dir)
        return e.hasPrefix("/") ? e : "\(dir)/\(e)"
    }

    func apply(_ s: Step, dir: String) throws {
        let fm = FileManager.default
        let target = path(s.path ?? s.to, dir)
        try? fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        switch s.op {
        case "result": // a small suite result of this build's format (one tiny run, shared by all cases)
            try fm.copyItem(atPath: try baseResult(), toPath: target)
        case "copy": // a file or a directory
            try fm.copyItem(atPath: path(s.from, dir), toPath: target)
        case "write":
            try Data((s.text ?? "").utf8).write(to: URL(fileURLWithPath: target))
        case "bytes": // `count` bytes 0xFF 0xFE 0x00 … (not UTF-8)
            try Data((0..<(s.count ?? 16)).map { UInt8(truncatingIfNeeded: 255 - $0) }).write(to: URL(fileURLWithPath: target))
        case "replace": // first occurrence of `from` by `to` in the file at `path`
            let text = try String(contentsOfFile: target, encoding: .utf8)
            guard let r = text.range(of: s.from!) else { throw XCTSkip("setup: \"\(s.from!)\" not in \(target)") }
            try Data(text.replacingCharacters(in: r, with: s.text ?? "").utf8).write(to: URL(fileURLWithPath: target))
        case "set": // a JSON value at a dotted path ("rows.3.stats.count")
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: target)))
            object = setting(object, at: s.key!.split(separator: ".").map(String.init)[...], to: s.value?.any ?? NSNull())
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: target))
        case "each": // `field` set to `value` in every element of the array at `key`
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: target))) as! [String: Any]
            object[s.key!] = (object[s.key!] as! [[String: Any]]).map { var e = $0; e[s.field!] = s.value?.any ?? NSNull(); return e }
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: target))
        case "fifo":
            XCTAssertEqual(mkfifo(target, 0o644), 0)
        case "symlink":
            try fm.createSymbolicLink(atPath: target, withDestinationPath: expand(s.to!, dir: dir))
        case "mkdir":
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        case "export": // a checkpoint of a bundled model: infbench export
            let p = Process()
            p.executableURL = binary
            p.arguments = ["export", "--model", s.from!, "--output", target]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "setup: export \(s.from!)")
        case "poison": // one weight of a safetensors tensor set to NaN or inf
            var bytes = try Data(contentsOf: URL(fileURLWithPath: target))
            let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
            let offsets = (header[s.tensor!] as! [String: Any])["data_offsets"] as! [Int]
            let value: Float = s.text == "inf" ? .infinity : .nan
            let at = 8 + n + offsets[0] + 4 * (s.index ?? 0)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(at..<(at + 4), with: $0) }
            try bytes.write(to: URL(fileURLWithPath: target))
        case "vocab": // specials (unless specials: false) then count words
            var tokens = s.specials == false ? [] : ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
            tokens += (0..<(s.count ?? 100)).map { "w\($0)" }
            try Data((tokens.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: target))
        case "bigname": // a safetensors file whose one tensor has a name of `count` bytes
            let name = String(repeating: "x", count: s.count!)
            let header = Data("{\"\(name)\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}".utf8)
            var data = Data()
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(header)
            data.append(Data(count: 4))
            try data.write(to: URL(fileURLWithPath: target))
        case "bigstring": // a JSON config whose `key` holds a string of `count` bytes
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: target)))
            object = setting(object, at: [s.key!][...], to: String(repeating: "q", count: s.count!))
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: target))
        default:
            XCTFail("unknown setup step \(s.op)")
        }
    }

    nonisolated(unsafe) static var base: String?

    /// Two models, three variants, two batch sizes: 12 rows written by the binary under test,
    /// so the replay cases follow the result format wherever it goes.
    func baseResult() throws -> String {
        if let base = Self.base { return base }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infbench-hostile-base-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/base.json"
        let p = Process()
        p.executableURL = binary
        p.arguments = ["run", "--model", "encoder-small,cnn-small", "--techniques", "fp16", "--batch", "1,2", "--threads", "1",
                       "--seq-len", "8", "--min-time", "0", "--min-runs", "3", "--max-warmup-runs", "2", "--roofline-size", "64",
                       "--output", path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0, FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("the tiny run that makes the base result failed (status \(p.terminationStatus))")
        }
        Self.base = path
        return path
    }

    func setting(_ node: Any, at keys: ArraySlice<String>, to value: Any) -> Any {
        guard let key = keys.first else { return value }
        if var array = node as? [Any], let i = Int(key) {
            if i == array.count { array.append(value) } else { array[i] = setting(array[i], at: keys.dropFirst(), to: value) }
            return array
        }
        var dict = node as? [String: Any] ?? [:]
        dict[key] = setting(dict[key] as Any, at: keys.dropFirst(), to: value)
        return dict
    }

    /// Bytes of a file, or what kind of thing the path is when not a regular file.
    func snapshot(_ path: String) -> String {
        let k = kind(path)
        guard k == "file" else { return k }
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return "file \(data.count) bytes, hash \(data.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 })"
    }

    func kind(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "missing" }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return "file"
        case S_IFLNK: return "symlink"
        case S_IFCHR: return "chardev"
        case S_IFIFO: return "fifo"
        case S_IFDIR: return "directory"
        default: return "other"
        }
    }
}
