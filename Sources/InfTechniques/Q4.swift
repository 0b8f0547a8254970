// q4: weight-only Q4_0 — every weight matrix (linear, conv, LM head) stored as blocks of 32
// 4-bit integers in [−7, 7] with one fp16 scale (4.5 bits per weight), fp32 activations and sums.
import InfCore
import InfModels

public struct Q4Technique: Technique {
    public static let name = "q4"
    public init() {}
    public var name: String { Self.name }
    public var executes: String { blockQuantExecutes(.q4_0) }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        loaded.model.transformingWeights { _, w in BlockQuantWeights(w.dense(), format: .q4_0) }
    }
}
