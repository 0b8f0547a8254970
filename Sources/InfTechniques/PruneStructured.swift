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
        var shape = ""
        switch unit {
        case .ffn:
            shape = "intermediate_size \(original.config.transformer!.intermediateSize) → \(kept(original.config.transformer!.intermediateSize))"
        case .heads:
            let t = original.config.transformer!
            shape = "heads \(t.numHeads) → \(kept(t.numHeads)) of width \(t.headSize)"
        case .channels:
            if let net = original.config.efficientnet {
                let expanded = net.blocks.filter { $0.expandRatio != 1 }.map(\.expandedChannels)
                shape = "expanded channels per block " + Set(expanded).sorted().map { "\($0)→\(kept($0))" }.joined(separator: ", ")
            } else {
                shape = "channels " + original.config.cnn!.stages.map { "\($0.outChannels)→\(kept($0.outChannels))" }.joined(separator: ", ")
            }
        }
        return String(format: "parameters %.2fM → %.2fM; ", Double(before) / 1e6, Double(after) / 1e6) + shape
    }

    /// A share that rounds to no unit (0.1 of 4 heads) would measure the unpruned model under
    /// a pruning label: refuse it, saying the smallest share that removes one unit.
    func checkRemovesSomething(_ loaded: LoadedModel) throws {
        let counts: [Int]
        switch unit {
        case .heads, .ffn:
            guard let t = loaded.config.transformer else { return }
            counts = [unit == .heads ? t.numHeads : t.intermediateSize]
        case .channels:
            guard let c = loaded.config.cnn else { return }
            counts = c.stages.map(\.outChannels)
        }
        guard counts.allSatisfy({ kept($0) == $0 }), let n = counts.max() else { return }
        let what = unit == .heads ? "attention heads" : unit == .ffn ? "FFN neurons" : "channels per conv stage"
        let least = String(format: "%.3g", 0.5 / Double(n) + 1e-9)
        throw TechniqueError(message: "\(name) removes nothing from \(loaded.model.name): \(fraction) of its \(n) \(what) rounds to 0; use a share of at least \(least) to remove one.")
    }

    /// How many of `n` units stay (at least one).
    func kept(_ n: Int) -> Int { max(1, n - Int((fraction * Double(n)).rounded())) }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        try checkRemovesSomething(loaded)
        let model = loaded.model
        var tensors = Dictionary(uniqueKeysWithValues: model.namedTensors().map { ($0.name, $0.tensor) })
        let label = "\(model.name) \(name)"
        switch (unit, loaded.config.kind) {
        case (.ffn, .bert), (.ffn, .gpt):
            var config = loaded.config.transformer!
            let k = kept(config.intermediateSize)
            let names = loaded.config.kind == .bert
                ? { (l: Int) in ("encoder.layer.\(l).intermediate.dense", "encoder.layer.\(l).output.dense") }
                : { (l: Int) in ("h.\(l).mlp.fc", "h.\(l).mlp.proj") }
            for l in 0..<config.numLayers {
                let (up, down) = names(l)
                let wUp = tensors["\(up).weight"]!, wDown = tensors["\(down).weight"]!  // (I, C), (C, I)
                let scores = (0..<config.intermediateSize).map { j in rowNorm(wUp, j) * columnNorm(wDown, j) }
                let keep = topIndices(scores, k)
                tensors["\(up).weight"] = selectRows(wUp, keep)
                tensors["\(up).bias"] = selectRows(tensors["\(up).bias"]!.reshaped([config.intermediateSize, 1]), keep).reshaped([k])
                tensors["\(down).weight"] = selectColumns(wDown, keep)
            }
            config.intermediateSize = k
            return try rebuild(like: loaded.model, transformer: config, tensors: tensors, label: label)

        case (.heads, .bert), (.heads, .gpt):
            var config = loaded.config.transformer!
            let (heads, d, c) = (config.numHeads, config.headSize, config.hiddenSize)
            let k = kept(heads)
            let a = heads * d
            for l in 0..<config.numLayers {
                // q, k, v as three (A, C) blocks with their biases, and the output projection (C, A).
                var qkv: [Tensor], qkvBias: [Tensor]
                let outName: String
                if loaded.config.kind == .bert {
                    let p = "encoder.layer.\(l).attention"
                    qkv = ["query", "key", "value"].map { tensors["\(p).self.\($0).weight"]! }
                    qkvBias = ["query", "key", "value"].map { tensors["\(p).self.\($0).bias"]! }
                    outName = "\(p).output.dense.weight"
                } else {
                    let w = tensors["h.\(l).attn.qkv.weight"]!, b = tensors["h.\(l).attn.qkv.bias"]!
                    qkv = (0..<3).map { Tensor(shape: [a, c], storage: Array(w.storage[($0 * a * c)..<(($0 + 1) * a * c)])) }
                    qkvBias = (0..<3).map { Tensor(shape: [a], storage: Array(b.storage[($0 * a)..<(($0 + 1) * a)])) }
                    outName = "h.\(l).attn.proj.weight"
                }
                let wOut = tensors[outName]!
                let scores = (0..<heads).map { h -> Double in
                    let rows = (h * d)..<((h + 1) * d)
                    let inNorm = qkv.reduce(0.0) { s, w in s + rows.reduce(0.0) { $0 + pow(rowNorm(w, $1), 2) } }.squareRoot()
                    let outNorm = rows.reduce(0.0) { $0 + pow(columnNorm(wOut, $1), 2) }.squareRoot()
                    return inNorm * outNorm
                }
                let keepHeads = topIndices(scores, k)
                let keepRows = keepHeads.flatMap { Array(($0 * d)..<(($0 + 1) * d)) }
                qkv = qkv.map { selectRows($0, keepRows) }
                qkvBias = qkvBias.map { selectRows($0.reshaped([a, 1]), keepRows).reshaped([k * d]) }
                tensors[outName] = selectColumns(wOut, keepRows)
                if loaded.config.kind == .bert {
                    let p = "encoder.layer.\(l).attention.self"
                    for (j, part) in ["query", "key", "value"].enumerated() {
                        tensors["\(p).\(part).weight"] = qkv[j]
                        tensors["\(p).\(part).bias"] = qkvBias[j]
                    }
                } else {
                    tensors["h.\(l).attn.qkv.weight"] = Tensor(shape: [3 * k * d, c], storage: qkv.flatMap(\.storage))
                    tensors["h.\(l).attn.qkv.bias"] = Tensor(shape: [3 * k * d], storage: qkvBias.flatMap(\.storage))
                }
            }
            config.numHeads = k
            config.attentionHeadSize = d
            return try rebuild(like: loaded.model, transformer: config, tensors: tensors, label: label)

        case (.channels, .cnn):
            var config = loaded.config.cnn!
            guard let cnn = model as? CNN else { throw TechniqueError(message: "\(name): \(model.name) is not a CNN.") }
            var keepPrevious: [Int]? = nil // kept channels of the previous stage (input channels of this one)
            for i in config.stages.indices {
                var w = tensors["features.\(i).conv.weight"]! // (OC, IC, K, K)
                if let keepIn = keepPrevious { w = selectInputChannels(w, keepIn) }
                let oc = w.shape[0], per = w.count / oc
                let scores = (0..<oc).map { o in (0..<per).reduce(0.0) { $0 + Double(abs(w.storage[o * per + $1])) } }
                let keep = topIndices(scores, kept(oc))
                tensors["features.\(i).conv.weight"] = selectRows(w.reshaped([oc, per]), keep).reshaped([keep.count] + Array(w.shape.dropFirst()))
                tensors["features.\(i).conv.bias"] = selectRows(tensors["features.\(i).conv.bias"]!.reshaped([oc, 1]), keep).reshaped([keep.count])
                config.stages[i].outChannels = keep.count
                keepPrevious = keep
            }
            if let keep = keepPrevious, let last = cnn.featureShapes.last {
                // The first classifier layer reads the flattened (C, H, W) map: keep the columns of kept channels.
                let plane = last[1] * last[2]
                let cols = keep.flatMap { Array(($0 * plane)..<(($0 + 1) * plane)) }
                tensors["classifier.0.weight"] = selectColumns(tensors["classifier.0.weight"]!, cols)
            }
            return try rebuild(like: loaded.model, cnn: config, tensors: tensors, label: label)

        case (.channels, .efficientnet):
            // The expanded channels of each inverted residual block: expand rows, their BN, the
            // depthwise filters and their BN, project columns. Block 0 has no expansion (its
            // depthwise stage reads the stem, whose width the skips elsewhere do not constrain,
            // but the stem is 32 channels of 27 weights: left alone).
            var config = loaded.config.efficientnet!
            for (i, b) in config.blocks.enumerated() where b.expandRatio != 1 {
                let p = "_blocks.\(i)", e = b.expandedChannels
                let expand = tensors["\(p)._expand_conv.weight"]!.reshaped([e, b.inChannels])
                let project = tensors["\(p)._project_conv.weight"]!.reshaped([b.outChannels, e])
                let dw = tensors["\(p)._depthwise_conv.weight"]!
                let keep = topIndices(efficientNetChannelScores(expand: expand, expandBias: tensors["\(p)._bn0.bias"]!,
                                                                depthwise: dw.reshaped([e, dw.count / e]), depthwiseBias: tensors["\(p)._bn1.bias"]!,
                                                                project: project), kept(e))
                tensors["\(p)._expand_conv.weight"] = selectRows(expand, keep).reshaped([keep.count, b.inChannels, 1, 1])
                tensors["\(p)._depthwise_conv.weight"] = selectRows(dw.reshaped([e, dw.count / e]), keep).reshaped([keep.count] + Array(dw.shape.dropFirst()))
                for bn in ["_bn0", "_bn1"] {
                    for part in ["weight", "bias", "running_mean", "running_var"] {
                        let name = "\(p).\(bn).\(part)"
                        tensors[name] = selectRows(tensors[name]!.reshaped([e, 1]), keep).reshaped([keep.count])
                    }
                }
                tensors["\(p)._project_conv.weight"] = selectColumns(project, keep).reshaped([b.outChannels, keep.count, 1, 1])
                config.blocks[i].expandedChannelsOverride = keep.count
            }
            return try rebuild(like: loaded.model, efficientnet: config, tensors: tensors, label: label)

        default:
            throw TechniqueError(message: "\(name) does not apply to \(model.name) (a \(loaded.config.kind.rawValue) model): heads and ffn prune transformers, channels prune CNNs and EfficientNets.")
        }
    }
}

/// A model of `original`'s kind built from `tensors` (under `transformer` or `cnn` when the shapes
/// changed), fed the same inputs as the original: its tokenised text and its dataset's test split.
func rebuild(like original: InferenceModel, transformer: TransformerConfig? = nil, cnn: CNNConfig? = nil,
             efficientnet: EfficientNetConfig? = nil, tensors: [String: Tensor], label: String) throws -> InferenceModel {
    let weights = TensorDictionaryWeights(tensors, label: label)
    switch original {
    case let encoder as TransformerEncoder:
        let model = try TransformerEncoder(name: encoder.name, config: transformer ?? encoder.config, weights: weights)
        (model.text, model.evaluation) = (encoder.text, encoder.evaluation)
        return model
    case let decoder as TransformerDecoder:
        return try TransformerDecoder(name: decoder.name, config: transformer ?? decoder.config, weights: weights)
    case let net as CNN:
        let model = try CNN(name: net.name, config: cnn ?? net.config, weights: weights)
        model.evaluation = net.evaluation
        return model
    case let net as EfficientNet:
        let model = try EfficientNet(name: net.name, config: efficientnet ?? net.config, weights: weights)
        (model.evaluation, model.imageNames) = (net.evaluation, net.imageNames)
        return model
    default:
        throw TechniqueError(message: "\(label): cannot rebuild a \(original.kind.rawValue) model of this type.")
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
