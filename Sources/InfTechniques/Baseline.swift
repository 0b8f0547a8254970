// The fp32 baseline, and the same baseline again as an A/A variant: measured
// interleaved with the baseline, its speed-up interval shows what "no change"
// looks like on this machine today.
import InfCore
import InfModels

public struct FP32Baseline: Technique {
    public static let name = "fp32"
    public init() {}
    public var name: String { Self.name }
    public var executes: String { "fp32 weights and activations; linear layers: infbench's \(PackedKernel.name) GEMM on weights packed once; convolutions: OpenBLAS sgemm" }
    public func apply(to loaded: LoadedModel) throws -> InferenceModel { loaded.model }
}

public struct AABaseline: Technique {
    public static let name = "fp32 A/A"
    public init() {}
    public var name: String { Self.name }
    public var executes: String { "identical to fp32; it and fp32 each run on one of 4 deep copies (own weights and scratch), drawn per run: the noise floor" }
    /// "4 deep copies": the harness's TwinPool, which makes the other two.
    /// A deep copy, not the baseline object (see `InferenceModel.deepCopy`).
    public func apply(to loaded: LoadedModel) throws -> InferenceModel { loaded.model.deepCopy() }
}
