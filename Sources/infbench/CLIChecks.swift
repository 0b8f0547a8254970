// Checks the CLI makes before any work starts: an output path's directory exists
// and is writable, the path is a regular file or missing (a symbolic link is
// written through to its target) and not one of the command's own inputs; a
// negative number reaches its option; more threads than cores get a warning.
import ArgumentParser
import Foundation
import InfHarness
import InfMeasure

/// Throws one sentence when `output` cannot or must not be written; `inputs` are the
/// files the command reads (`show X --output X` and `compare A B --output A` are refused).
func checkOutput(_ output: String, inputs: [String]) throws {
    let target = try outputTarget(output)
    try checkWritable(target)
    try checkOutputIsNotAnInput(output, inputs: inputs)
}

/// Splits `--option -1` into `--option=-1`, so a negative number reaches the option's
/// own range check ("--batch must be between 1 and 4096, got -1") instead of being
/// taken for a short flag ("Missing value for --batch").
func joiningNegativeNumbers(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var i = 0
    while i < arguments.count {
        let a = arguments[i]
        if a == "--" { result += arguments[i...]; break }
        if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count, looksNegative(arguments[i + 1]) {
            result.append("\(a)=\(arguments[i + 1])")
            i += 2
            continue
        }
        result.append(a)
        i += 1
    }
    return result
}

private func looksNegative(_ s: String) -> Bool {
    guard s.count >= 2, s.hasPrefix("-"), let second = s.dropFirst().first else { return false }
    return second.isNumber || second == "." || s.lowercased() == "-inf" || s.lowercased() == "-nan"
}

/// More threads than logical cores time-slice against each other: the numbers measure
/// the scheduler. Allowed (oversubscription is a thing to study), but said on stderr.
func warnAboutOversubscription(_ threads: [Int]) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if let most = threads.max(), most > cores {
        FileHandle.standardError.write(Data("warning: --threads \(most) is more than the \(cores) logical core\(cores == 1 ? "" : "s") of this machine; the threads will share cores and the timings measure that.\n".utf8))
    }
}
