// bf16: every weight matrix (linear layers and flattened conv kernels) stored as bfloat16,
// half the bytes of fp32, and multiplied by infbench's own bf16 GEMM — vdpbf16ps where the
// CPU has AVX512-BF16, a portable widening fp32 FMA kernel elsewhere. Biases, norms and
// embedding tables stay fp32.
import InfCore
import InfModels

public struct BF16Technique: WeightFormatTechnique {
    public static let name = "bf16"
    public init() {}

    /// Names the kernel that runs on this CPU now (after INFBENCH_ISA and any forced path),
    /// so a report made on a machine without AVX512-BF16 says so.
    public var executes: String {
        let kernel = BF16Kernel.nativeActive
            ? "AVX512-BF16 vdpbf16ps kernel"
            : "portable kernel (bf16 widened to fp32, fp32 FMA; \(BF16Kernel.kernelName))"
        return "bf16 weights (round to nearest even), activations rounded to bf16 per block, fp32 accumulation: \(kernel)"
    }

    public static func stored(_ dense: Tensor) -> any LinearWeights { BF16Weights(dense) }
}
