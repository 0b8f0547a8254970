// The trainable CNN and encoder: same outputs as the inference models they came
// from, same checkpoint names, whole-model gradients against finite differences.
import InfCore
import InfModels
@testable import InfTrain
import XCTest

/// A tiny CNN: 2 conv stages (one max-, one avg-pooled), a hidden layer, 3 classes.
let tinyCNNConfig = CNNConfig(inputShape: [2, 8, 8], stages: [
    .init(outChannels: 3, kernelSize: 3, padding: 1, pool: .max, poolSize: 2),
    .init(outChannels: 4, kernelSize: 3, stride: 1, padding: 0, pool: .avg, poolSize: 2),
], hidden: [5], numClasses: 3)

/// A tiny classifier encoder: 2 layers, 2 heads, 3 labels.
let tinyEncoderConfig = TransformerConfig(vocabSize: 11, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12,
                                          maxPositions: 6, layerNormEps: 1e-5,
                                          id2label: ["0": "a", "1": "b", "2": "c"])

func tinyEncoder(seed: UInt64 = 3) throws -> TransformerEncoder {
    try TransformerEncoder(name: "tiny", config: tinyEncoderConfig, weights: SeededWeights(seed: seed))
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
}

final class TrainableModelTests: XCTestCase {
    func testCNNMatchesInferenceModel() throws {
        let cnn = try CNN(name: "tiny", config: tinyCNNConfig, weights: SeededWeights(seed: 5))
        let trainable = TrainableCNN(cnn)
        var rng = SeededRNG(seed: 1)
        let input = cnn.makeInput(batch: 3, sequenceLength: 0, rng: &rng)
        XCTAssertLessThan(maxAbsDifference(trainable.forward(input), cnn.forward(input)), 1e-5)
        XCTAssertEqual(trainable.namedTensors().map(\.name), cnn.namedTensors().map(\.name))
        XCTAssertEqual(trainable.namedTensors().map(\.tensor), cnn.namedTensors().map(\.tensor))
    }

    func testEncoderMatchesInferenceModelWithPadding() throws {
        let encoder = try tinyEncoder()
        let trainable = TrainableEncoder(encoder)
        // Second sequence padded after 3 tokens.
        let input = ModelInput.tokens(ids: [1, 4, 5, 6, 7, 2, 1, 8, 2, 0, 0, 0], mask: Tensor(shape: [2, 6], storage: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]),
                                      batch: 2, length: 6)
        let expected = encoder.forward(input)
        XCTAssertEqual(expected.shape, [2, 3])
        XCTAssertLessThan(maxAbsDifference(trainable.forward(input), expected), 1e-4)
        let names = encoder.namedTensors().map(\.name)
        XCTAssertEqual(trainable.namedTensors().map(\.name), names)
        XCTAssertEqual(trainable.namedTensors().map(\.tensor), encoder.namedTensors().map(\.tensor))
    }

    /// Whole-model check: ∂(loss)/∂θ through every layer kind at once.
    func checkClassifier(_ model: TrainableClassifier, _ input: ModelInput, labels: [Int32], samples: Int) -> [GradientMismatch] {
        let loss = crossEntropyLoss(logits: model.forward(input), labels: labels)
        model.parameters.forEach { $0.zeroGrad() }
        model.backward(loss.gradient)
        let params = model.parameters
        return gradientMismatches(tensors: params.map { p in (p.name, { p.value }, { p.value = $0 }) },
                                  analytic: params.map(\.grad),
                                  loss: { crossEntropyLoss(logits: model.forward(input), labels: labels).loss },
                                  samples: samples, epsilon: 1e-2)
    }

    func testCNNGradients() throws {
        let model = TrainableCNN(try CNN(name: "tiny", config: tinyCNNConfig, weights: SeededWeights(seed: 5)))
        var rng = SeededRNG(seed: 9)
        let images = Tensor.randomUniform([2, 2, 8, 8], in: -1...1, rng: &rng)
        XCTAssertEqual(checkClassifier(model, .images(images), labels: [1, 2], samples: 6).map(\.description), [])
    }

    func testEncoderGradients() throws {
        let model = TrainableEncoder(try tinyEncoder())
        let input = ModelInput.tokens(ids: [1, 4, 5, 6, 2, 0, 1, 8, 9, 10, 3, 2], mask: Tensor(shape: [2, 6], storage: [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]),
                                      batch: 2, length: 6)
        XCTAssertEqual(checkClassifier(model, input, labels: [0, 2], samples: 5).map(\.description), [])
    }

    func testExportLoadsAsInferenceModel() throws {
        let model = TrainableEncoder(try tinyEncoder())
        model.parameters.forEach { p in p.value.storage = p.value.storage.map { $0 + 0.01 } } // "trained"
        let loaded = try TransformerEncoder(name: "t", config: tinyEncoderConfig,
                                            weights: TensorDictionaryWeights(Dictionary(uniqueKeysWithValues: model.namedTensors()), label: "t"))
        let input = ModelInput.tokens(ids: [1, 4, 5, 6, 2, 0], mask: nil, batch: 1, length: 6)
        XCTAssertLessThan(maxAbsDifference(model.forward(input), loaded.forward(input)), 1e-4)
    }
}
