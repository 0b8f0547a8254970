// Unstructured magnitude pruning: every weight matrix (linear layers and flattened conv
// kernels) loses its smallest weights — per layer or under one global threshold — and is
// stored and multiplied as CSR, so the zeros are skipped rather than multiplied.
import InfCore
import InfModels

public struct PruneUnstructured: Technique {
    public enum Scope: String, Sendable {
        /// Each matrix pruned to the sparsity on its own.
        case perLayer
        /// One magnitude threshold over every matrix of the model.
        case global
    }

    /// Spelled "prune-unstructured:0.9".
    public static let perLayerPrefix = "prune-unstructured:"
    /// Spelled "prune-unstructured-global:0.9".
    public static let globalPrefix = "prune-unstructured-global:"

    /// Fraction of weights set to zero, in [0, 1).
    public let sparsity: Double
    public let scope: Scope

    /// Throws one sentence unless 0 ≤ sparsity < 1 (at 1 every matrix would be empty).
    public init(sparsity: Double, scope: Scope = .perLayer) throws {
        guard sparsity.isFinite, sparsity >= 0, sparsity < 1 else {
            throw TechniqueError(message: "the sparsity of \(Self.prefix(scope))S must satisfy 0 ≤ S < 1, got \(sparsity).")
        }
        self.sparsity = sparsity
        self.scope = scope
    }

    /// Parses "prune-unstructured:S" or "prune-unstructured-global:S"; nil when `spec` has
    /// neither prefix (so the catalogue can try other techniques), and one sentence naming
    /// the option when S is not a number in [0, 1).
    public static func parse(_ spec: String) throws -> PruneUnstructured? {
        let scope: Scope
        let rest: Substring
        if spec.hasPrefix(globalPrefix) {
            scope = .global
            rest = spec.dropFirst(globalPrefix.count)
        } else if spec.hasPrefix(perLayerPrefix) {
            scope = .perLayer
            rest = spec.dropFirst(perLayerPrefix.count)
        } else {
            return nil
        }
        guard let s = Double(rest) else {
            throw TechniqueError(message: "technique \"\(spec)\": the sparsity after \"\(prefix(scope))\" must be a number in [0, 1), e.g. \(prefix(scope))0.9.")
        }
        do {
            return try PruneUnstructured(sparsity: s, scope: scope)
        } catch {
            throw TechniqueError(message: "technique \"\(spec)\": the sparsity after \"\(prefix(scope))\" must satisfy 0 ≤ S < 1, got \(rest).")
        }
    }

    static func prefix(_ scope: Scope) -> String { scope == .global ? globalPrefix : perLayerPrefix }

    public var name: String { "\(Self.prefix(scope))\(sparsity)" }

    public var executes: String {
        let percent = (sparsity * 1000).rounded() / 10
        let how = scope == .global ? "under one global threshold" : "per layer"
        let pct = percent == percent.rounded() ? "\(Int(percent))" : "\(percent)"
        return "magnitude-pruned to \(pct)% zeros \(how); CSR sparse kernel (infbench, \(VectorISA.active.rawValue) path), fp32: only nonzeros are multiplied"
    }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        let model = loaded.model
        switch scope {
        case .perLayer:
            return model.transformingWeights { _, w in
                CSRWeights(MagnitudePruning.pruneLayer(w.dense(), sparsity: sparsity))
            }
        case .global:
            // Two passes over the same names: collect every matrix, prune them together,
            // then hand each its pruned version.
            var names: [String] = []
            var matrices: [Tensor] = []
            _ = model.transformingWeights { name, w in
                names.append(name)
                matrices.append(w.dense())
                return w
            }
            let pruned = MagnitudePruning.pruneGlobal(matrices, sparsity: sparsity).tensors
            let byName = Dictionary(uniqueKeysWithValues: zip(names, pruned))
            return try model.transformingWeights { name, _ in
                guard let t = byName[name] else {
                    throw TechniqueError(message: "global pruning: the model named matrix \"\(name)\" only on the second pass.")
                }
                return CSRWeights(t)
            }
        }
    }
}
