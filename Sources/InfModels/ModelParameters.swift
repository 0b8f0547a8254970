// A model's parameters, declared once: each with its checkpoint name, shape, role and the place
// in the model that holds it. One walk over that declaration loads and checks a checkpoint, lists
// the named tensors, counts parameters and weight bytes, applies the weight-transform seam of the
// precision and sparsity techniques and copies a model; the memory estimate walks the same
// declaration from the configuration alone, before any weights exist.
import InfCore

/// What a parameter is for: how techniques, counts and estimates treat it.
public enum ParameterRole: String, Sendable {
    /// A linear layer's weight matrix or a conv kernel flattened to (OC, IC·K·K): the
    /// weight-transform seam (fp16, bf16, int8, q4, sparse) reaches exactly these.
    case matrix
    case bias
    /// LayerNorm γ and β.
    case norm
    case embedding
    /// A depthwise conv kernel: not a matrix product, so it stays fp32 under every technique.
    case depthwise
}

/// One parameter as the checkpoint and the memory estimate see it.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var role: ParameterRole
    public var count: Int { shape.reduce(1, *) }
}

/// One declared parameter of `Model`.
public struct ModelParameter<Model: AnyObject> {
    /// Where the executed value lives in the model.
    public enum Slot {
        case tensor(ReferenceWritableKeyPath<Model, Tensor>)
        case bias(ReferenceWritableKeyPath<Model, Tensor?>)
        case matrix(ReferenceWritableKeyPath<Model, any LinearWeights>)
    }

    /// How the checkpoint stores it, when not as one tensor of the declared shape.
    public enum Layout {
        case direct
        /// The rows of several checkpoint tensors of equal shape, concatenated (BERT's query, key,
        /// value into one fused QKV matrix or bias).
        case fused([String])
        /// The storage of another declared tensor (a tied LM head); not in the checkpoint twice.
        case tied(to: String)
        /// A conv kernel followed by the batch norm `bn` (weight, bias, running_mean, running_var),
        /// folded into the kernel and into the conv's bias `bias` at load; written back with the
        /// identity norm after the folded bias (BatchNorm.identity), so it loads into the same model.
        case batchNormFolded(bn: String, eps: Float, bias: ReferenceWritableKeyPath<Model, Tensor?>)
    }

    /// Checkpoint name, e.g. "encoder.layer.0.intermediate.dense.weight".
    public let name: String
    /// Shape in the checkpoint, e.g. (OC, IC, K, K) for a conv kernel the model holds as (OC, IC·K·K).
    public let shape: [Int]
    public let role: ParameterRole
    public let slot: Slot
    public let layout: Layout
    /// How generated (seeded) weights are drawn.
    public let initialiser: Init

    public init(_ name: String, _ shape: [Int], _ role: ParameterRole, _ slot: Slot, _ initialiser: Init, layout: Layout = .direct) {
        (self.name, self.shape, self.role, self.slot, self.initialiser, self.layout) = (name, shape, role, slot, initialiser, layout)
    }

    /// A linear layer's "prefix.weight" (out, in) and "prefix.bias" (out).
    public static func linear(_ prefix: String, out: Int, in inFeatures: Int, _ path: ReferenceWritableKeyPath<Model, Linear>,
                              weight: Init, bias: Init) -> [ModelParameter] {
        [ModelParameter("\(prefix).weight", [out, inFeatures], .matrix, .matrix(path.appending(path: \.weights)), weight),
         ModelParameter("\(prefix).bias", [out], .bias, .bias(path.appending(path: \.bias)), bias)]
    }

    /// A LayerNorm's "prefix.weight" (γ, C) and "prefix.bias" (β, C).
    public static func norm(_ prefix: String, _ c: Int, _ path: ReferenceWritableKeyPath<Model, LayerNorm>,
                            weight: Init = .ones, bias: Init) -> [ModelParameter] {
        [ModelParameter("\(prefix).weight", [c], .norm, .tensor(path.appending(path: \.weight)), weight),
         ModelParameter("\(prefix).bias", [c], .norm, .tensor(path.appending(path: \.bias)), bias)]
    }

    /// A conv's "prefix.weight" (OC, IC, K, K) and "prefix.bias" (OC).
    public static func conv(_ prefix: String, out: Int, in c: Int, kernel k: Int, _ path: ReferenceWritableKeyPath<Model, Conv2D>,
                            weight: Init, bias: Init) -> [ModelParameter] {
        [ModelParameter("\(prefix).weight", [out, c, k, k], .matrix, .matrix(path.appending(path: \.weights)), weight),
         ModelParameter("\(prefix).bias", [out], .bias, .bias(path.appending(path: \.bias)), bias)]
    }

    /// The name the weight-transform seam passes for a matrix: the checkpoint prefix
    /// ("encoder.layer.0.intermediate.dense", "features.1.conv", "lm_head").
    public var seamName: String { name.hasSuffix(".weight") ? String(name.dropLast(7)) : name }

    public var spec: ParameterSpec { ParameterSpec(name: name, shape: shape, role: role) }

    /// The tensors the model holds for this parameter as it executes: none for a tied one, the kernel
    /// and its folded bias for a batch-normed conv. The memory estimate and `parameterCount` add these.
    public var executedSpecs: [ParameterSpec] {
        switch layout {
        case .tied: return []
        case .batchNormFolded(let bn, _, _): return [spec, ParameterSpec(name: "\(bn) (folded bias)", shape: [shape[0]], role: .bias)]
        case .direct, .fused: return [spec]
        }
    }

    /// The key path of the slot, for finding a parameter by where it lives.
    public var path: AnyKeyPath {
        switch slot {
        case .tensor(let p): return p
        case .bias(let p): return p
        case .matrix(let p): return p
        }
    }
}

/// A model whose parameters are declared once (see ModelParameter).
public protocol DeclaredModel: InferenceModel {
    associatedtype Config
    /// What the model is fed besides its parameters (real text, evaluation examples): a copy keeps it.
    associatedtype Attachments
    var name: String { get }
    var config: Config { get }
    var attachments: Attachments { get set }
    /// Every parameter, in checkpoint order.
    static func parameters(_ config: Config) -> [ModelParameter<Self>]
    /// The model's layers for `config`, parameters not yet filled (UnloadedWeights and empty
    /// tensors): loading and copying fill them by walking the declaration.
    init(structureFor config: Config, name: String) throws
}

/// Stands in for a matrix before a declaration walk fills it; never multiplies.
public struct UnloadedWeights: LinearWeights {
    public let outFeatures: Int
    public let inFeatures: Int
    public init(out: Int, in inFeatures: Int) { (outFeatures, self.inFeatures) = (out, inFeatures) }
    public var byteCount: Int { 0 }
    public func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        preconditionFailure("a parameter was declared but never loaded")
    }
    public func multiplyLeft(_ b: UnsafePointer<Float>, columns n: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        preconditionFailure("a parameter was declared but never loaded")
    }
    public func dense() -> Tensor { Tensor(zeros: [outFeatures, inFeatures]) }
}

extension Linear {
    /// A linear layer whose parameters a declaration walk fills.
    public static func unloaded(out: Int, in inFeatures: Int) -> Linear {
        Linear(weights: UnloadedWeights(out: out, in: inFeatures), bias: nil)
    }
}

extension LayerNorm {
    public static func unloaded(eps: Float) -> LayerNorm {
        LayerNorm(weight: Tensor(zeros: [0]), bias: Tensor(zeros: [0]), eps: eps)
    }
}

extension Embedding {
    public static var unloaded: Embedding { Embedding(table: Tensor(zeros: [0, 0])) }
}

extension Conv2D {
    public static func unloaded(out: Int, in c: Int, kernel k: Int, stride: Int, padding: Int, paddingEnd: Int? = nil) -> Conv2D {
        Conv2D(weights: UnloadedWeights(out: out, in: c * k * k), bias: nil, inChannels: c, kernelH: k, kernelW: k,
               stride: stride, padding: padding, paddingEnd: paddingEnd)
    }
}

extension DeclaredModel {
    public var parameters: [ModelParameter<Self>] { Self.parameters(config) }

    /// Loads every declared parameter from `weights` (each name and shape checked by the source).
    public func load(from weights: WeightSource) throws {
        var loaded: [String: Tensor] = [:]
        for p in parameters {
            let t: Tensor
            switch p.layout {
            case .direct:
                t = try weights.tensor(p.name, shape: p.shape, initialiser: p.initialiser)
            case .fused(let parts):
                var part = p.shape
                part[0] /= parts.count
                t = Tensor(shape: p.shape, storage: try parts.flatMap { try weights.tensor($0, shape: part, initialiser: p.initialiser).storage })
            case .tied(let source):
                guard let s = loaded[source] else { preconditionFailure("\(p.name) is tied to \(source), declared after it") }
                t = s
            case .batchNormFolded(let bn, let eps, let bias):
                let kernel = try weights.tensor(p.name, shape: p.shape, initialiser: p.initialiser)
                let c = p.shape[0]
                let norm = BatchNorm(gamma: try weights.tensor("\(bn).weight", shape: [c], initialiser: .ones),
                                     beta: try weights.tensor("\(bn).bias", shape: [c], initialiser: .zeros),
                                     mean: try weights.tensor("\(bn).running_mean", shape: [c], initialiser: .zeros),
                                     variance: try weights.tensor("\(bn).running_var", shape: [c], initialiser: .ones), eps: eps)
                let folded = norm.fold(weight: kernel, bias: nil)
                self[keyPath: bias] = folded.bias
                t = folded.weight
            }
            loaded[p.name] = t
            set(p.slot, t)
        }
    }

    private func set(_ slot: ModelParameter<Self>.Slot, _ t: Tensor) {
        switch slot {
        case .tensor(let path): self[keyPath: path] = t
        case .bias(let path): self[keyPath: path] = t
        case .matrix(let path): self[keyPath: path] = DenseWeights(t.rank == 2 ? t : t.reshaped([t.shape[0], t.count / t.shape[0]]))
        }
    }

    /// The executed value of a slot as a dense tensor of the declared (checkpoint) shape.
    private func value(_ p: ModelParameter<Self>) -> Tensor {
        switch p.slot {
        case .tensor(let path): return self[keyPath: path]
        case .bias(let path): return self[keyPath: path]!
        case .matrix(let path): return self[keyPath: path].dense().reshaped(p.shape)
        }
    }

    private func byteCount(_ slot: ModelParameter<Self>.Slot) -> Int {
        switch slot {
        case .tensor(let path): return self[keyPath: path].byteCount
        case .bias(let path): return self[keyPath: path]?.byteCount ?? 0
        case .matrix(let path): return self[keyPath: path].byteCount
        }
    }

    /// Every parameter under its checkpoint name, in checkpoint order (tied ones once).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        parameters.flatMap { p -> [(name: String, tensor: Tensor)] in
            switch p.layout {
            case .direct: return [(p.name, value(p))]
            case .tied: return []
            case .fused(let parts):
                let t = value(p), n = t.count / parts.count
                var shape = p.shape
                shape[0] /= parts.count
                return parts.enumerated().map { j, name in (name, Tensor(shape: shape, storage: Array(t.storage[(j * n)..<((j + 1) * n)]))) }
            case .batchNormFolded(let bn, let eps, let bias):
                let id = BatchNorm.identity(bias: self[keyPath: bias]!, eps: eps)
                return [(p.name, value(p)), ("\(bn).weight", id.gamma), ("\(bn).bias", id.beta),
                        ("\(bn).running_mean", id.mean), ("\(bn).running_var", id.variance)]
            }
        }
    }

    /// Parameters as executed: a folded batch norm is its conv's bias, a tied head is not counted again.
    public var parameterCount: Int { parameters.flatMap(\.executedSpecs).reduce(0) { $0 + $1.count } }

    /// Bytes the parameters occupy as stored (changes with fp16/bf16/int8/sparse techniques). A tied head
    /// reads the embedding table's values but executes from its own copy (packed fp32, or converted by
    /// a technique), so it is counted beside the table.
    public var weightBytes: Int {
        parameters.reduce(0) { sum, p in
            switch p.layout {
            case .batchNormFolded(_, _, let bias): return sum + byteCount(p.slot) + (self[keyPath: bias]?.byteCount ?? 0)
            default: return sum + byteCount(p.slot)
            }
        }
    }

    /// Bytes one forward pass reads: every parameter as stored but the embedding tables.
    public var bytesReadPerPass: Int {
        parameters.reduce(0) { sum, p in
            switch p.layout {
            case .batchNormFolded(_, _, let bias): return sum + byteCount(p.slot) + (self[keyPath: bias]?.byteCount ?? 0)
            default: return p.role == .embedding ? sum : sum + byteCount(p.slot)
            }
        }
    }

    /// The declared parameter at `path` (e.g. `\.layers[0].fc1.weights`).
    public func declared(_ path: AnyKeyPath) -> ModelParameter<Self> {
        guard let p = parameters.first(where: { $0.path == path }) else { preconditionFailure("\(name): no parameter at \(path)") }
        return p
    }

    /// The name `executedTensors` gives the parameter at `path`: its declared name, or "<bn>.bias" for
    /// the bias a batch norm folded into (the identity norm's β in the checkpoint).
    public func executedName(_ path: AnyKeyPath) -> String {
        for p in parameters {
            if p.path == path { return p.name }
            if case .batchNormFolded(let bn, _, let bias) = p.layout, bias == path { return "\(bn).bias" }
        }
        preconditionFailure("\(name): no parameter at \(path)")
    }

    /// Every parameter as the model executes it, under its declared name (see `executedName`): a fused
    /// QKV as one matrix, a folded conv's kernel and bias; a tied head is left out (it follows its source).
    public func executedTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in parameters {
            switch p.layout {
            case .tied: continue
            case .batchNormFolded(let bn, _, let bias): out["\(bn).bias"] = self[keyPath: bias]
            case .direct, .fused: break
            }
            out[p.name] = value(p)
        }
        return out
    }

    /// Sets every declared parameter from tensors as `executedTensors` names them (shapes checked):
    /// how a trainer or a structured pruning hands weights back.
    public func setExecuted(_ tensors: [String: Tensor]) {
        func tensor(_ name: String, _ shape: [Int]) -> Tensor {
            guard let v = tensors[name], v.count == shape.reduce(1, *) else { preconditionFailure("\(self.name): no tensor \(name) of shape \(shape)") }
            return v.reshaped(shape)
        }
        var set: [String: Tensor] = [:]
        for p in parameters {
            let t: Tensor
            switch p.layout {
            case .tied(let source): t = set[source]!
            case .batchNormFolded(let bn, _, let bias):
                t = tensor(p.name, p.shape)
                self[keyPath: bias] = tensor("\(bn).bias", [p.shape[0]])
            case .direct, .fused: t = tensor(p.name, p.shape)
            }
            set[p.name] = t
            self.set(p.slot, t)
        }
    }

    /// This architecture with `config` (a pruned shape) and `tensors` as `executedTensors` names them,
    /// fed the same inputs (attachments).
    public func rebuilt(config: Config, executed tensors: [String: Tensor]) throws -> Self {
        let model = try Self(structureFor: config, name: name)
        model.setExecuted(tensors)
        model.attachments = attachments
        return model
    }

    /// A copy with its own scratch buffers, sharing every parameter and the attachments.
    public func copy() -> Self {
        // The structure was built once from this very config, so building it again cannot fail.
        let copy = try! Self(structureFor: config, name: name)
        for p in parameters {
            switch p.slot {
            case .tensor(let path): copy[keyPath: path] = self[keyPath: path]
            case .bias(let path): copy[keyPath: path] = self[keyPath: path]
            case .matrix(let path): copy[keyPath: path] = self[keyPath: path]
            }
            if case .batchNormFolded(_, _, let bias) = p.layout { copy[keyPath: bias] = self[keyPath: bias] }
        }
        copy.attachments = attachments
        return copy
    }

    /// A copy whose matrices (role .matrix) are `transform(seamName, weights)`; see InferenceModel.
    public func transformingWeights(_ transform: (String, any LinearWeights) throws -> any LinearWeights) rethrows -> InferenceModel {
        let copy = copy()
        for p in parameters {
            if case .matrix(let path) = p.slot { copy[keyPath: path] = try transform(p.seamName, self[keyPath: path]) }
        }
        return copy
    }
}
