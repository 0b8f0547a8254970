// An optimisation technique turns a loaded model into the variant the harness
// measures. One file per technique; each says plainly what actually executes.
import InfCore
import InfModels

public protocol Technique: Sendable {
    /// The name as typed on the command line and shown in reports, e.g. "fp32".
    var name: String { get }
    /// What actually executes, e.g. "fp32 weights, OpenBLAS sgemm".
    var executes: String { get }
    /// The model to measure: the loaded model itself or a transformed copy.
    func apply(to loaded: LoadedModel) throws -> InferenceModel
    /// What changed in this instance, for the report (e.g. new parameter count and shapes); nil: nothing to add.
    func describe(_ applied: InferenceModel, original: LoadedModel) -> String?
}

extension Technique {
    public func describe(_ applied: InferenceModel, original: LoadedModel) -> String? { nil }
}

/// A technique that re-stores every weight matrix (linear layers, flattened conv kernels, the LM
/// head) in one format, from its dense fp32 values; biases, norms and embeddings stay fp32.
public protocol WeightFormatTechnique: Technique {
    static var name: String { get }
    /// The (out, in) matrix `dense` in this technique's format.
    static func stored(_ dense: Tensor) -> any LinearWeights
}

extension WeightFormatTechnique {
    public var name: String { Self.name }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        loaded.model.transformingWeights { _, w in Self.stored(w.dense()) }
    }
}

public struct TechniqueError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public enum Techniques {
    /// Every technique infbench knows: (name as typed, one-line description).
    public static let catalogue: [(name: String, summary: String)] = [
        (FP32Baseline.name, "fp32 weights and activations: linear layers on infbench's GEMM over weights packed once, convolutions on OpenBLAS sgemm; the reference every other row is compared with"),
        (FP32OpenBLAS.name, "fp32 with every linear layer through OpenBLAS sgemm/sgemv (W packed per call): what infbench's packed fp32 kernel is measured against"),
        (AABaseline.name, "the fp32 baseline measured again as its own variant: the A/A row that shows the noise floor (added automatically)"),
        (FP16Technique.name, "fp16 weight storage (IEEE half), fp32 compute: converted in registers (F16C) while streaming, or per panel before sgemm"),
        (BF16Technique.name, "bf16 weights and activations (round to nearest even), fp32 accumulation: infbench's AVX512-BF16 vdpbf16ps GEMM, or a portable fp32-FMA kernel on CPUs without it"),
        (Int8Technique.name, "W8A8 dynamic: int8 weights per output channel, activations quantized per row at run time, int32 sums (AVX512-VNNI, AVX2 or portable GEMM), fp32 rescale; attention and softmax stay fp32"),
        (Int8WeightOnlyTechnique.name, "weight-only int8 in blocks of 32 with an fp16 scale (Q8_0), fp32 activations: for batch 1 and decoding"),
        (Q4Technique.name, "weight-only 4-bit in blocks of 32 with an fp16 scale (Q4_0), fp32 activations: for batch 1 and decoding"),
        ("prune-unstructured:S", "magnitude-prune each weight matrix to sparsity S (e.g. 0.9); CSR sparse kernel multiplies only the nonzeros"),
        ("prune-unstructured-global:S", "magnitude-prune to sparsity S with one threshold over all matrices; CSR sparse kernel"),
        ("prune-heads:F", "remove share F of attention heads in every layer by weight-norm importance; smaller dense model (transformers)"),
        ("prune-ffn:F", "remove share F of FFN neurons in every layer by weight-norm importance; smaller dense model (transformers)"),
        ("prune-channels:F", "remove share F of conv channels in every stage by filter L1 norm (CNN), or of the expanded channels in every block (EfficientNet); smaller dense model"),
        (DistilledStudent.name, "the teacher's distilled student (<task>-distilled, trained by `infbench distill`) measured in its place: teachers only"),
        ("prune-unstructured:S+ft", "any pruning technique + \"+ft\" or \"+ft:E\": prune, then fine-tune E epochs (default 2; 0 < E < 1: one pass over that share of the split) on the model's dataset (models trained by `infbench distill`), or, on a language model trained on text, E × 50 steps of next-token loss on its training split (`make lm-data`)"),
    ]

    /// Parses a technique as typed (`fp32`); throws one sentence for an unknown name.
    public static func parse(_ spec: String) throws -> Technique {
        if let t = try FineTuned.parse(spec, base: parse) { return t }
        if let t = try PruneStructured.parse(spec) { return t }
        if let t = try PruneUnstructured.parse(spec) { return t }
        switch spec {
        case BF16Technique.name: return BF16Technique()
        case Int8Technique.name: return Int8Technique()
        case Int8WeightOnlyTechnique.name: return Int8WeightOnlyTechnique()
        case Q4Technique.name: return Q4Technique()
        case FP16Technique.name: return FP16Technique()
        case FP32Baseline.name: return FP32Baseline()
        case FP32OpenBLAS.name: return FP32OpenBLAS()
        case DistilledStudent.name: return DistilledStudent()
        case AABaseline.name, "aa", "fp32-aa": return AABaseline()
        default:
            let known = catalogue.map(\.name).joined(separator: ", ")
            throw TechniqueError(message: "unknown technique \"\(spec)\" (known: \(known)).")
        }
    }
}
