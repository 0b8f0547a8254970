// The server scenario's batcher on a stand-in model whose forward pass takes a
// known time (1 ms + 0.1 ms per item): batch-1 serving saturates near 900 req/s,
// a batcher of 16 well above it; light load is served without batching delay.
import Foundation
import InfCore
@testable import InfHarness
@testable import InfMeasure
import InfModels
import XCTest

/// A "model" that spins for 1 ms + 0.1 ms per item: fixed cost that batching amortises.
final class SpinModel: InferenceModel {
    var name: String { "spin" }
    var kind: ModelKind { .cnn }
    var itemUnit: String { "img" }
    var parameterCount: Int { 0 }
    var weightBytes: Int { 0 }
    var maxSequenceLength: Int? { nil }
    var outputIsLogits: Bool { false }
    func makeInput(batch: Int, sequenceLength: Int, rng: inout SeededRNG) -> ModelInput { .images(Tensor(zeros: [batch, 1, 1, 1])) }
    func forward(_ input: ModelInput, in context: ExecutionContext) -> Tensor {
        let until = monotonicNanoseconds() + 1_000_000 + UInt64(input.batch) * 100_000
        while monotonicNanoseconds() < until {}
        return Tensor(zeros: [input.batch, 1])
    }
    func flops(batch: Int, sequenceLength: Int) -> Double { 0 }
    func namedTensors() -> [(name: String, tensor: Tensor)] { [] }
    func transformingWeights(_ transform: (String, any LinearWeights) throws -> any LinearWeights) rethrows -> InferenceModel { self }
}

final class ServerBenchTests: XCTestCase {
    func testLightLoadIsServedPromptly() {
        let t = ServerBench.trial(model: SpinModel(), sequenceLength: 0, rate: 100, seconds: 0.5,
                                  policy: BatcherPolicy(maxBatch: 1, maxDelaySeconds: 0), seed: 1, in: .serial)
        XCTAssertFalse(t.backlogged)
        XCTAssertEqual(t.meanBatch, 1)
        XCTAssertGreaterThan(t.completed, 30)
        XCTAssertLessThan(t.p50, 0.005, "1.1 ms of work and little queueing at 100 req/s")
    }

    func testBatchingSustainsARateBatchOneCannot() {
        // 2000 req/s: batch-1 needs 2.2 s of work per second and falls behind; batches of ~16
        // cost 2.6 ms per 16 requests and keep up.
        let one = ServerBench.trial(model: SpinModel(), sequenceLength: 0, rate: 2000, seconds: 0.5,
                                    policy: BatcherPolicy(maxBatch: 1, maxDelaySeconds: 0), seed: 2, in: .serial)
        let dyn = ServerBench.trial(model: SpinModel(), sequenceLength: 0, rate: 2000, seconds: 0.5,
                                    policy: BatcherPolicy(maxBatch: 16, maxDelaySeconds: 0.002), seed: 2, in: .serial)
        XCTAssertGreaterThan(one.p99, 0.1, "batch-1 queue grows")
        XCTAssertLessThan(dyn.p99, 0.05)
        XCTAssertGreaterThan(dyn.meanBatch, 2)
        XCTAssertLessThanOrEqual(dyn.meanBatch, 16)
    }

    func testSearchBracketsTheSustainableRateBelowSaturation() {
        // Batch-1 capacity is 1 / 1.1 ms ≈ 909 req/s: no accepted rate may reach it, whatever the trial's p99.
        let capacity = 1 / 0.0011
        let s = ServerBench.search(model: SpinModel(), sequenceLength: 0, policy: BatcherPolicy(maxBatch: 1, maxDelaySeconds: 0),
                                   p99Bound: 0.05, startRate: 200, seconds: 0.3, steps: 3, saturation: capacity, seed: 3, in: .serial)
        XCTAssertGreaterThan(s.sustainableRate, 200)
        XCTAssertLessThan(s.sustainableRate, capacity)
        XCTAssertTrue(s.trials.contains { $0.rejected != nil }, "the search must have seen a failing rate")
        for t in s.trials where t.rejected == nil {
            XCTAssertGreaterThanOrEqual(t.completed, ServeRules.minRequests, "an accepted trial has enough requests for its p99")
            XCTAssertGreaterThanOrEqual(t.achievedRate, 0.99 * t.offeredRate)
        }
    }

    func testRulesRefuseWhatOnlyPassesBecauseTheTrialEnded() {
        let good = ServerTrial(targetRate: 500, achievedRate: 500, completed: 1000, p50: 0.002, p90: 0.003, p99: 0.004,
                               meanBatch: 1, backlogged: false, offeredRate: 500, firstThirdP50: 0.002, lastThirdP50: 0.0022)
        XCTAssertNil(ServeRules.rejection(good, p99Bound: 0.01, saturation: 900))
        var t = good
        t.targetRate = 950
        t.achievedRate = 950
        XCTAssertNotNil(ServeRules.rejection(t, p99Bound: 0.01, saturation: 900), "above saturation")
        t = good
        t.achievedRate = 480
        XCTAssertNotNil(ServeRules.rejection(t, p99Bound: 0.01, saturation: 900), "achieved below 99 %")
        t = good
        t.lastThirdP50 = 0.009
        XCTAssertNotNil(ServeRules.rejection(t, p99Bound: 0.01, saturation: 900), "latency rising through the trial")
        t = good
        t.completed = 50
        XCTAssertNotNil(ServeRules.rejection(t, p99Bound: 0.01, saturation: 900), "too few requests for a p99")
        t = good
        t.backlogged = true
        XCTAssertNotNil(ServeRules.rejection(t, p99Bound: 0.01, saturation: 900))
    }
}
