// Process memory as the reports state it: peak resident set size (what the OS
// had to give us at worst) and the current resident set.
import Foundation

/// Peak resident set size of this process so far, bytes (monotone over the run).
public func peakRSSBytes() -> Int {
    var usage = rusage()
    #if os(Linux)
    // Glibc imports RUSAGE_SELF as an enum case; getrusage takes its raw value.
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return 0 }
    #if os(Linux)
    return Int(usage.ru_maxrss) * 1024   // Linux reports kilobytes.
    #else
    return Int(usage.ru_maxrss)          // Darwin reports bytes.
    #endif
}

/// Current resident set size, bytes: resident pages from /proc/self/statm
/// times the page size; 0 where /proc is unavailable.
public func currentRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    // statm: size resident shared text lib data dt (in pages).
    let fields = text.split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
