// Reusable option groups and list parsing for the subcommands.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure
import InfModels

/// A comma-separated list of integers, e.g. "1,8,32". An entry that is not an
/// integer (an empty one included: "1,,8") makes the parser name the option;
/// `check` refuses duplicates and values out of range with one sentence.
struct IntList: ExpressibleByArgument {
    var values: [Int]
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        let parsed = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parsed.allSatisfy({ $0 != nil }) else { return nil }
        values = parsed.map { $0! }
    }
    init(_ values: [Int]) { self.values = values }
    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }

    /// Throws "--batch lists 1 twice; …" (and, given a range, "--rows must be between …").
    func check(_ name: String, _ range: ClosedRange<Int>? = nil) throws {
        if let range, let bad = values.first(where: { !range.contains($0) }) {
            throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(bad).")
        }
        if let dup = firstDuplicateEntry(values) {
            throw ValidationError("\(name) lists \(dup) twice; the rows would not be told apart.")
        }
    }
}

/// The first entry that occurs twice in a list option, if any.
func firstDuplicateEntry<T: Hashable>(_ values: [T]) -> T? {
    var seen = Set<T>()
    for v in values where !seen.insert(v).inserted { return v }
    return nil
}

extension OutputFormat: ExpressibleByArgument {}

/// How long to warm up and measure each instance.
struct MeasurementOptions: ParsableArguments {
    @Option(name: .customLong("min-time"), help: "Measure each instance for at least this many seconds.")
    var minSeconds: Double = 1.0

    @Option(name: .customLong("min-runs"), help: "…and for at least this many runs (both must be met).")
    var minRuns: Int = 10

    @Option(name: .customLong("max-warmup-runs"), help: "Stop warming up after this many runs even if timings have not settled.")
    var maxWarmupRuns: Int = 30

    @Option(name: .customLong("max-warmup-time"), help: "Stop warming up after this many seconds even if timings have not settled.")
    var maxWarmupSeconds: Double = 2.0

    @Option(name: .customLong("min-warmup-time"), help: "Warm every variant up for at least this many seconds, settled or not.")
    var minWarmupSeconds: Double = 0.2

    func validate() throws {
        try checkRange("--min-time", minSeconds, 0...3600)
        try checkRange("--min-runs", minRuns, 1...100_000)
        try checkRange("--max-warmup-runs", maxWarmupRuns, 1...10_000)
        try checkRange("--max-warmup-time", maxWarmupSeconds, 0...3600)
        try checkRange("--min-warmup-time", minWarmupSeconds, 0...3600)
        if minWarmupSeconds > maxWarmupSeconds {
            throw ValidationError("--min-warmup-time \(minWarmupSeconds) exceeds --max-warmup-time \(maxWarmupSeconds).")
        }
    }

    /// The policy; the round order's seed comes from the command's own seed.
    func policy(seed: UInt64) -> MeasurementPolicy {
        MeasurementPolicy(minSeconds: minSeconds, minRuns: minRuns, maxWarmupRuns: maxWarmupRuns,
                          maxWarmupSeconds: maxWarmupSeconds, minWarmupSeconds: minWarmupSeconds,
                          orderSeed: seed &+ 2)
    }
}

/// Options every scenario command shares: threads, seed and a JSON output file.
struct ScenarioOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and infbench's loops.")
    var threads: Int = 1

    @Option(help: "Seed for everything the scenario generates.")
    var seed: UInt64 = 42

    @Option(help: "Write the result as JSON to this file (atomically).")
    var output: String?

    func validate() throws {
        try checkRange("--threads", threads, 1...256)
        try checkRange("--bootstrap-resamples", resamples, 100...1_000_000)
        if let output, output.isEmpty { throw ValidationError("--output needs a file name.") }
        if let output { try checkOutput(output, inputs: []) }
        warnAboutOversubscription([threads])
    }

    /// One-line progress on stderr when it is a terminal; call `done` to clear it.
    func progress() -> (say: (String) -> Void, done: () -> Void) { Self.progressLine() }

    static func progressLine() -> (say: (String) -> Void, done: () -> Void) {
        let tty = isatty(STDERR_FILENO) == 1
        return ({ line in if tty { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) } },
                { if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } })
    }

    @Option(name: .customLong("bootstrap-resamples"), help: "Bootstrap resamples for speed-up confidence intervals.")
    var resamples: Int = 2000

    @Option(help: "Format printed on the terminal: table, markdown, csv or json.")
    var format: OutputFormat = .table

    /// The engine every scenario measures with: the policy, the bootstrap, seeds derived from --seed.
    func engine(_ measurement: MeasurementOptions) -> Engine {
        Engine(policy: measurement.policy(seed: seed), bootstrapResamples: resamples, bootstrapSeed: seed &+ 1)
    }

    /// Prints `result` in --format and writes it to --output, if given, in the format its extension names.
    func finish(_ result: SuiteResult) throws {
        print(printer(for: format).render(result), terminator: "")
        if let output {
            try writeAtomically(printer(for: OutputFormat.inferred(fromPath: output)).render(result), to: output)
            FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
        }
    }
}

/// The bytes of a saved result file, or one sentence naming it. Only a regular
/// file is read: a FIFO would block for ever and /dev/zero never ends.
func readResultFile(_ path: String) throws -> Data {
    if let problem = regularFileProblem(path) { throw HarnessError("\(path): \(problem).") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("\(path): cannot read the result file (missing or unreadable).")
    }
    return data
}

/// Writes `value` as pretty JSON to `path`, atomically, and says so on stderr.
func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n", to: path)
    FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
}

/// Throws "--name must be between a and b, got v." unless `value` lies in `range`.
func checkRange<T: Comparable>(_ name: String, _ value: T, _ range: ClosedRange<T>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value).")
    }
}

/// As above for Doubles, also rejecting NaN and infinities.
func checkRange(_ name: String, _ value: Double, _ range: ClosedRange<Double>) throws {
    guard value.isFinite, range.contains(value) else {
        throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value).")
    }
}
