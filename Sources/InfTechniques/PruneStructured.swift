// Structured pruning: remove whole units — attention heads, FFN neurons or conv
// channels — by an importance score, giving a smaller dense model that runs
// through plain sgemm. The same number of units is kept in every layer/stage, so
// the result is an ordinary config (and can be exported as a checkpoint).
//
// Importance (magnitude-based, no data needed):
//   FFN neuron j:   ‖W_up[j, :]‖₂ · ‖W_down[:, j]‖₂   (what flows in times what flows out)
//   head h:         ‖W_q,k,v rows of h‖₂ · ‖W_o columns of h‖₂
//   conv channel o: ‖filter o‖₁   (Li et al., "Pruning Filters for Efficient ConvNets", 2017)
//   EfficientNet expanded channel j of a block: ‖W_project[:, j]‖₂ · its activation on a unit-scale
//     input (efficientNetChannelScores); the block's input and output widths stay, so the skips fit
// A model takes part through the StructurallyPrunable capability; each architecture's rule works on
// its executed tensors under the names its parameter declaration gives (no hard-coded checkpoint names).
import Foundation
import InfCore
import InfModels

public struct PruneStructured: Technique {
    public enum Unit: String, Sendable, CaseIterable {
        case heads, ffn, channels
    }

    public let unit: Unit
    /// Share of units removed, in [0, 1).
    public let fraction: Double

    public init(unit: Unit, fraction: Double) {
        self.unit = unit
        self.fraction = fraction
    }

    /// "prune-heads:0.5", "prune-ffn:0.5", "prune-channels:0.5"; nil when `spec` is none of these.
    public static func parse(_ spec: String) throws -> PruneStructured? {
        for unit in Unit.allCases {
            let prefix = "prune-\(unit.rawValue):"
            guard spec.hasPrefix(prefix) else { continue }
            let value = spec.dropFirst(prefix.count)
            guard let f = Double(value), f >= 0, f < 1 else {
                throw TechniqueError(message: "\(spec): the share of \(unit.rawValue) to remove must be a number in [0, 1), got \"\(value)\".")
            }
            return PruneStructured(unit: unit, fraction: f)
        }
        return nil
    }

    public var name: String { "prune-\(unit.rawValue):\(fraction)" }

    public var executes: String {
        let what: String
        switch unit {
        case .heads: what = "attention heads (score ‖W_qkv rows‖·‖W_o columns‖)"
        case .ffn: what = "FFN neurons (score ‖W_up row‖·‖W_down column‖)"
        case .channels: what = "conv channels (score ‖filter‖₁; EfficientNet: expanded channels, score ‖project column‖ · activation)"
        }
        return "structured pruning: a share of \(fraction) of \(what) removed in every layer, rounded to whole units (the note gives the shapes); smaller dense fp32 model, OpenBLAS sgemm"
    }

    public func describe(_ applied: InferenceModel, original: LoadedModel) -> String? {
        let before = original.model.parameterCount, after = applied.parameterCount
        let shape = (original.model as? StructurallyPrunable)?.prunedShape(unit, kept: kept) ?? ""
        return String(format: "parameters %.2fM → %.2fM; ", Double(before) / 1e6, Double(after) / 1e6) + shape
    }

    /// A share that rounds to no unit (0.1 of 4 heads) would measure the unpruned model under
    /// a pruning label: refuse it, saying the smallest share that removes one unit.
    func checkRemovesSomething(_ model: StructurallyPrunable) throws {
        let counts = model.unitCounts(unit)
        guard counts.allSatisfy({ kept($0) == $0 }), let n = counts.max() else { return }
        let what = unit == .heads ? "attention heads" : unit == .ffn ? "FFN neurons" : "channels per conv stage"
        let least = String(format: "%.3g", 0.5 / Double(n) + 1e-9)
        throw TechniqueError(message: "\(name) removes nothing from \(model.name): \(fraction) of its \(n) \(what) rounds to 0; use a share of at least \(least) to remove one.")
    }

    /// How many of `n` units stay (at least one).
    func kept(_ n: Int) -> Int { max(1, n - Int((fraction * Double(n)).rounded())) }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        guard let model = loaded.model as? StructurallyPrunable, !model.unitCounts(unit).isEmpty else {
            throw TechniqueError(message: "\(name) does not apply to \(loaded.model.name) (a \(loaded.config.kind.rawValue) model): heads and ffn prune transformers, channels prune CNNs and EfficientNets.")
        }
        try checkRemovesSomething(model)
        return try model.pruned(unit, kept: kept)
    }
}

/// A model structured pruning can shrink: it says how many units of a kind each layer has and
/// builds the smaller model keeping the most important `kept(n)` of each layer's n.
public protocol StructurallyPrunable: InferenceModel {
    /// Units of `unit` per layer or stage; empty when the model has none of that kind.
    func unitCounts(_ unit: PruneStructured.Unit) -> [Int]
    /// The smaller dense model, fed the same inputs.
    func pruned(_ unit: PruneStructured.Unit, kept: (Int) -> Int) throws -> InferenceModel
    /// The shapes before and after, for the report ("intermediate_size 1536 → 768").
    func prunedShape(_ unit: PruneStructured.Unit, kept: (Int) -> Int) -> String
}

/// Where a transformer keeps, per layer, its FFN and its attention: all FFN and head pruning needs.
protocol PrunableTransformer: RegisteredModel, StructurallyPrunable where Config == TransformerConfig {
    static func ffn(_ layer: Int) -> (up: ReferenceWritableKeyPath<Self, Linear>, down: ReferenceWritableKeyPath<Self, Linear>)
    static func attention(_ layer: Int) -> ReferenceWritableKeyPath<Self, MultiHeadAttention>
}

extension TransformerEncoder: PrunableTransformer {
    static func ffn(_ l: Int) -> (up: ReferenceWritableKeyPath<TransformerEncoder, Linear>, down: ReferenceWritableKeyPath<TransformerEncoder, Linear>) {
        (\.layers[l].fc1, \.layers[l].fc2)
    }
    static func attention(_ l: Int) -> ReferenceWritableKeyPath<TransformerEncoder, MultiHeadAttention> { \.layers[l].attention }
}

extension TransformerDecoder: PrunableTransformer {
    static func ffn(_ l: Int) -> (up: ReferenceWritableKeyPath<TransformerDecoder, Linear>, down: ReferenceWritableKeyPath<TransformerDecoder, Linear>) {
        (\.blocks[l].fc1, \.blocks[l].fc2)
    }
    static func attention(_ l: Int) -> ReferenceWritableKeyPath<TransformerDecoder, MultiHeadAttention> { \.blocks[l].attention }
}

extension PrunableTransformer {
    public func unitCounts(_ unit: PruneStructured.Unit) -> [Int] {
        switch unit {
        case .ffn: return [config.intermediateSize]
        case .heads: return [config.numHeads]
        case .channels: return []
        }
    }

    public func prunedShape(_ unit: PruneStructured.Unit, kept: (Int) -> Int) -> String {
        unit == .ffn ? "intermediate_size \(config.intermediateSize) → \(kept(config.intermediateSize))"
            : "heads \(config.numHeads) → \(kept(config.numHeads)) of width \(config.headSize)"
    }

    /// Works on the tensors as executed (QKV fused, (3A, C)), under the names the model declares.
    public func pruned(_ unit: PruneStructured.Unit, kept: (Int) -> Int) throws -> InferenceModel {
        var tensors = executedTensors()
        var config = self.config
        func names(_ fc: ReferenceWritableKeyPath<Self, Linear>) -> (weight: String, bias: String) {
            (executedName(fc.appending(path: \.weights)), executedName(fc.appending(path: \.bias)))
        }
        if unit == .ffn {
            let k = kept(config.intermediateSize)
            for l in 0..<config.numLayers {
                let (up, down) = (names(Self.ffn(l).up), names(Self.ffn(l).down))
                let wUp = tensors[up.weight]!, wDown = tensors[down.weight]!  // (I, C), (C, I)
                let scores = (0..<config.intermediateSize).map { j in rowNorm(wUp, j) * columnNorm(wDown, j) }
                let keep = topIndices(scores, k)
                tensors[up.weight] = selectRows(wUp, keep)
                tensors[up.bias] = selectRows(tensors[up.bias]!.reshaped([config.intermediateSize, 1]), keep).reshaped([k])
                tensors[down.weight] = selectColumns(wDown, keep)
            }
            config.intermediateSize = k
            return try rebuilt(config: config, executed: tensors)
        }
        let (heads, d, c) = (config.numHeads, config.headSize, config.hiddenSize)
        let k = kept(heads)
        let a = heads * d
        for l in 0..<config.numLayers {
            // q, k, v as three (A, C) blocks with their biases, and the output projection (C, A).
            let qkvNames = names(Self.attention(l).appending(path: \.qkv)), outName = names(Self.attention(l).appending(path: \.output)).weight
            let w = tensors[qkvNames.weight]!, b = tensors[qkvNames.bias]!
            var qkv = (0..<3).map { Tensor(shape: [a, c], storage: Array(w.storage[($0 * a * c)..<(($0 + 1) * a * c)])) }
            var qkvBias = (0..<3).map { Tensor(shape: [a], storage: Array(b.storage[($0 * a)..<(($0 + 1) * a)])) }
            let wOut = tensors[outName]!
            let scores = (0..<heads).map { h -> Double in
                let rows = (h * d)..<((h + 1) * d)
                let inNorm = qkv.reduce(0.0) { s, w in s + rows.reduce(0.0) { $0 + pow(rowNorm(w, $1), 2) } }.squareRoot()
                let outNorm = rows.reduce(0.0) { $0 + pow(columnNorm(wOut, $1), 2) }.squareRoot()
                return inNorm * outNorm
            }
            let keepRows = topIndices(scores, k).flatMap { Array(($0 * d)..<(($0 + 1) * d)) }
            qkv = qkv.map { selectRows($0, keepRows) }
            qkvBias = qkvBias.map { selectRows($0.reshaped([a, 1]), keepRows).reshaped([k * d]) }
            tensors[outName] = selectColumns(wOut, keepRows)
            tensors[qkvNames.weight] = Tensor(shape: [3 * k * d, c], storage: qkv.flatMap(\.storage))
            tensors[qkvNames.bias] = Tensor(shape: [3 * k * d], storage: qkvBias.flatMap(\.storage))
        }
        config.numHeads = k
        config.attentionHeadSize = d
        return try rebuilt(config: config, executed: tensors)
    }
}

extension CNN: StructurallyPrunable {
    public func unitCounts(_ unit: PruneStructured.Unit) -> [Int] { unit == .channels ? config.stages.map(\.outChannels) : [] }

    public func prunedShape(_ unit: PruneStructured.Unit, kept: (Int) -> Int) -> String {
        "channels " + config.stages.map { "\($0.outChannels)→\(kept($0.outChannels))" }.joined(separator: ", ")
    }

    /// Conv channels by ‖filter‖₁; the next stage loses the matching input channels.
    public func pruned(_ unit: PruneStructured.Unit, kept: (Int) -> Int) throws -> InferenceModel {
        var tensors = executedTensors()
        var config = self.config
        var keepPrevious: [Int]? = nil // kept channels of the previous stage (input channels of this one)
        for i in config.stages.indices {
            let (wName, bName) = (executedName(\CNN.stages[i].conv.weights), executedName(\CNN.stages[i].conv.bias))
            var w = tensors[wName]! // (OC, IC, K, K)
            if let keepIn = keepPrevious { w = selectInputChannels(w, keepIn) }
            let oc = w.shape[0], per = w.count / oc
            let scores = (0..<oc).map { o in (0..<per).reduce(0.0) { $0 + Double(abs(w.storage[o * per + $1])) } }
            let keep = topIndices(scores, kept(oc))
            tensors[wName] = selectRows(w.reshaped([oc, per]), keep).reshaped([keep.count] + Array(w.shape.dropFirst()))
            tensors[bName] = selectRows(tensors[bName]!.reshaped([oc, 1]), keep).reshaped([keep.count])
            config.stages[i].outChannels = keep.count
            keepPrevious = keep
        }
        if let keep = keepPrevious, let last = featureShapes.last, !classifier.isEmpty {
            // The first classifier layer reads the flattened (C, H, W) map: keep the columns of kept channels.
            let plane = last[1] * last[2]
            let cols = keep.flatMap { Array(($0 * plane)..<(($0 + 1) * plane)) }
            let name = executedName(\CNN.classifier[0].weights)
            tensors[name] = selectColumns(tensors[name]!, cols)
        }
        return try rebuilt(config: config, executed: tensors)
    }
}

extension EfficientNet: StructurallyPrunable {
    public func unitCounts(_ unit: PruneStructured.Unit) -> [Int] {
        unit == .channels ? config.blocks.filter { $0.expandRatio != 1 }.map(\.expandedChannels) : []
    }

    public func prunedShape(_ unit: PruneStructured.Unit, kept: (Int) -> Int) -> String {
        "expanded channels per block " + Set(unitCounts(unit)).sorted().map { "\($0)→\(kept($0))" }.joined(separator: ", ")
    }

    /// The expanded channels of each inverted residual block: expand rows and their folded biases, the
    /// depthwise filters and their biases, project columns. Block 0 has no expansion (its depthwise
    /// stage reads the stem, whose width the skips elsewhere do not constrain, but the stem is 32
    /// channels of 27 weights: left alone).
    public func pruned(_ unit: PruneStructured.Unit, kept: (Int) -> Int) throws -> InferenceModel {
        var tensors = executedTensors()
        var config = self.config
        for (i, b) in config.blocks.enumerated() where b.expandRatio != 1 {
            let e = b.expandedChannels
            let expandName = executedName(\EfficientNet.blocks[i].expand!.weights), expandBias = executedName(\EfficientNet.blocks[i].expand!.bias)
            let dwName = executedName(\EfficientNet.blocks[i].depthwise.weight), dwBias = executedName(\EfficientNet.blocks[i].depthwise.bias)
            let projectName = executedName(\EfficientNet.blocks[i].project.weights)
            let expand = tensors[expandName]!.reshaped([e, b.inChannels])
            let project = tensors[projectName]!.reshaped([b.outChannels, e])
            let dw = tensors[dwName]!
            let keep = topIndices(efficientNetChannelScores(expand: expand, expandBias: tensors[expandBias]!,
                                                            depthwise: dw.reshaped([e, dw.count / e]), depthwiseBias: tensors[dwBias]!,
                                                            project: project), kept(e))
            tensors[expandName] = selectRows(expand, keep).reshaped([keep.count, b.inChannels, 1, 1])
            tensors[dwName] = selectRows(dw.reshaped([e, dw.count / e]), keep).reshaped([keep.count] + Array(dw.shape.dropFirst()))
            for bias in [expandBias, dwBias] { tensors[bias] = selectRows(tensors[bias]!.reshaped([e, 1]), keep).reshaped([keep.count]) }
            tensors[projectName] = selectColumns(project, keep).reshaped([b.outChannels, keep.count, 1, 1])
            config.blocks[i].expandedChannelsOverride = keep.count
        }
        return try rebuilt(config: config, executed: tensors)
    }
}

/// Importance of each expanded channel j of an EfficientNet block, from its folded weights
/// (biases are the identity norms' β): ‖project[:, j]‖₂ times the activation the channel
/// carries for an input of unit scale, a_j = ReLU6(Σ dw_j · ReLU6(‖expand_j‖₂ + b0_j) + b1_j),
/// the depthwise filter's sum being its gain on a smooth map. The biases matter: a channel
/// with small weights but a large folded bias carries a near-constant activation up to 6,
/// which a weights-only score (‖expand_j‖·‖project_j‖) ranks last; removing a quarter of the
/// channels by that score left 0% top-1 agreement on EfficientNet-Lite0.
func efficientNetChannelScores(expand: Tensor, expandBias: Tensor, depthwise: Tensor, depthwiseBias: Tensor, project: Tensor) -> [Double] {
    func relu6(_ v: Double) -> Double { min(max(v, 0), 6) }
    let k = depthwise.lastDim
    return (0..<expand.rows).map { j in
        let h = relu6(rowNorm(expand, j) + Double(expandBias.storage[j]))
        let gain = (0..<k).reduce(0.0) { $0 + Double(depthwise.storage[j * k + $1]) }
        return columnNorm(project, j) * relu6(gain * h + Double(depthwiseBias.storage[j]))
    }
}

// MARK: Selection helpers on row-major matrices

/// ‖w[row, :]‖₂ of a (rows, cols) matrix.
func rowNorm(_ w: Tensor, _ row: Int) -> Double {
    let cols = w.lastDim
    return (0..<cols).reduce(0.0) { $0 + Double(w.storage[row * cols + $1]) * Double(w.storage[row * cols + $1]) }.squareRoot()
}

/// ‖w[:, col]‖₂ of a (rows, cols) matrix.
func columnNorm(_ w: Tensor, _ col: Int) -> Double {
    let cols = w.lastDim
    return (0..<w.rows).reduce(0.0) { $0 + Double(w.storage[$1 * cols + col]) * Double(w.storage[$1 * cols + col]) }.squareRoot()
}

/// Indices of the `k` largest scores, in ascending index order (ties: the lower index wins).
func topIndices(_ scores: [Double], _ k: Int) -> [Int] {
    Array(scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k)).sorted()
}

/// Rows `keep` of a (rows, cols) matrix.
func selectRows(_ w: Tensor, _ keep: [Int]) -> Tensor {
    let cols = w.lastDim
    return Tensor(shape: [keep.count, cols], storage: keep.flatMap { w.storage[($0 * cols)..<(($0 + 1) * cols)] })
}

/// Columns `keep` of a (rows, cols) matrix.
func selectColumns(_ w: Tensor, _ keep: [Int]) -> Tensor {
    let cols = w.lastDim
    return Tensor(shape: [w.rows, keep.count], storage: (0..<w.rows).flatMap { r in keep.map { w.storage[r * cols + $0] } })
}

/// Input channels `keep` of an (OC, IC, KH, KW) kernel.
func selectInputChannels(_ w: Tensor, _ keep: [Int]) -> Tensor {
    let (oc, ic, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let plane = kh * kw
    var out: [Float] = []
    out.reserveCapacity(oc * keep.count * plane)
    for o in 0..<oc { for c in keep { out += w.storage[((o * ic + c) * plane)..<((o * ic + c + 1) * plane)] } }
    return Tensor(shape: [oc, keep.count, kh, kw], storage: out)
}
