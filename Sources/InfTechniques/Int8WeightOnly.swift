// int8-weights: weight-only Q8_0 — every weight matrix (linear, conv, LM head) stored as blocks
// of 32 int8 with one fp16 scale (8.5 bits per weight), activations and sums fp32. For the
// memory-bound paths (batch 1, decoding), where reading fewer weight bytes is the whole gain.
import InfCore
import InfModels

public struct Int8WeightOnlyTechnique: BlockQuantTechnique {
    public static let name = "int8-weights"
    public static let format = BlockQuantWeights.Format.q8_0
    public init() {}
}

/// A weight-only block format (int8-weights, q4): every weight matrix re-stored as
/// BlockQuantWeights of `format`; the two techniques differ in nothing else.
public protocol BlockQuantTechnique: WeightFormatTechnique {
    static var format: BlockQuantWeights.Format { get }
}

extension BlockQuantTechnique {
    public static func stored(_ dense: Tensor) -> any LinearWeights { BlockQuantWeights(dense, format: format) }

    /// What runs for the format.
    public var executes: String {
        let bits = Self.format == .q8_0 ? "int8 (Q8_0)" : "4-bit (Q4_0)"
        return "\(bits) weights in blocks of 32 with one fp16 scale, fp32 activations and sums: up to "
            + "\(BlockQuantWeights.maxStreamingRows) activation rows a C kernel (\(BlockQuantWeights.kernelPath.rawValue) path) "
            + "decodes the blocks in registers and FMAs in fp32; more rows and convolutions dequantize panels of "
            + "≤ 256 weight rows to fp32 for OpenBLAS sgemm; attention, softmax, LayerNorm and embeddings stay fp32"
    }
}
