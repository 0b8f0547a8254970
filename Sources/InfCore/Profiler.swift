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
        let start = monotonicNanoseconds()
        defer { p.add(phase, monotonicNanoseconds() &- start) }
        return try body()
    }

    public func add(_ phase: String, _ ns: UInt64) {
        if totalsNs[phase] == nil { order.append(phase) }
        totalsNs[phase, default: 0] &+= ns
    }

    public func reset() {
        order = []
        totalsNs = [:]
    }
}
