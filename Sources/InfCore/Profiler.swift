// Per-phase wall time of a forward pass (`infbench run --profile`): model code
// wraps its phases in `Profiler.measure("ffn.up") { … }`. Off by default: then a
// call costs one nil check. Call it only from the thread running the forward
// pass, around whole phases (never inside Parallel.forChunks bodies): it is not
// thread-safe, and wall time is what the phases must add up to.

public final class Profiler {
    /// The profiler collecting now; nil when profiling is off.
    nonisolated(unsafe) public static var active: Profiler?

    public private(set) var order: [String] = []
    public private(set) var totalsNs: [String: UInt64] = [:]

    public init() {}

    @inlinable @inline(__always)
    public static func measure<R>(_ phase: String, _ body: () throws -> R) rethrows -> R {
        guard let p = active else { return try body() }
        p.enter()
        let start = monotonicNanoseconds()
        defer { p.exit(phase, monotonicNanoseconds() &- start) }
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
