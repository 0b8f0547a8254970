// A small CNN for images, NCHW:
//   per stage:  x = Pool(ReLU(Conv(x)))
//   x = flatten(x);  per hidden layer: x = ReLU(W x + b);  logits = W_head x + b
import InfCore

public final class CNN: InferenceModel {
    public struct Stage: Sendable {
        public var conv: Conv2D  // features.i.conv (OC, IC, K, K)
        public var pool: Pool2D?
    }

    public let name: String
    public let config: CNNConfig
    public var stages: [Stage]
    public var classifier: [Linear] // hidden layers then the head: classifier.j (out, in)
    /// (C, H, W) after each stage.
    public let featureShapes: [[Int]]

    /// Test images of the dataset the model was trained on (see `evaluationSet`).
    public var evaluation: LabelledImages?
    public var evaluationSet: LabelledExamples? { evaluation }

    private var a = Tensor(zeros: [0])   // ping-pong activation buffers
    private var b = Tensor(zeros: [0])
    private var col = Tensor(zeros: [0]) // im2col scratch (IC·K·K, OH·OW)

    public init(name: String, config: CNNConfig, weights: WeightSource) throws {
        self.name = name
        self.config = config
        guard case .success(let shapes) = config.featureShapes() else {
            throw ModelError("\(name): the CNN configuration does not fit its input shape.")
        }
        featureShapes = shapes
        var inChannels = config.inputShape[0]
        stages = try config.stages.enumerated().map { i, s in
            let fanIn = inChannels * s.kernelSize * s.kernelSize
            // He initialisation keeps activations from vanishing through ReLU stacks.
            let w = try weights.tensor("features.\(i).conv.weight", shape: [s.outChannels, inChannels, s.kernelSize, s.kernelSize],
                                       initialiser: .normal(std: (2 / Float(fanIn)).squareRoot()))
            let bias = try weights.tensor("features.\(i).conv.bias", shape: [s.outChannels], initialiser: .normal(std: 0.01))
            inChannels = s.outChannels
            return Stage(conv: Conv2D(weight: w, bias: bias, stride: s.stride, padding: s.padding),
                         pool: s.pool.map { Pool2D($0, kernel: s.poolSize, stride: s.poolSize) })
        }
        var width = shapes.last.map { $0.reduce(1, *) } ?? config.inputShape.reduce(1, *)
        classifier = try (config.hidden + [config.numClasses]).enumerated().map { j, out in
            let w = try weights.tensor("classifier.\(j).weight", shape: [out, width], initialiser: .normal(std: (2 / Float(width)).squareRoot()))
            let bias = try weights.tensor("classifier.\(j).bias", shape: [out], initialiser: .normal(std: 0.01))
            width = out
            return Linear(weight: w, bias: bias)
        }
    }

    private init(copying other: CNN) {
        name = other.name
        config = other.config
        stages = other.stages
        classifier = other.classifier
        featureShapes = other.featureShapes
        evaluation = other.evaluation
    }

    public func transformingWeights(_ transform: (String, any LinearWeights) throws -> any LinearWeights) rethrows -> InferenceModel {
        let copy = CNN(copying: self)
        for i in copy.stages.indices {
            copy.stages[i].conv.weights = try transform("features.\(i).conv", stages[i].conv.weights)
        }
        for j in copy.classifier.indices {
            copy.classifier[j].weights = try transform("classifier.\(j)", classifier[j].weights)
        }
        return copy
    }

    public var kind: ModelKind { .cnn }
    public var itemUnit: String { "img" }
    public var maxSequenceLength: Int? { nil }
    public var outputIsLogits: Bool { true }
    public var parameterCount: Int { namedTensors().reduce(0) { $0 + $1.tensor.count } }
    public var weightBytes: Int {
        stages.reduce(0) { $0 + $1.conv.byteCount } + classifier.reduce(0) { $0 + $1.byteCount }
    }

    public func makeInput(batch: Int, sequenceLength _: Int, rng: inout SeededRNG) -> ModelInput {
        if let evaluation, evaluation.count > 0 {
            // Real test images, so quality figures describe the task, not noise.
            return evaluation.input((0..<batch).map { _ in rng.nextInt(below: evaluation.count) })
        }
        return .images(Tensor.randomUniform([batch] + config.inputShape, in: -1...1, rng: &rng))
    }

    public func flops(batch: Int, sequenceLength _: Int) -> Double {
        var (h, w) = (config.inputShape[1], config.inputShape[2])
        var total = 0.0
        for (stage, shape) in zip(stages, featureShapes) {
            total += stage.conv.flops(height: h, width: w)
            (h, w) = (shape[1], shape[2])
        }
        total += classifier.reduce(0) { $0 + 2 * Double($1.inFeatures * $1.outFeatures) }
        return Double(batch) * total
    }

    /// images (B, C, H, W) → logits (B, classes).
    public func forward(_ input: ModelInput) -> Tensor {
        guard case let .images(images) = input else { preconditionFailure("\(name) takes images") }
        precondition(Array(images.shape.dropFirst()) == config.inputShape, "\(name) expects images \(config.inputShape), got \(images.shape)")
        let batch = images.shape[0]
        // The result of each step lands in `a`; `b` is the other half of the ping-pong pair.
        if stages.isEmpty { a = images }
        for (i, stage) in stages.enumerated() {
            stage.conv(i == 0 ? images : a, into: &b, col: &col)
            Profiler.measure("relu") { relu(&b) }
            if let pool = stage.pool { Profiler.measure("pool") { pool(b, into: &a) } } else { swap(&a, &b) }
        }
        a.reshape([batch, a.count / batch])   // flatten (B, C·H·W)
        for (j, fc) in classifier.enumerated() {
            Profiler.measure("classifier") {
                fc(a, into: &b)
                if j < classifier.count - 1 { relu(&b) }
            }
            swap(&a, &b)
        }
        return a
    }

    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = []
        for (i, s) in stages.enumerated() {
            out.append(("features.\(i).conv.weight", s.conv.weight))
            out.append(("features.\(i).conv.bias", s.conv.bias!))
        }
        for (j, fc) in classifier.enumerated() {
            out.append(("classifier.\(j).weight", fc.weights.dense()))
            out.append(("classifier.\(j).bias", fc.bias!))
        }
        return out
    }
}
