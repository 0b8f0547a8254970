// Reusable option groups and list parsing for the subcommands.
import ArgumentParser
import InfHarness

/// A comma-separated list of positive integers, e.g. "1,8,32".
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

    func validate() throws {
        guard minSeconds.isFinite, minSeconds >= 0, minSeconds <= 3600 else {
            throw ValidationError("--min-time must be between 0 and 3600 seconds, got \(minSeconds).")
        }
        guard (1...100_000).contains(minRuns) else {
            throw ValidationError("--min-runs must be between 1 and 100000, got \(minRuns).")
        }
        guard (1...10_000).contains(maxWarmupRuns) else {
            throw ValidationError("--max-warmup-runs must be between 1 and 10000, got \(maxWarmupRuns).")
        }
        guard maxWarmupSeconds.isFinite, maxWarmupSeconds >= 0, maxWarmupSeconds <= 3600 else {
            throw ValidationError("--max-warmup-time must be between 0 and 3600 seconds, got \(maxWarmupSeconds).")
        }
    }

    var policy: MeasurementPolicy {
        MeasurementPolicy(minSeconds: minSeconds, minRuns: minRuns, maxWarmupRuns: maxWarmupRuns,
                          maxWarmupSeconds: maxWarmupSeconds)
    }
}
