// int8 (W8A8 dynamic): every weight matrix — linear layers, conv kernels through im2col, the
// decoder's LM head — quantized to int8 with one scale per output channel; each layer's input
// quantized per row (per token / per output pixel) to uint8 + zero point on every call; int32
// sums in infbench's own GEMM; fp32 rescale, then bias. Attention scores, softmax, LayerNorm,
// GELU and embeddings stay fp32.
import InfCore
import InfModels

public struct Int8Technique: WeightFormatTechnique {
    public static let name = "int8"
    public init() {}

    /// Names the kernel that runs now (after INFBENCH_ISA), so a report from a CPU without
    /// VNNI says which path lost.
    public var executes: String {
        let kernel: String
        switch Int8Kernel.kernelName {
        case "avx512vnni": kernel = "AVX512-VNNI vpdpbusd kernel"
        case "avx2": kernel = "AVX2 kernel (vpmaddwd on int16-widened operands, exact)"
        default: kernel = "portable C kernel"
        }
        return "W8A8 dynamic: int8 weights (symmetric, one scale per output channel), activations quantized per row "
            + "to uint8 + zero point at run time, int32 sums (\(kernel)), fp32 rescale + bias; "
            + "attention scores and softmax, LayerNorm, GELU and embeddings stay fp32"
    }

    public static func stored(_ dense: Tensor) -> any LinearWeights { Int8Weights(dense) }
}
