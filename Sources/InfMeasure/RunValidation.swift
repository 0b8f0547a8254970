// One validation of a run configuration, whoever supplies it: `run`'s options,
// the configuration a result file stores (show, compare, reproduce, chart), and
// the plan the resource estimates and the runner receive. A replayed file gets
// exactly the checks a typed command line gets, so batch −3, 0 threads, 10⁹ runs
// or 0 bootstrap resamples are refused with one sentence naming the field.
import Foundation

extension RunConfiguration {
    /// Where a configuration came from; decides how a field is named in the error.
    public enum Source: Sendable {
        /// Typed options: fields are named by their option (`--batch`).
        case commandLine
        /// A result file: fields are named by their JSON key (`configuration.batchSizes`).
        case file(String)
    }

    /// The accepted range of each numeric field, shared with the CLI's help and checks.
    public enum Limits {
        public static let batch = 1...4096
        public static let threads = 1...256
        public static let sequenceLength = 1...65536
        public static let minSeconds = 0.0...3600.0
        public static let minRuns = 1...100_000
        public static let maxWarmupRuns = 1...10_000
        public static let maxWarmupSeconds = 0.0...3600.0
        /// Fewer resamples make a bootstrap interval meaningless (0 gives a zero-width one).
        public static let bootstrapResamples = 100...1_000_000
        public static let rooflineSize = 16...8192
    }

    /// Throws one sentence for the first field out of range, an empty or duplicated
    /// list entry, or an empty list. `rooflineSize` is checked when given (result
    /// files do not store it; `reproduce` uses its own).
    public func validate(source: Source = .commandLine, rooflineSize: Int? = nil) throws {
        func name(_ option: String, _ key: String) -> String {
            switch source {
            case .commandLine: return option
            case .file: return "configuration.\(key)"
            }
        }
        func fail(_ text: String) -> HarnessError {
            switch source {
            case .commandLine: return HarnessError(text + ".")
            case .file(let path): return HarnessError("\(path): \(text) (the file is corrupt or was edited by hand).")
            }
        }
        func list(_ option: String, _ key: String, _ values: [Int], _ range: ClosedRange<Int>) throws {
            let field = name(option, key)
            guard !values.isEmpty else { throw fail("\(field) is empty; it needs at least one value") }
            if let bad = values.first(where: { !range.contains($0) }) {
                throw fail("\(field) must be between \(range.lowerBound) and \(range.upperBound), got \(bad)")
            }
            if let dup = firstDuplicate(values) {
                throw fail("\(field) lists \(dup) twice; the rows would not be told apart")
            }
        }
        func number<T: Comparable & CustomStringConvertible>(_ option: String, _ key: String, _ value: T, _ range: ClosedRange<T>) throws {
            if let d = value as? Double, !d.isFinite {
                throw fail("\(name(option, key)) must be a finite number between \(range.lowerBound) and \(range.upperBound), got \(d)")
            }
            guard range.contains(value) else {
                throw fail("\(name(option, key)) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        func names(_ option: String, _ key: String, _ values: [String]) throws {
            let field = name(option, key)
            guard !values.isEmpty else { throw fail("\(field) is empty; it needs at least one name") }
            if values.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw fail("\(field) has an empty entry")
            }
            if let dup = firstDuplicate(values) {
                throw fail("\(field) lists \"\(dup)\" twice; the rows would not be told apart")
            }
        }
        try names("--model", "models", models)
        try names("--techniques", "variants", variants)
        try list("--batch", "batchSizes", batchSizes, Limits.batch)
        try list("--threads", "threads", threads, Limits.threads)
        // A scenario whose requests have no token length (a CNN, a sparse product) stores none.
        if workload == nil || !sequenceLengths.isEmpty {
            try list("--seq-len", "sequenceLengths", sequenceLengths, Limits.sequenceLength)
        }
        try number("--min-time", "minSeconds", minSeconds, Limits.minSeconds)
        try number("--min-runs", "minRuns", minRuns, Limits.minRuns)
        try number("--max-warmup-runs", "maxWarmupRuns", maxWarmupRuns, Limits.maxWarmupRuns)
        try number("--max-warmup-time", "maxWarmupSeconds", maxWarmupSeconds, Limits.maxWarmupSeconds)
        try number("--bootstrap-resamples", "bootstrapResamples", bootstrapResamples, Limits.bootstrapResamples)
        if let rooflineSize { try number("--roofline-size", "rooflineSize", rooflineSize, Limits.rooflineSize) }
    }
}

/// Two models whose rows carry the same name (`--model x,x`, or two folders both
/// called `enc`) would be matched against each other by compare and reproduce.
public func checkDistinctModelNames(_ models: [(spec: String, name: String)]) throws {
    var seen: [String: String] = [:]
    for m in models {
        if let other = seen[m.name] {
            throw HarnessError(other == m.spec
                ? "--model lists \"\(m.spec)\" twice; the rows would not be told apart."
                : "--model \(other) and \(m.spec) are both named \"\(m.name)\"; their rows would not be told apart (rename one folder).")
        }
        seen[m.name] = m.spec
    }
}

/// The first value that occurs twice, if any.
func firstDuplicate<T: Hashable>(_ values: [T]) -> T? {
    var seen = Set<T>()
    for v in values where !seen.insert(v).inserted { return v }
    return nil
}

extension SuiteResult {
    /// Rows must belong to the configuration they are stored with and be told apart:
    /// compare and reproduce match rows by (model, variant, batch, length, threads),
    /// so a duplicate or a stray row would be matched against the wrong timing.
    public func validateRows(path: String) throws {
        func fail(_ i: Int, _ text: String) -> HarnessError {
            HarnessError("\(path): rows[\(i)] \(text) (the file is corrupt or was edited by hand).")
        }
        var seen = Set<String>()
        for (i, row) in rows.enumerated() {
            if !configuration.variants.contains(row.variant) {
                throw fail(i, "has variant \"\(row.variant)\", which configuration.variants does not list")
            }
            if !configuration.batchSizes.contains(row.batch) {
                throw fail(i, "has batch \(row.batch), which configuration.batchSizes does not list")
            }
            if !configuration.threads.contains(row.threads) {
                throw fail(i, "has threads \(row.threads), which configuration.threads does not list")
            }
            if row.samplesNs.isEmpty { throw fail(i, "has no samples (samplesNs is empty)") }
            if !(row.stats.median.isFinite && row.stats.median >= 0) {
                throw fail(i, "has stats.median \(row.stats.median), not a time")
            }
            let key = "\(row.model)|\(row.variant)|\(row.batch)|\(row.sequenceLength ?? -1)|\(row.threads)|\(row.workload ?? "forward")|\(row.point ?? "")"
            // A merged result holds the same instance from several hosts (and repeats): its rows are told apart by host.
            if kind != .merge, !seen.insert(key).inserted {
                throw fail(i, "repeats model \(row.model), variant \(row.variant), batch \(row.batch), threads \(row.threads) of an earlier row")
            }
        }
    }
}
