// The one clock infbench times with: monotonic, nanoseconds, unaffected by
// NTP steps or wall-clock changes, so a sample can never be negative or jump.
import Foundation

/// Nanoseconds on the monotonic clock (an arbitrary origin; only differences mean anything).
@inlinable @inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    // CLOCK_MONOTONIC cannot fail for a valid pointer; a failure would leave ts zeroed.
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
