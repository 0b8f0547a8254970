// q4: weight-only Q4_0 — every weight matrix (linear, conv, LM head) stored as blocks of 32
// 4-bit integers in [−7, 7] with one fp16 scale (4.5 bits per weight), fp32 activations and sums.
import InfCore
import InfModels

public struct Q4Technique: BlockQuantTechnique {
    public static let name = "q4"
    public static let format = BlockQuantWeights.Format.q4_0
    public init() {}
}
