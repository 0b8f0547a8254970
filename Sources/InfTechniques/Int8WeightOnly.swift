// int8-weights: weight-only Q8_0 — every weight matrix (linear, conv, LM head) stored as blocks
// of 32 int8 with one fp16 scale (8.5 bits per weight), activations and sums fp32. For the
// memory-bound paths (batch 1, decoding), where reading fewer weight bytes is the whole gain.
import InfCore
import InfModels

public struct Int8WeightOnlyTechnique: Technique {
    public static let name = "int8-weights"
    public init() {}
    public var name: String { Self.name }
    public var executes: String { blockQuantExecutes(.q8_0) }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        loaded.model.transformingWeights { _, w in BlockQuantWeights(w.dense(), format: .q8_0) }
    }
}

/// What runs for a weight-only block format, shared by int8-weights and q4.
func blockQuantExecutes(_ format: BlockQuantWeights.Format) -> String {
    let bits = format == .q8_0 ? "int8 (Q8_0)" : "4-bit (Q4_0)"
    return "\(bits) weights in blocks of 32 with one fp16 scale, fp32 activations and sums: up to "
        + "\(BlockQuantWeights.maxStreamingRows) activation rows a C kernel (\(BlockQuantWeights.kernelPath.rawValue) path) "
        + "decodes the blocks in registers and FMAs in fp32; more rows and convolutions dequantize panels of "
        + "≤ 256 weight rows to fp32 for OpenBLAS sgemm; attention, softmax, LayerNorm and embeddings stay fp32"
}
