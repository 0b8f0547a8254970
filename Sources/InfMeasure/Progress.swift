// One-line progress on stderr, only when stderr is a terminal: what is running and, once
// part of the work is done, an estimate of the time left. Work is counted in units whose
// expected cost the caller states (a grid group, a scenario); the estimate scales the time
// spent so far by the share of units still to do, so it corrects itself as the run goes.
import Foundation
import InfCore

public final class Progress {
    public let enabled: Bool
    private var totalUnits = 0.0
    private var doneUnits = 0.0
    private var start: UInt64 = 0

    public init(enabled: Bool) { self.enabled = enabled && isatty(STDERR_FILENO) == 1 }

    /// Starts counting `units` of work from now.
    public func begin(units: Double) {
        totalUnits = units
        doneUnits = 0
        start = monotonicNanoseconds()
    }

    /// Whether `begin` gave it work to count.
    public var isCounting: Bool { totalUnits > 0 }

    /// Adds work discovered on the way (e.g. the groups of a scenario).
    public func add(units: Double) { totalUnits += units }

    /// Marks `units` of work done.
    public func advance(_ units: Double = 1) { doneUnits = min(totalUnits, doneUnits + units) }

    /// Seconds left by the pace so far; nil before anything is done.
    public var secondsLeft: Double? {
        guard doneUnits > 0, totalUnits > 0 else { return nil }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        return elapsed * (totalUnits - doneUnits) / doneUnits
    }

    /// "3m 05s", "42s".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? String(format: "%dm %02ds", s / 60, s % 60) : "\(s)s"
    }

    public func say(_ line: String) {
        guard enabled else { return }
        var text = line
        if totalUnits > 0 {
            text = "[\(Int((100 * doneUnits / totalUnits).rounded(.down)))%" + (secondsLeft.map { ", ~\(Self.duration($0)) left" } ?? "") + "] " + line
        }
        // One terminal line: a long line would wrap and leave its head behind on every update.
        let columns = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 120
        if text.count > columns - 1 { text = String(text.prefix(max(columns - 2, 10))) + "…" }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    public func done() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
