// What issue 21 asks of the harness, below the CLI: an output replaces only a
// regular file or a missing path (links written through), never an input; a full
// disk or concurrent writers leave an old or a complete file; one validation of a
// run configuration names the field; rows of a result must belong to it; NaN in an
// output never scores as perfect.
import XCTest
import InfCore
@testable import InfHarness
@testable import InfMeasure

final class OutputTargetTests: XCTestCase {
    func testDevicesFIFOsAndDirectoriesAreRefused() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(mkfifo(dir + "/pipe", 0o644), 0)
        for (path, kind) in [("/dev/null", "a character device"), (dir + "/pipe", "a FIFO (named pipe)"), (dir, "a directory")] {
            XCTAssertThrowsError(try writeAtomically("x", to: path)) { error in
                XCTAssertEqual("\(error)", "refusing to write results to \(path): it is \(kind), not a regular file, and infbench only replaces regular files.")
            }
        }
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")
    }

    func testSymbolicLinksAreWrittenThrough() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "old".write(toFile: dir + "/target.txt", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.txt", withDestinationPath: "target.txt")
        try FileManager.default.createSymbolicLink(atPath: dir + "/chain.txt", withDestinationPath: dir + "/link.txt")
        try writeAtomically("new", to: dir + "/chain.txt")
        XCTAssertEqual(try String(contentsOfFile: dir + "/target.txt", encoding: .utf8), "new")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link.txt"), "target.txt", "the link stays a link")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/chain.txt"), dir + "/link.txt")
        // A dangling link creates its target; a loop is refused.
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: "created.txt")
        try writeAtomically("made", to: dir + "/dangling")
        XCTAssertEqual(try String(contentsOfFile: dir + "/created.txt", encoding: .utf8), "made")
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: "loop")
        XCTAssertThrowsError(try writeAtomically("x", to: dir + "/loop")) { XCTAssertTrue("\($0)".contains("too many levels of symbolic links"), "\($0)") }
    }

    func testAnOutputThatIsAnInputIsRefusedHowEverSpelled() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/r.json"
        try "{}".write(toFile: input, atomically: false, encoding: .utf8)
        XCTAssertEqual(link(input, dir + "/hard.json"), 0)
        try FileManager.default.createSymbolicLink(atPath: dir + "/soft.json", withDestinationPath: input)
        for spelling in [input, dir + "/./r.json", dir + "/hard.json", dir + "/soft.json"] {
            XCTAssertThrowsError(try checkOutputIsNotAnInput(spelling, inputs: ["/nonexistent", input]), spelling) { error in
                XCTAssertEqual("\(error)", "--output \(spelling) is the same file as the input \(input); write the output somewhere else.")
            }
        }
        XCTAssertNoThrow(try checkOutputIsNotAnInput(dir + "/other.json", inputs: [input]))
        try "{}".write(toFile: dir + "/other.json", atomically: false, encoding: .utf8)
        XCTAssertNoThrow(try checkOutputIsNotAnInput(dir + "/other.json", inputs: [input]))
    }

    /// A file-size limit stands in for a full disk: write(2) fails part-way (EFBIG, as ENOSPC would).
    func testAFullDiskLeavesTheOldFileAndNoTemporaryFile() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r.json"
        try writeAtomically("old", to: path)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var previous = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &previous), 0)
        var limit = previous
        limit.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit), 0)
        let failure: Error? = { do { try writeAtomically(String(repeating: "x", count: 100_000), to: path); return nil } catch { return error } }()
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &previous), 0)
        signal(SIGXFSZ, previousHandler)
        XCTAssertEqual(failure.map { "\($0)" }, "cannot write results to \(path): File too large.")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["r.json"])
    }

    /// Writers racing on one path, and a reader meanwhile: every read is one writer's whole text.
    func testConcurrentWritersLeaveOneCompleteFile() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r.json"
        let size = 200_000
        try writeAtomically(String(repeating: "-", count: size), to: path)
        let letters = Array("abcdefgh")
        let torn = ManagedCounter()
        DispatchQueue.concurrentPerform(iterations: letters.count + 1) { i in
            if i == letters.count {
                for _ in 0..<200 {
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    if text.count != size || Set(text).count != 1 { torn.increment() }
                }
            } else {
                for _ in 0..<10 { try? writeAtomically(String(repeating: letters[i], count: size), to: path) }
            }
        }
        XCTAssertEqual(torn.value, 0, "a reader saw a partial or mixed file")
        let final = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(final.count, size)
        XCTAssertEqual(Set(final).count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["r.json"], "no temporary file left")
    }
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

final class RunValidationTests: XCTestCase {
    static let valid = RunConfiguration(models: ["encoder-small"], variants: ["fp32", "fp32 A/A"], batchSizes: [1, 8],
                                        threads: [1, 2], sequenceLengths: [128], minSeconds: 1, minRuns: 10,
                                        maxWarmupRuns: 30, maxWarmupSeconds: 2, inputSeed: 42, bootstrapSeed: 43,
                                        bootstrapResamples: 2000, threadPolicy: "")

    func message(_ change: (inout RunConfiguration) -> Void, source: RunConfiguration.Source = .commandLine, roofline: Int? = nil) -> String {
        var c = Self.valid
        change(&c)
        do { try c.validate(source: source, rooflineSize: roofline); return "valid" } catch { return "\(error)" }
    }

    func testAValidConfigurationPasses() {
        XCTAssertEqual(message({ _ in }, roofline: 1024), "valid")
        XCTAssertEqual(message({ $0.minSeconds = 0; $0.bootstrapResamples = 100 }), "valid")
    }

    func testEachFieldIsNamedByItsOptionOnTheCommandLine() {
        XCTAssertEqual(message { $0.batchSizes = [-3] }, "--batch must be between 1 and 4096, got -3.")
        XCTAssertEqual(message { $0.threads = [0] }, "--threads must be between 1 and 256, got 0.")
        XCTAssertEqual(message { $0.sequenceLengths = [0] }, "--seq-len must be between 1 and 65536, got 0.")
        XCTAssertEqual(message { $0.minSeconds = 1e6 }, "--min-time must be between 0.0 and 3600.0, got 1000000.0.")
        XCTAssertEqual(message { $0.minSeconds = .nan }, "--min-time must be a finite number between 0.0 and 3600.0, got nan.")
        XCTAssertEqual(message { $0.minRuns = 1_000_000_000 }, "--min-runs must be between 1 and 100000, got 1000000000.")
        XCTAssertEqual(message { $0.maxWarmupRuns = 0 }, "--max-warmup-runs must be between 1 and 10000, got 0.")
        XCTAssertEqual(message { $0.maxWarmupSeconds = -1 }, "--max-warmup-time must be between 0.0 and 3600.0, got -1.0.")
        XCTAssertEqual(message { $0.bootstrapResamples = 0 }, "--bootstrap-resamples must be between 100 and 1000000, got 0.")
        XCTAssertEqual(message({ _ in }, roofline: 8), "--roofline-size must be between 16 and 8192, got 8.")
        XCTAssertEqual(message { $0.batchSizes = [] }, "--batch is empty; it needs at least one value.")
        XCTAssertEqual(message { $0.batchSizes = [8, 1, 8] }, "--batch lists 8 twice; the rows would not be told apart.")
        XCTAssertEqual(message { $0.models = ["a", " "] }, "--model has an empty entry.")
        XCTAssertEqual(message { $0.models = ["x", "x"] }, "--model lists \"x\" twice; the rows would not be told apart.")
        XCTAssertEqual(message { $0.variants = [] }, "--techniques is empty; it needs at least one name.")
    }

    func testAFileNamesTheJSONKeyAndThePath() {
        XCTAssertEqual(message({ $0.threads = [0] }, source: .file("Results/r.json")),
                       "Results/r.json: configuration.threads must be between 1 and 256, got 0 (the file is corrupt or was edited by hand).")
    }

    func testThePlanBehindTheEstimatesIsValidated() throws {
        var plan = SuitePlan(suite: "s", models: ["encoder-small"], techniques: [], batchSizes: [1], threads: [0], sequenceLengths: [8],
                             policy: MeasurementPolicy(minSeconds: 0, minRuns: 3, maxWarmupRuns: 2, maxWarmupSeconds: 0),
                             inputSeed: 1, bootstrapSeed: 2, bootstrapResamples: 100, rooflineSize: 64)
        plan.techniques = []
        XCTAssertThrowsError(try ResourceCheck.checkMemory(plan, configs: [], available: 1e12)) { XCTAssertTrue("\($0)".contains("--techniques is empty") || "\($0)".contains("--threads"), "\($0)") }
        XCTAssertEqual(ResourceCheck.estimatedSeconds(plan, models: [], sgemmGflopsPerThread: 10), .infinity, "no 0-second estimate for 0 threads")
        XCTAssertThrowsError(try ResourceCheck.checkDuration(.infinity)) { XCTAssertTrue("\($0)".contains("cannot be estimated"), "\($0)") }
    }

    func testModelsWithOneNameAreRefused() {
        XCTAssertNoThrow(try checkDistinctModelNames([("a/enc", "enc"), ("dec", "dec")]))
        XCTAssertThrowsError(try checkDistinctModelNames([("a/enc", "enc"), ("b/enc", "enc")])) {
            XCTAssertEqual("\($0)", "--model a/enc and b/enc are both named \"enc\"; their rows would not be told apart (rename one folder).")
        }
    }

    func testRowsMustBelongToTheirConfiguration() throws {
        let good = PrinterTests.fixture()
        XCTAssertNoThrow(try good.validateRows(path: "r.json"))
        var r = good
        r.rows.append(r.rows[0])
        XCTAssertThrowsError(try r.validateRows(path: "r.json")) { XCTAssertTrue("\($0)".hasPrefix("r.json: rows[3] repeats model bert-tiny, variant fp32, batch 8"), "\($0)") }
        r = good
        r.rows[1].batch = 64
        XCTAssertThrowsError(try r.validateRows(path: "r.json")) { XCTAssertTrue("\($0)".contains("rows[1] has batch 64"), "\($0)") }
        r = good
        r.rows[0].samplesNs = []
        XCTAssertThrowsError(try r.validateRows(path: "r.json")) { XCTAssertTrue("\($0)".contains("rows[0] has no samples"), "\($0)") }
        // And the reader applies both checks.
        var bad = good
        bad.configuration.bootstrapResamples = 0
        XCTAssertThrowsError(try decodeSuiteResult(from: Data(JSONPrinter().render(bad).utf8), path: "r.json")) {
            XCTAssertTrue("\($0)".contains("configuration.bootstrapResamples"), "\($0)")
        }
    }

    func testAFloatWhereAnIntegerBelongsIsNamed() {
        let text = JSONPrinter().render(PrinterTests.fixture()).replacingOccurrences(of: "\"minRuns\" : 10", with: "\"minRuns\" : 10.5")
        XCTAssertThrowsError(try decodeSuiteResult(from: Data(text.utf8), path: "r.json")) {
            XCTAssertEqual("\($0)", "r.json is not a valid infbench result file: field configuration.minRuns is 10.5, which does not fit it (a whole number is expected there, or the number is out of range).")
        }
    }
}

final class NonFiniteQualityTests: XCTestCase {
    func testNaNAnywhereIsNeverAPerfectScore() {
        let reference = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(compareOutputs(reference: reference, output: reference, logits: true).meanCosine, 1, accuracy: 1e-12)
        for bad in [Float.nan, .infinity] {
            var output = reference
            output.storage[4] = bad
            let q = compareOutputs(reference: reference, output: output, logits: true)
            XCTAssertTrue(q.maxAbsDiff.isNaN && q.meanCosine.isNaN && q.top1Agreement!.isNaN, "\(q)")
            let both = compareOutputs(reference: output, output: output, logits: false)
            XCTAssertTrue(both.maxAbsDiff.isNaN && both.meanCosine.isNaN, "NaN against the same NaN is not a match: \(both)")
            XCTAssertTrue(qualityCell(q).contains("max|Δ| nan cos nan"), qualityCell(q))
        }
    }

    func testNaNIsAWarning() {
        let fine = Tensor(shape: [1, 2], storage: [1, 2])
        let poisoned = Tensor(shape: [1, 2], storage: [.nan, 2])
        let nanQuality = Quality(maxAbsDiff: .nan, meanCosine: .nan, top1Agreement: nil)
        XCTAssertEqual(nonFiniteWarnings(reference: fine, qualities: [("fp16", Quality(maxAbsDiff: 0, meanCosine: 1, top1Agreement: nil))], label: "g"), [])
        XCTAssertEqual(nonFiniteWarnings(reference: fine, qualities: [("fp16", nanQuality)], label: "g"),
                       ["g: fp16's output has non-finite values (NaN or ±inf); its quality columns are NaN."])
        XCTAssertEqual(nonFiniteWarnings(reference: poisoned, qualities: [], label: "g").count, 1)
    }
}
