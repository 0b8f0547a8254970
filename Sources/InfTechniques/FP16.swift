// fp16 weight storage: every weight matrix (linear layers and flattened conv kernels)
// kept as IEEE half, halving weight bytes; compute stays fp32 after exact conversion.
// Biases, norms and embedding tables stay fp32.
import InfCore
import InfModels

public struct FP16Technique: WeightFormatTechnique {
    public static let name = "fp16"
    public init() {}
    public var executes: String {
        "fp16 weight storage, fp32 compute: up to \(FP16Weights.maxStreamingRows) activation rows a C kernel "
            + "(\(FP16Weights.kernelPath.rawValue) path) streams the fp16 weights once per 8 rows, converting in registers "
            + "(vcvtph2ps) and FMA-ing in fp32; convolutions and more rows convert panels of ≤ 256 weight rows "
            + "(≤ 256 KB fp32) and multiply each by OpenBLAS sgemm"
    }

    public static func stored(_ dense: Tensor) -> any LinearWeights { FP16Weights(dense) }
}
