// The CNN of InfModels/CNN.swift as a trainable network, with the same parameter names:
//   per stage:  x = Pool(ReLU(Conv(x)))      features.i.conv.{weight,bias}
//   x = flatten(x);  per hidden layer: x = ReLU(W x + b);  logits = W_head x + b   classifier.j.{weight,bias}
import InfCore
import InfModels

/// A classifier the trainer can fit: logits for a batch, and the backward pass from ∂L/∂logits.
public protocol TrainableClassifier: AnyObject {
    var parameters: [Parameter] { get }
    /// A batch (images or token ids) → logits (B, classes); keeps what backward needs.
    func forward(_ input: ModelInput) -> Tensor
    /// Accumulates every parameter's gradient from ∂L/∂logits (B, classes).
    func backward(_ dLogits: Tensor)
    /// Parameters under their checkpoint names, as the inference model stores them.
    func namedTensors() -> [(name: String, tensor: Tensor)]
}

/// A model the trainer can fit: it makes its trainable twin, with the same parameter names, or nil
/// when it has nothing to classify (an encoder without a classification head).
public protocol TrainableModel: InferenceModel {
    func makeTrainable() -> TrainableClassifier?
}

extension CNN: TrainableModel {
    public func makeTrainable() -> TrainableClassifier? { TrainableCNN(self) }
}

public final class TrainableCNN: TrainableClassifier {
    public let config: CNNConfig
    private let network: Sequential
    private let convs: [Conv2DLayer]
    private let linears: [LinearLayer]

    /// Starts from an inference model's weights (seeded initialisation or a checkpoint).
    public init(_ model: CNN) {
        config = model.config
        // Each layer keeps the name the CNN declares for it, so namedTensors is the checkpoint.
        convs = model.stages.enumerated().map { i, s in
            Conv2DLayer(name: model.declared(\CNN.stages[i].conv.weights).seamName, weight: s.conv.weight, bias: s.conv.bias!,
                        stride: s.conv.stride, padding: s.conv.padding)
        }
        linears = model.classifier.enumerated().map { j, fc in
            LinearLayer(name: model.declared(\CNN.classifier[j].weights).seamName, weight: fc.weights.dense(), bias: fc.bias!)
        }
        var modules: [Module] = []
        for (conv, stage) in zip(convs, model.stages) {
            modules += [conv, ReLULayer()]
            if let pool = stage.pool { modules.append(PoolLayer(pool.kind, kernel: pool.kernel, stride: pool.stride)) }
        }
        modules.append(FlattenLayer())
        for (j, fc) in linears.enumerated() {
            modules.append(fc)
            if j < linears.count - 1 { modules.append(ReLULayer()) }
        }
        network = Sequential(modules)
    }

    /// A freshly initialised network (He initialisation from `seed`, as the bundled models).
    public convenience init(config: CNNConfig, seed: UInt64) throws {
        self.init(try CNN(name: "cnn", config: config, weights: SeededWeights(seed: seed)))
    }

    public var parameters: [Parameter] { network.parameters }

    public func forward(_ input: ModelInput) -> Tensor {
        guard case .images(let images) = input else { preconditionFailure("the CNN takes images") }
        return network.forward(images)
    }

    public func backward(_ dLogits: Tensor) { _ = network.backward(dLogits) }

    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        parameters.map { ($0.name, $0.value) }
    }
}
