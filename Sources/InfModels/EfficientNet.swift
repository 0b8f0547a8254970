// EfficientNet-Lite (Tan & Le 2019; the Lite variants drop squeeze-excitation and use ReLU6),
// NCHW, checkpoint names as EfficientNet-PyTorch spells them:
//   x = ReLU6(BN(Conv3×3/2(x)))                                          stem
//   per block:  h = ReLU6(BN(Conv1×1(x)))        expand (absent when the ratio is 1)
//               h = ReLU6(BN(DepthwiseK×K/s(h)))
//               h = BN(Conv1×1(h))                project (linear: no activation)
//               x = h + x  when s = 1 and channels in = out, else x = h
//   x = ReLU6(BN(Conv1×1(x)));  logits = W · mean_{H,W}(x) + b           head, pooling, classifier
// The parameters are declared once (`parameters`); every BN is folded into its conv at load (BatchNorm.fold). Convolutions pad as TensorFlow's
// "same", with which the weights were trained: output ⌈H/s⌉, the odd padding row at the end.
import Foundation
import InfCore

public struct EfficientNetConfig: ArchitectureConfig, Codable, Equatable {
    public struct Block: Codable, Sendable, Equatable {
        public var inChannels: Int
        public var outChannels: Int
        public var expandRatio: Int
        public var kernelSize: Int
        public var stride: Int
        /// Channels of the depthwise stage when not in · ratio: set by channel pruning
        /// ("infbench_expanded_channels", infbench's own key).
        public var expandedChannelsOverride: Int?

        enum CodingKeys: String, CodingKey {
            case inChannels = "in_channels", outChannels = "out_channels", expandRatio = "expand_ratio"
            case kernelSize = "kernel_size", stride, expandedChannelsOverride = "infbench_expanded_channels"
        }

        public init(inChannels: Int, outChannels: Int, expandRatio: Int, kernelSize: Int, stride: Int) {
            (self.inChannels, self.outChannels, self.expandRatio, self.kernelSize, self.stride) = (inChannels, outChannels, expandRatio, kernelSize, stride)
        }

        /// Channels of the depthwise stage.
        public var expandedChannels: Int { expandedChannelsOverride ?? inChannels * expandRatio }
        /// The skip connection exists when the block keeps the shape.
        public var hasSkip: Bool { stride == 1 && inChannels == outChannels }
    }

    /// (C, H, W) of one image; H = W.
    public var inputShape: [Int]
    public var stemChannels: Int
    public var stemKernelSize: Int
    public var stemStride: Int
    public var blocks: [Block]
    public var headChannels: Int
    public var numClasses: Int
    public var batchNormEps: Float
    /// "same" (TensorFlow's, the only one supported).
    public var padding: String
    /// "relu6" (the Lite variants; the only one supported).
    public var activation: String
    /// ImageNet class names by index, if known.
    public var classNames: [String]?
    /// The evaluation images beside config.json (a safetensors file with "images" (N, C, H, W)), and their names.
    public var images: String?
    public var imageNames: [String]?

    enum CodingKeys: String, CodingKey {
        case inputShape = "input_shape", stemChannels = "stem_channels", stemKernelSize = "stem_kernel_size"
        case stemStride = "stem_stride", blocks, headChannels = "head_channels", numClasses = "num_classes"
        case batchNormEps = "batch_norm_eps", padding, activation, classNames = "class_names"
        case images = "infbench_images", imageNames = "infbench_image_names"
    }

    public init(inputShape: [Int], stemChannels: Int, stemKernelSize: Int = 3, stemStride: Int = 2, blocks: [Block],
                headChannels: Int, numClasses: Int, batchNormEps: Float = 1e-3, classNames: [String]? = nil) {
        self.inputShape = inputShape
        self.stemChannels = stemChannels
        self.stemKernelSize = stemKernelSize
        self.stemStride = stemStride
        self.blocks = blocks
        self.headChannels = headChannels
        self.numClasses = numClasses
        self.batchNormEps = batchNormEps
        self.padding = "same"
        self.activation = "relu6"
        self.classNames = classNames
    }

    /// TensorFlow "same" padding of a K×K, stride-s conv on a side of n: (before, after); output ⌈n/s⌉.
    static func samePadding(_ n: Int, kernel k: Int, stride s: Int) -> (Int, Int) {
        let out = (n + s - 1) / s
        let total = max((out - 1) * s + k - n, 0)
        return (total / 2, total - total / 2)
    }

    /// Nil when consistent, else the sentence saying what is wrong.
    public func problem() -> String? {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 && $0 <= 8192 }), inputShape[1] == inputShape[2] else {
            return "input_shape must be [channels, side, side] of sizes in 1...8192, got \(inputShape)"
        }
        if padding != "same" { return "padding \"\(padding)\" is not supported (only \"same\", TensorFlow's)" }
        if activation != "relu6" { return "activation \"\(activation)\" is not supported (only \"relu6\", EfficientNet-Lite's)" }
        for (key, v) in [("stem_channels", stemChannels), ("head_channels", headChannels), ("num_classes", numClasses)] where v < 1 || v > 1 << 20 {
            return "\(key) must lie in 1...\(1 << 20), got \(v)"
        }
        if stemKernelSize < 1 || stemKernelSize > 64 || stemStride < 1 || stemStride > 64 {
            return "stem_kernel_size and stem_stride must lie in 1...64"
        }
        if !(batchNormEps > 0 && batchNormEps < 1) { return "batch_norm_eps must lie in (0, 1), got \(batchNormEps)" }
        var channels = stemChannels
        for (i, b) in blocks.enumerated() {
            guard b.inChannels == channels else {
                return "block \(i) takes \(b.inChannels) channels but the layer before it gives \(channels)"
            }
            guard (1...65536).contains(b.outChannels), (1...64).contains(b.expandRatio), (1...64).contains(b.kernelSize),
                  (1...64).contains(b.stride), b.kernelSize % 2 == 1 else {
                return "block \(i) needs out_channels in 1...65536 and expand_ratio, stride and an odd kernel_size in 1...64"
            }
            if let e = b.expandedChannelsOverride, b.expandRatio == 1 || !(1...65536).contains(e) {
                return "block \(i): infbench_expanded_channels needs expand_ratio > 1 and a value in 1...65536, got \(e)"
            }
            channels = b.outChannels
        }
        if let classNames, classNames.count != numClasses {
            return "class_names has \(classNames.count) names for \(numClasses) classes"
        }
        return nil
    }
}

extension ModelKind {
    public static let efficientnet = ModelKind(rawValue: "efficientnet")
}

extension ModelConfig {
    public var efficientnet: EfficientNetConfig? { settings(as: EfficientNetConfig.self) }
}

public final class EfficientNet: RegisteredModel, ImageClassifier {
    public struct Block: Sendable {
        public var expand: Conv2D?            // _expand_conv (E, C, 1, 1) + _bn0, E = C · ratio; nil when ratio is 1
        public var depthwise: DepthwiseConv2D // _depthwise_conv (E, 1, K, K) + _bn1, ReLU6 fused
        public var project: Conv2D            // _project_conv (C', E, 1, 1) + _bn2
        public var skip: Bool
    }

    public let name: String
    public let config: EfficientNetConfig
    public var stem: Conv2D         // _conv_stem (32, 3, 3, 3) + _bn0
    public var blocks: [Block]      // _blocks.i
    public var head: Conv2D         // _conv_head (1280, 320, 1, 1) + _bn1
    public var classifier: Linear   // _fc (classes, 1280)
    /// Spatial side of the input of the stem, then after the stem and after every block.
    public let sides: [Int]

    /// The real photographs (and crops of them) the model is fed, labelled with the fp32
    /// model's own top-1 class: `accuracy` of a variant is its top-1 agreement with fp32 on them.
    public var evaluation: LabelledImages?
    public var imageNames: [String] = []
    public var evaluationSet: LabelledExamples? { evaluation }

    // Scratch for one image: block input/output pair, expanded and depthwise maps; the batch's logits.
    private var image = Tensor(zeros: [0]), batchLogits = Tensor(zeros: [0])
    private var x = Tensor(zeros: [0]), y = Tensor(zeros: [0])
    private var expanded = Tensor(zeros: [0]), depthwised = Tensor(zeros: [0])
    private var col = Tensor(zeros: [0]), pooled = Tensor(zeros: [0]), logits = Tensor(zeros: [0])

    public init(structureFor config: EfficientNetConfig, name: String) throws {
        if let p = config.problem() { throw ModelError("\(name): \(p).") }
        self.name = name
        self.config = config
        /// A conv padded "same" for an input side of `n`.
        func conv(out: Int, in c: Int, k: Int, stride s: Int, side n: Int) -> Conv2D {
            let (before, after) = EfficientNetConfig.samePadding(n, kernel: k, stride: s)
            return .unloaded(out: out, in: c, kernel: k, stride: s, padding: before, paddingEnd: after)
        }
        var side = config.inputShape[1]
        var sides = [side]
        stem = conv(out: config.stemChannels, in: config.inputShape[0], k: config.stemKernelSize, stride: config.stemStride, side: side)
        side = (side + config.stemStride - 1) / config.stemStride
        sides.append(side)
        blocks = config.blocks.map { b in
            let e = b.expandedChannels, k = b.kernelSize
            let expand = b.expandRatio == 1 ? nil : conv(out: e, in: b.inChannels, k: 1, stride: 1, side: side)
            let (before, after) = EfficientNetConfig.samePadding(side, kernel: k, stride: b.stride)
            let depthwise = DepthwiseConv2D(weight: Tensor(zeros: [e, 1, k, k]), bias: nil, stride: b.stride, padding: before,
                                            paddingEnd: after, fusedReLU6: true)
            side = (side + b.stride - 1) / b.stride
            sides.append(side)
            return Block(expand: expand, depthwise: depthwise, project: conv(out: b.outChannels, in: e, k: 1, stride: 1, side: side),
                         skip: b.hasSkip)
        }
        let last = config.blocks.last?.outChannels ?? config.stemChannels
        head = conv(out: config.headChannels, in: last, k: 1, stride: 1, side: side)
        classifier = .unloaded(out: config.numClasses, in: config.headChannels)
        self.sides = sides
    }

    /// The parameters under EfficientNet-PyTorch's names. Every conv is followed by a batch norm that
    /// folds into it at load; generated weights use He initialisation so activations neither vanish nor blow up.
    public static func parameters(_ config: EfficientNetConfig) -> [ModelParameter<EfficientNet>] {
        typealias P = ModelParameter<EfficientNet>
        let eps = config.batchNormEps
        func he(_ fanIn: Int) -> Init { .normal(std: (2 / Float(fanIn)).squareRoot()) }
        func conv(_ prefix: String, _ bn: String, out: Int, in c: Int, k: Int, _ path: ReferenceWritableKeyPath<EfficientNet, Conv2D>) -> P {
            P("\(prefix).weight", [out, c, k, k], .matrix, .matrix(path.appending(path: \.weights)), he(c * k * k),
              layout: .batchNormFolded(bn: bn, eps: eps, bias: path.appending(path: \.bias)))
        }
        var out = [conv("_conv_stem", "_bn0", out: config.stemChannels, in: config.inputShape[0], k: config.stemKernelSize, \.stem)]
        for (i, b) in config.blocks.enumerated() {
            let p = "_blocks.\(i)", e = b.expandedChannels, k = b.kernelSize
            if b.expandRatio != 1 { out.append(conv("\(p)._expand_conv", "\(p)._bn0", out: e, in: b.inChannels, k: 1, \.blocks[i].expand!)) }
            out.append(P("\(p)._depthwise_conv.weight", [e, 1, k, k], .depthwise, .tensor(\.blocks[i].depthwise.weight), he(k * k),
                         layout: .batchNormFolded(bn: "\(p)._bn1", eps: eps, bias: \.blocks[i].depthwise.bias)))
            out.append(conv("\(p)._project_conv", "\(p)._bn2", out: b.outChannels, in: e, k: 1, \.blocks[i].project))
        }
        let last = config.blocks.last?.outChannels ?? config.stemChannels, h = config.headChannels
        out.append(conv("_conv_head", "_bn1", out: h, in: last, k: 1, \.head))
        return out + P.linear("_fc", out: config.numClasses, in: h, \.classifier, weight: .normal(std: (1 / Float(h)).squareRoot()), bias: .zeros)
    }

    public var attachments: (evaluation: LabelledImages?, imageNames: [String]) {
        get { (evaluation, imageNames) }
        set { (evaluation, imageNames) = newValue }
    }

    /// The photographs named by the config, labelled with this (fp32) model's own top-1 class.
    public func attachFiles(directory: String?, configPath: String) throws -> [String] {
        try attachImages(configPath: configPath).map { [$0] } ?? []
    }

    // An image classifier: kind, unit and inputs as the CNN's (ImageClassifier).
    public var imageShape: [Int] { config.inputShape }

    public func flops(batch: Int, sequenceLength _: Int) -> Double {
        var total = stem.flops(height: sides[0], width: sides[0])
        for (i, b) in blocks.enumerated() {
            let (n, m) = (sides[i + 1], sides[i + 2])
            total += (b.expand?.flops(height: n, width: n) ?? 0) + b.depthwise.flops(height: n, width: n)
                + b.project.flops(height: m, width: m)
        }
        total += head.flops(height: sides.last!, width: sides.last!) + 2 * Double(classifier.inFeatures * classifier.outFeatures)
        return Double(batch) * total
    }

    /// images (B, 3, 224, 224) → logits (B, classes), one image at a time: the convs multiply
    /// per image anyway (Conv2D), so a layer over the whole batch gains nothing and only streams
    /// its maps through DRAM (at B = 32 the first expanded map is 154 MB; one image's is 4.8 MB).
    /// Measured: batch 32 ran at half the images/s of batch 1 layer by layer.
    public func forward(_ input: ModelInput, in context: ExecutionContext) -> Tensor {
        guard case let .images(images) = input else { preconditionFailure("\(name) takes images") }
        precondition(Array(images.shape.dropFirst()) == config.inputShape, "\(name) expects images \(config.inputShape), got \(images.shape)")
        let batch = images.shape[0]
        if batch == 1 { return forwardOne(images, context) }
        batchLogits.resize([batch, config.numClasses])
        for i in 0..<batch {
            images.copyItems(i..<(i + 1), into: &image)
            batchLogits.setItems(i, from: forwardOne(image, context))
        }
        return batchLogits
    }

    /// image (1, 3, 224, 224) → logits (1, classes).
    private func forwardOne(_ images: Tensor, _ context: ExecutionContext) -> Tensor {
        context.measure("stem") { stem(images, into: &x, col: &col, in: context); relu6(&x, in: context) }   // (1, 32, 112, 112)
        // Most of the running time is spent in the blocks' 1×1 convs (sgemm) and depthwise convs.
        for block in blocks {
            if let expand = block.expand {
                expand(x, into: &expanded, col: &col, in: context)                                 // (B, E, H, W)
                context.measure("relu6") { relu6(&expanded, in: context) }
                block.depthwise(expanded, into: &depthwised, in: context)                          // (B, E, H/s, W/s), ReLU6 fused
            } else {
                block.depthwise(x, into: &depthwised, in: context)
            }
            block.project(depthwised, into: &y, col: &col, in: context)                            // (B, C', H/s, W/s)
            if block.skip { context.measure("residual") { addInPlace(&y, x) } }
            swap(&x, &y)
        }
        head(x, into: &expanded, col: &col, in: context)                                           // (B, 1280, 7, 7)
        context.measure("relu6") { relu6(&expanded, in: context) }
        context.measure("pool") { globalAveragePool(expanded, into: &pooled, in: context) }     // (B, 1280)
        context.measure("classifier") { classifier(pooled, into: &logits, in: context) }        // (B, classes)
        return logits
    }

    /// Reads the evaluation images named by the config (beside `configPath`) and labels each
    /// with this (fp32) model's top-1 class. Returns a note for the report.
    func attachImages(configPath: String) throws -> String? {
        guard let file = config.images else { return nil }
        let path = ((configPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)
        let st = try SafetensorsFile.open(path: path)
        guard let shape = st.info("images")?.shape, shape.count == 4, Array(shape.dropFirst()) == config.inputShape, shape[0] >= 1 else {
            throw ModelError("\(path): needs a tensor \"images\" of shape (N, \(config.inputShape.map(String.init).joined(separator: ", "))).")
        }
        let images = try st.tensor("images", shape: shape)
        let names = config.imageNames ?? []
        guard names.isEmpty || names.count == shape[0] else {
            throw ModelError("\(configPath): infbench_image_names has \(names.count) names for the \(shape[0]) images of \(file).")
        }
        let labels = Self.top(1, of: forward(.images(images))).map { $0[0] }
        evaluation = LabelledImages(images: images, labels: labels.map(Int32.init),
                                    classNames: config.classNames ?? (0..<config.numClasses).map { "class \($0)" })
        imageNames = names
        return "\(name): inputs are \(shape[0]) real photographs and crops of them (\(file)); accuracy is top-1 agreement with the fp32 model's own class on all of them (no ImageNet labels)."
    }

    /// Indices of the k largest logits of each row of (B, classes), largest first (ties: lower index).
    public static func top(_ k: Int, of logits: Tensor) -> [[Int]] {
        let c = logits.lastDim
        return (0..<logits.rows).map { r in
            let row = logits.storage[(r * c)..<((r + 1) * c)]
            return Array(row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(k)).map { $0 - r * c }
        }
    }
}
