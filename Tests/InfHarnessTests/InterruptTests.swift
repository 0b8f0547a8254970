// Ctrl-C during a run: the runner stops before the next group and returns the rows
// it has, marked interrupted, instead of losing them.
import Foundation
import InfModels
import InfTechniques
import XCTest
@testable import InfHarness
@testable import InfMeasure

final class InterruptTests: XCTestCase {
    func testAnInterruptedRunKeepsItsRowsAndSaysSo() throws {
        let plan = SuitePlan(suite: "t", models: ["encoder-small"], techniques: [FP32Baseline()], batchSizes: [1, 2], threads: [1],
                             sequenceLengths: [8], policy: MeasurementPolicy(minSeconds: 0, minRuns: 2, maxWarmupRuns: 1, maxWarmupSeconds: 0),
                             inputSeed: 1, bootstrapSeed: 2, bootstrapResamples: 100, rooflineSize: 64)
        let runner = SuiteRunner(plan: plan, showProgress: false)
        let models = try runner.loadModels()
        let complete = try runner.run(models: models)
        XCTAssertNil(complete.interrupted)
        XCTAssertEqual(complete.rows.count, 2)

        Interrupt.request()
        defer { Interrupt.reset() }
        let stopped = try runner.run(models: models)
        XCTAssertEqual(stopped.interrupted, true)
        XCTAssertEqual(stopped.rows.count, 0, "the interrupt came before the first group")
        XCTAssertTrue(stopped.warnings.contains { $0.contains("interrupted (Ctrl-C) after 0 of 2 groups") }, "\(stopped.warnings)")
        // The partial result round-trips through JSON like any other.
        let json = JSONPrinter().render(stopped)
        XCTAssertEqual(try decodeSuiteResult(from: Data(json.utf8), path: "x").interrupted, true)
    }
}
