// What the harness needs from a model: make seeded inputs, run a forward pass,
// count its FLOPs and weight bytes, and list its tensors for saving; the token-model
// capability (variable-length batches); and what the image classifiers share (kind, inputs).
// Models implement the counts and tensors by declaring their parameters (ModelParameters.swift).
import InfCore

/// A batch of model input.
public enum ModelInput: Sendable {
    /// Token ids (B·T), row-major, and an optional padding mask (B, T) of 1/0.
    case tokens(ids: [Int32], mask: Tensor?, batch: Int, length: Int)
    /// Images (B, C, H, W).
    case images(Tensor)

    public var batch: Int {
        switch self {
        case .tokens(_, _, let b, _): return b
        case .images(let t): return t.shape[0]
        }
    }
}

public protocol InferenceModel: AnyObject {
    var name: String { get }
    var kind: ModelKind { get }
    /// Unit of throughput: "seq" or "img".
    var itemUnit: String { get }
    var parameterCount: Int { get }
    /// Bytes the weights occupy as stored (changes with fp16/bf16/sparse techniques).
    var weightBytes: Int { get }
    /// Bytes of weights one forward pass reads: every matrix, bias and norm once; embedding tables
    /// not (a pass reads only the rows of its tokens). The numerator of the bandwidth roof.
    var bytesReadPerPass: Int { get }
    /// Longest sequence the model accepts (nil for the CNN).
    var maxSequenceLength: Int? { get }
    /// Whether outputs are logits, so arg-max agreement means something.
    var outputIsLogits: Bool { get }

    /// Seeded random input of the given size.
    func makeInput(batch: Int, sequenceLength: Int, rng: inout SeededRNG) -> ModelInput
    /// One forward pass on `context`'s threads (recording phases into its profiler, if any). The
    /// result is the model's own output buffer: copy it to keep it.
    func forward(_ input: ModelInput, in context: ExecutionContext) -> Tensor
    /// Multiply–add FLOPs (×2) of one forward pass: the GEMM and attention products.
    func flops(batch: Int, sequenceLength: Int) -> Double
    /// Every parameter under its checkpoint name, in checkpoint order.
    func namedTensors() -> [(name: String, tensor: Tensor)]
    /// A copy (own scratch buffers, shared unchanged parameters) whose weight matrices —
    /// linear layers and flattened conv kernels — are `transform(name, weights)`; biases,
    /// norms and embedding tables stay as they are. This is how precision and sparsity
    /// techniques reach every layer. Names are checkpoint prefixes, e.g.
    /// "encoder.layer.0.intermediate.dense", "features.1.conv", "lm_head".
    /// Labelled examples (the test split of the generated dataset the model was trained on),
    /// or nil. With them, inputs are real examples and the harness reports accuracy.
    var evaluationSet: LabelledExamples? { get }

    func transformingWeights(_ transform: (_ name: String, _ weights: any LinearWeights) throws -> any LinearWeights) rethrows -> InferenceModel
}

/// A model over token ids that honours a padding mask (the BERT-style encoder): what batches of
/// sequences of different lengths need.
public protocol TokenModel: InferenceModel {
    var vocabularySize: Int { get }
    var maxPositions: Int { get }
}

/// An image classifier over (B, C, H, W) inputs (the CNN, EfficientNet): the harness runs it once
/// per batch size, and with labelled images attached it is fed those instead of noise.
public protocol ImageClassifier: InferenceModel {
    /// Labelled images its inputs are drawn from, or nil for seeded noise.
    var evaluation: LabelledImages? { get }
    /// (C, H, W) of one input image.
    var imageShape: [Int] { get }
}

extension ImageClassifier {
    public var kind: ModelKind { .cnn }
    public var itemUnit: String { "img" }
    public var maxSequenceLength: Int? { nil }
    public var outputIsLogits: Bool { true }

    public func makeInput(batch: Int, sequenceLength _: Int, rng: inout SeededRNG) -> ModelInput {
        if let evaluation, evaluation.count > 0 {
            // Real images, so quality figures describe what the model sees, not noise.
            return evaluation.input((0..<batch).map { _ in rng.nextInt(below: evaluation.count) })
        }
        return .images(Tensor.randomUniform([batch] + imageShape, in: -1...1, rng: &rng))
    }
}

extension InferenceModel {
    /// One forward pass on one thread, not profiled (tests, tools, references).
    public func forward(_ input: ModelInput) -> Tensor { forward(input, in: .serial) }

    public var evaluationSet: LabelledExamples? { nil }
    /// Models without a declaration: every weight byte.
    public var bytesReadPerPass: Int { weightBytes }
}

extension InferenceModel {
    /// A deep copy for an A/A row: its own weight matrices (fresh allocations, fp32) and, as every
    /// `transformingWeights` copy, its own scratch buffers; biases, norms and embedding tables
    /// stay shared. Sharing the baseline's warm weights would let the copy run on cache lines the
    /// baseline just touched, and the noise floor would measure that.
    public func deepCopy() -> InferenceModel {
        transformingWeights { _, w in
            let dense = w.dense()
            return DenseWeights(Tensor(shape: dense.shape, storage: dense.storage.map { $0 }))
        }
    }
}
