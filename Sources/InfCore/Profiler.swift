// Per-phase wall time of a forward pass (`infbench run --profile`): model code wraps its
// phases in `context.measure("ffn.up") { … }`, which costs one nil check when the execution
// context carries no profiler. Not thread-safe: only the thread running the forward pass
// records, around whole phases, and wall time is what the phases must add up to.

public final class Profiler: @unchecked Sendable {
    public private(set) var order: [String] = []
    public private(set) var totalsNs: [String: UInt64] = [:]

    public init() {}

    /// Runs `body` and records its wall time as `phase`, minus the phases nested inside it.
    @inlinable @inline(__always)
    public func measure<R>(_ phase: String, _ body: () throws -> R) rethrows -> R {
        enter()
        let start = monotonicNanoseconds()
        defer { exit(phase, monotonicNanoseconds() &- start) }
        return try body()
    }

    /// Time spent in phases nested inside each open phase, innermost last.
    private var nestedNs: [UInt64] = []

    public func enter() { nestedNs.append(0) }

    /// Closes the innermost phase after `ns`: it keeps its time minus its nested phases', and
    /// its whole time counts as nested time of the phase around it.
    public func exit(_ phase: String, _ ns: UInt64) {
        let inner = nestedNs.popLast() ?? 0
        add(phase, ns &- min(inner, ns))
        if !nestedNs.isEmpty { nestedNs[nestedNs.count - 1] &+= ns }
    }

    public func add(_ phase: String, _ ns: UInt64) {
        if totalsNs[phase] == nil { order.append(phase) }
        totalsNs[phase, default: 0] &+= ns
    }

    public func reset() {
        order = []
        totalsNs = [:]
        nestedNs = []
    }
}
