// Every backward pass against finite differences (tolerances in GradientCheck.swift).
import InfCore
import InfModels
@testable import InfTrain
import XCTest

final class LayerGradientTests: XCTestCase {
    var rng = SeededRNG(seed: 42)

    func random(_ shape: [Int], std: Float = 1) -> Tensor { Tensor.randomNormal(shape, std: std, rng: &rng) }

    /// Values at least 0.05 from zero, so ReLU's kink never falls inside ±ε.
    func awayFromZero(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape) { _ in
            let v = self.rng.nextUnitFloat() + 0.05
            return self.rng.nextUnitFloat() < 0.5 ? -v : v
        }
    }

    func testGradientCheckerCatchesAFivePercentError() {
        let layer = LinearLayer(name: "fc", weight: random([5, 7]), bias: random([5]))
        XCTAssertEqual(checkModule(layer, input: random([3, 7])).count, 0)
        XCTAssertGreaterThan(checkModule(layer, input: random([3, 7]), corrupt: 1.05).count, 0)
    }

    func testLinear() {
        let layer = LinearLayer(name: "fc", weight: random([6, 9]), bias: random([6]))
        XCTAssertEqual(checkModule(layer, input: random([2, 4, 9])).map(\.description), [])
    }

    func testConvolutionPaddedAndStrided() {
        for (stride, padding) in [(1, 1), (2, 0), (2, 1)] {
            let conv = Conv2DLayer(name: "conv", weight: random([4, 3, 3, 3], std: 0.5), bias: random([4]), stride: stride, padding: padding)
            XCTAssertEqual(checkModule(conv, input: random([2, 3, 7, 6])).map(\.description), [], "stride \(stride) padding \(padding)")
        }
    }

    func testActivations() {
        XCTAssertEqual(checkModule(ReLULayer(), input: awayFromZero([3, 10])).map(\.description), [])
        XCTAssertEqual(checkModule(GELULayer(), input: random([3, 10], std: 2)).map(\.description), [])
        XCTAssertEqual(checkModule(TanhLayer(), input: random([3, 10])).map(\.description), [])
    }

    func testPooling() {
        // Distinct values spaced well beyond 2ε keep every window's arg-max stable under ±ε.
        var values = (0..<(2 * 3 * 6 * 6)).map { Float($0) * 0.05 }
        values.shuffle(using: &rng)
        let x = Tensor(shape: [2, 3, 6, 6], storage: values)
        XCTAssertEqual(checkModule(PoolLayer(.max, kernel: 2, stride: 2), input: x).map(\.description), [])
        XCTAssertEqual(checkModule(PoolLayer(.avg, kernel: 3, stride: 1), input: x).map(\.description), [])
    }

    func testLayerNorm() {
        let ln = LayerNormLayer(name: "ln", gamma: random([8]), beta: random([8]), eps: 1e-5)
        XCTAssertEqual(checkModule(ln, input: random([5, 8], std: 2), samples: 20).map(\.description), [])
    }

    func testAttentionWithPadding() {
        let (c, heads) = (8, 2)
        let attention = AttentionLayer(qkv: LinearLayer(name: "qkv", weight: random([3 * c, c], std: 0.5), bias: random([3 * c])),
                                       output: LinearLayer(name: "out", weight: random([c, c], std: 0.5), bias: random([c])),
                                       heads: heads)
        attention.keyMask = [1, 1, 1, 1, 1, 1, 0, 0] // second sequence: last two keys are padding
        XCTAssertEqual(checkModule(attention, input: random([2, 4, c]), samples: 20).map(\.description), [])
    }

    func testPaddingKeysGetNoAttention() {
        // Changing a padded token must not change any other token's output.
        let c = 4
        let attention = AttentionLayer(qkv: LinearLayer(name: "qkv", weight: random([3 * c, c]), bias: random([3 * c])),
                                       output: LinearLayer(name: "out", weight: random([c, c]), bias: random([c])), heads: 1)
        attention.keyMask = [1, 1, 0]
        var x = random([1, 3, c])
        let y1 = attention.forward(x)
        for j in 0..<c { x.storage[2 * c + j] += 5 }
        let y2 = attention.forward(x)
        XCTAssertEqual(Array(y1.storage[0..<(2 * c)]), Array(y2.storage[0..<(2 * c)]))
    }

    func testLossGradients() {
        let labels: [Int32] = [2, 0, 1]
        let teacher = random([3, 4], std: 2)
        for (tau, alpha) in [(Float(1), Float(0)), (4, 0.7), (2, 1)] {
            var logits = random([3, 4], std: 2)
            let value = distillationLoss(student: logits, teacher: teacher, labels: labels, temperature: tau, alpha: alpha)
            let bad = gradientMismatches(tensors: [("logits", { logits }, { logits = $0 })], analytic: [value.gradient], loss: {
                distillationLoss(student: logits, teacher: teacher, labels: labels, temperature: tau, alpha: alpha).loss
            }, samples: 12, epsilon: 1e-3)
            XCTAssertEqual(bad.map(\.description), [], "τ \(tau) α \(alpha)")
        }
    }

    func testCrossEntropyValue() {
        // Uniform logits over 4 classes: −log ¼.
        let value = crossEntropyLoss(logits: Tensor(zeros: [2, 4]), labels: [0, 3])
        XCTAssertEqual(value.loss, log(4.0), accuracy: 1e-9)
        // Soft targets equal to the student's own output add nothing (KL = 0).
        let s = random([2, 4])
        let kd = distillationLoss(student: s, teacher: s, labels: [0, 1], temperature: 3, alpha: 1)
        XCTAssertEqual(kd.loss, 0, accuracy: 1e-9)
    }
}
