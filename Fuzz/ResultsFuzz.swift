// libFuzzer target for result files: the JSON that `show`, `compare`, `reproduce` and
// `chart` read. Input: the bytes of a file. Reading must never trap and must either
// fail with one HarnessError naming the file, or give a result that passes the run-
// configuration validation and that every reader can use: each printer renders it,
// its JSON round-trips to a result that reads again, compare and reproduce of it
// against itself complete, and the chart reader agrees.
import Foundation
import FuzzDriver
@testable import InfMeasure

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let result: SuiteResult
    do {
        result = try decodeSuiteResult(from: bytes, path: "r.json")
    } catch let error as HarnessError {
        precondition(error.message.hasPrefix("r.json"), "error does not name the file: \(error.message.prefix(300))")
        return 0
    } catch {
        fatalError("decodeSuiteResult threw \(type(of: error)), not a HarnessError")
    }
    // What was read passed the one validation; check it holds.
    do { try result.configuration.validate(source: .file("r.json")) } catch {
        fatalError("a result that read without error fails validation: \(error)")
    }
    // Every printer renders it (a trap here is a reader trusting a value it did not check).
    for format in OutputFormat.allCases { _ = printer(for: format).render(result) }
    let json = JSONPrinter().render(result)
    do { _ = try decodeSuiteResult(from: Data(json.utf8), path: "again.json") } catch {
        fatalError("the JSON printer wrote a result its reader refuses: \(error)")
    }
    // compare / reproduce against itself; keep the bootstrap small so the fuzzer stays fast.
    if result.rows.reduce(0, { $0 + $1.samplesNs.count }) <= 4096 {
        let c = compareSuites(result, result, pathA: "a.json", pathB: "b.json", minChange: 0.02, resamples: 100, seed: 1)
        _ = renderComparison(c, format: .table)
        _ = renderReproduction(reproduce(reported: result, new: result, path: "r.json"))
    }
    _ = ChartableResult.charts(for: result).map(\.svg)
    do {
        guard try ChartableResult.decode(from: bytes, path: "r.json").rows.count == result.rows.count else {
            fatalError("the chart reader reads different rows from the suite reader")
        }
    } catch {
        fatalError("the chart reader refuses a suite result the suite reader accepted: \(error)")
    }
    return 0
}

// libFuzzer takes over from here (Fuzz/Driver: SwiftPM gives every executable its own main).
exit(infbench_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv))
