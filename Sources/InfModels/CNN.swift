// A small CNN for images, NCHW:
//   per stage:  x = Pool(ReLU(Conv(x)))
//   x = flatten(x);  per hidden layer: x = ReLU(W x + b);  logits = W_head x + b
import InfCore

extension ModelKind {
    public static let cnn = ModelKind(rawValue: "cnn")
}

public final class CNN: RegisteredModel, ImageClassifier {
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

    public init(structureFor config: CNNConfig, name: String) throws {
        self.name = name
        self.config = config
        guard case .success(let shapes) = config.featureShapes() else {
            throw ModelError("\(name): the CNN configuration does not fit its input shape.")
        }
        featureShapes = shapes
        let inputs = [config.inputShape[0]] + config.stages.map(\.outChannels)
        stages = config.stages.enumerated().map { i, s in
            Stage(conv: .unloaded(out: s.outChannels, in: inputs[i], kernel: s.kernelSize, stride: s.stride, padding: s.padding),
                  pool: s.pool.map { Pool2D($0, kernel: s.poolSize, stride: s.poolSize) })
        }
        let widths = Self.classifierWidths(config, shapes)
        classifier = zip(widths, widths.dropFirst()).map { .unloaded(out: $1, in: $0) }
    }

    /// Input width of the first classifier layer, then every layer's output width.
    private static func classifierWidths(_ config: CNNConfig, _ shapes: [[Int]]) -> [Int] {
        [shapes.last.map { $0.reduce(1, *) } ?? config.inputShape.reduce(1, *)] + config.hidden + [config.numClasses]
    }

    /// features.i.conv (OC, IC, K, K) and classifier.j (out, in), with He initialisation for generated
    /// weights: it keeps activations from vanishing through ReLU stacks.
    public static func parameters(_ config: CNNConfig) -> [ModelParameter<CNN>] {
        typealias P = ModelParameter<CNN>
        guard case .success(let shapes) = config.featureShapes() else { return [] }
        let inputs = [config.inputShape[0]] + config.stages.map(\.outChannels)
        let widths = classifierWidths(config, shapes)
        func he(_ fanIn: Int) -> Init { .normal(std: (2 / Float(fanIn)).squareRoot()) }
        return config.stages.enumerated().flatMap { i, s in
            P.conv("features.\(i).conv", out: s.outChannels, in: inputs[i], kernel: s.kernelSize, \.stages[i].conv,
                   weight: he(inputs[i] * s.kernelSize * s.kernelSize), bias: .normal(std: 0.01))
        } + (0..<(widths.count - 1)).flatMap { j in
            P.linear("classifier.\(j)", out: widths[j + 1], in: widths[j], \.classifier[j], weight: he(widths[j]), bias: .normal(std: 0.01))
        }
    }

    public var attachments: LabelledImages? {
        get { evaluation }
        set { evaluation = newValue }
    }

    /// The test images of the dataset the model was trained on.
    public func attachEvaluation(_ examples: LabelledExamples, dataset: String, configPath: String) throws {
        guard let images = examples as? LabelledImages else {
            throw ModelError("\(configPath): infbench_dataset \"\(dataset)\" does not fit a \(kind.rawValue) model.")
        }
        guard images.imageShape == config.inputShape, images.classNames.count == config.numClasses else {
            throw ModelError("\(configPath): infbench_dataset \"\(dataset)\" makes \(images.imageShape) images of \(images.classNames.count) classes; the CNN takes \(config.inputShape) and has \(config.numClasses) classes.")
        }
        evaluation = images
    }

    public var imageShape: [Int] { config.inputShape }

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
    public func forward(_ input: ModelInput, in context: ExecutionContext) -> Tensor {
        guard case let .images(images) = input else { preconditionFailure("\(name) takes images") }
        precondition(Array(images.shape.dropFirst()) == config.inputShape, "\(name) expects images \(config.inputShape), got \(images.shape)")
        let batch = images.shape[0]
        // The result of each step lands in `a`; `b` is the other half of the ping-pong pair.
        if stages.isEmpty { a = images }
        for (i, stage) in stages.enumerated() {
            stage.conv(i == 0 ? images : a, into: &b, col: &col, in: context)
            context.measure("relu") { relu(&b, in: context) }
            if let pool = stage.pool { context.measure("pool") { pool(b, into: &a, in: context) } } else { swap(&a, &b) }
        }
        a.reshape([batch, a.count / batch])   // flatten (B, C·H·W)
        // The classifier runs with OpenBLAS on one thread: the convs above keep it on one, and
        // waking its sleeping workers for a GEMV of cnn-small's 4096×256 layer took the classifier
        // from 0.37 ms (1 thread) to 1.4 ms (2 threads) at batch 1; on one thread it is ≤ 2.3%
        // of every bundled CNN's 1-thread pass.
        context.withSingleThreadedBLAS {
            for (j, fc) in classifier.enumerated() {
                context.measure("classifier") {
                    fc(a, into: &b, in: context)
                    if j < classifier.count - 1 { relu(&b, in: context) }
                }
                swap(&a, &b)
            }
        }
        return a
    }
}
