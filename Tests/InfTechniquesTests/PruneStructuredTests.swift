// Structured pruning: the smaller model equals the original with the removed
// units zeroed (so the importance ranking and the slicing agree), shapes and
// parameter counts shrink as stated, and bad specs fail with one sentence.
import Foundation
import InfCore
import InfModels
@testable import InfTechniques
import XCTest

final class PruneStructuredTests: XCTestCase {
    let transformerJSON = #"{"infbench_seed": 5, "vocab_size": 60, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 24, "max_position_embeddings": 16, "layer_norm_eps": 1e-5"#
    let cnnJSON = #"{"infbench_seed": 6, "model_type": "cnn", "input_shape": [3, 12, 12], "stages": [{"out_channels": 8, "kernel_size": 3, "padding": 1, "pool": "max"}, {"out_channels": 6, "kernel_size": 3, "padding": 1, "pool": "avg"}], "hidden": [10], "num_classes": 4}"#

    func load(_ json: String) throws -> LoadedModel {
        let config = try ModelConfig.parse(Data(json.utf8), path: "test.json")
        // Larger weights than the default 0.02 so every unit matters to the output.
        let weights = ScaledSeeded(seed: config.seed!)
        let model: InferenceModel = try ModelArchitecture.build(config, name: "tiny", weights: weights)
        return LoadedModel(model: model, config: config, source: "test.json", weightsSource: "test")
    }

    func input(_ m: InferenceModel) -> ModelInput {
        var rng = SeededRNG(seed: 1)
        return m.makeInput(batch: 2, sequenceLength: 7, rng: &rng)
    }

    /// The original model with every tensor entry the pruned model dropped set to zero.
    func zeroedOriginal(_ loaded: LoadedModel, _ pruned: InferenceModel, zero: (inout [String: Tensor]) -> Void) throws -> InferenceModel {
        var tensors = Dictionary(uniqueKeysWithValues: loaded.model.namedTensors().map { ($0.name, $0.tensor) })
        zero(&tensors)
        let w = TensorDictionaryWeights(tensors, label: "zeroed")
        return try ModelArchitecture.build(loaded.config, name: "z", weights: w)
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ label: String) {
        XCTAssertEqual(a.shape, b.shape, label)
        let scale = max(1, b.storage.map { abs($0) }.max() ?? 1)
        let diff = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
        // fp32, smaller GEMMs sum fewer (zero) terms: only rounding differs.
        XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(label): max diff \(diff)")
    }

    func testFFNPruningEqualsZeroedNeurons() throws {
        for type in ["bert", "gpt"] {
            let loaded = try load(transformerJSON + #", "model_type": "\#(type)"}"#)
            let pruned = try PruneStructured(unit: .ffn, fraction: 0.5).apply(to: loaded)
            let names = Dictionary(uniqueKeysWithValues: pruned.namedTensors().map { ($0.name, $0.tensor) })
            let up = type == "bert" ? "encoder.layer.0.intermediate.dense.weight" : "h.0.mlp.fc.weight"
            XCTAssertEqual(names[up]?.shape, [12, 16], "24 neurons → 12")
            XCTAssertLessThan(pruned.parameterCount, loaded.model.parameterCount)
            // Which neurons were kept: rows of the pruned up-projection are rows of the original.
            let zeroed = try zeroedOriginal(loaded, pruned) { t in
                for l in 0..<2 {
                    let (u, d) = type == "bert" ? ("encoder.layer.\(l).intermediate.dense", "encoder.layer.\(l).output.dense")
                                                : ("h.\(l).mlp.fc", "h.\(l).mlp.proj")
                    let orig = t["\(u).weight"]!, kept = names["\(u).weight"]!
                    let keptRows = Set((0..<kept.rows).map { r in Array(kept.storage[(r * 16)..<((r + 1) * 16)]) })
                    for j in 0..<24 where !keptRows.contains(Array(orig.storage[(j * 16)..<((j + 1) * 16)])) {
                        for c in 0..<16 { t["\(u).weight"]!.storage[j * 16 + c] = 0; t["\(d).weight"]!.storage[c * 24 + j] = 0 }
                        t["\(u).bias"]!.storage[j] = 0
                    }
                }
            }
            assertClose(pruned.forward(input(pruned)), zeroed.forward(input(zeroed)), "ffn \(type)")
            XCTAssertNotEqual(pruned.forward(input(pruned)), loaded.model.forward(input(loaded.model)), "pruning changes the output")
        }
    }

    func testHeadPruningEqualsZeroedHeads() throws {
        for type in ["bert", "gpt"] {
            let loaded = try load(transformerJSON + #", "model_type": "\#(type)"}"#)
            let pruned = try PruneStructured(unit: .heads, fraction: 0.5).apply(to: loaded)
            let names = Dictionary(uniqueKeysWithValues: pruned.namedTensors().map { ($0.name, $0.tensor) })
            let out = type == "bert" ? "encoder.layer.0.attention.output.dense.weight" : "h.0.attn.proj.weight"
            XCTAssertEqual(names[out]?.shape, [16, 8], "4 heads of 4 → 2 heads: attention width 8")
            // Zero the dropped heads' q/k/v rows (+ biases) and output columns in the original.
            let zeroed = try zeroedOriginal(loaded, pruned) { t in
                for l in 0..<2 {
                    let o = type == "bert" ? "encoder.layer.\(l).attention.output.dense.weight" : "h.\(l).attn.proj.weight"
                    let orig = t[o]!, kept = names[o]!
                    let keptCols = Set((0..<8).map { c in (0..<16).map { kept.storage[$0 * 8 + c] } })
                    for col in 0..<16 where !keptCols.contains((0..<16).map { orig.storage[$0 * 16 + col] }) {
                        for r in 0..<16 { t[o]!.storage[r * 16 + col] = 0 }
                        if type == "bert" {
                            for part in ["query", "key", "value"] {
                                let p = "encoder.layer.\(l).attention.self.\(part)"
                                for c in 0..<16 { t["\(p).weight"]!.storage[col * 16 + c] = 0 }
                                t["\(p).bias"]!.storage[col] = 0
                            }
                        } else {
                            for block in 0..<3 {
                                for c in 0..<16 { t["h.\(l).attn.qkv.weight"]!.storage[(block * 16 + col) * 16 + c] = 0 }
                                t["h.\(l).attn.qkv.bias"]!.storage[block * 16 + col] = 0
                            }
                        }
                    }
                }
            }
            assertClose(pruned.forward(input(pruned)), zeroed.forward(input(zeroed)), "heads \(type)")
        }
    }

    func testChannelPruningEqualsZeroedFilters() throws {
        let loaded = try load(cnnJSON)
        let pruned = try PruneStructured(unit: .channels, fraction: 0.5).apply(to: loaded)
        let names = Dictionary(uniqueKeysWithValues: pruned.namedTensors().map { ($0.name, $0.tensor) })
        XCTAssertEqual(names["features.0.conv.weight"]?.shape, [4, 3, 3, 3])
        XCTAssertEqual(names["features.1.conv.weight"]?.shape, [3, 4, 3, 3])
        XCTAssertEqual(names["classifier.0.weight"]?.shape, [10, 3 * 3 * 3], "3 channels × 3×3 map after two pools")
        let zeroed = try zeroedOriginal(loaded, pruned) { t in
            for i in 0..<2 {
                let w = t["features.\(i).conv.weight"]!
                let oc = w.shape[0], per = w.count / oc
                let keptFilters = names["features.\(i).conv.bias"]!.storage
                for o in 0..<oc where !keptFilters.contains(t["features.\(i).conv.bias"]!.storage[o]) {
                    for j in 0..<per { t["features.\(i).conv.weight"]!.storage[o * per + j] = 0 }
                    t["features.\(i).conv.bias"]!.storage[o] = 0
                }
            }
        }
        assertClose(pruned.forward(input(pruned)), zeroed.forward(input(zeroed)), "channels")
    }

    func testEfficientNetChannelPruningEqualsZeroedProjectColumns() throws {
        let json = #"{"infbench_seed": 7, "model_type": "efficientnet", "input_shape": [3, 10, 10], "stem_channels": 4, "stem_kernel_size": 3, "stem_stride": 2, "blocks": [{"in_channels": 4, "out_channels": 4, "expand_ratio": 1, "kernel_size": 3, "stride": 1}, {"in_channels": 4, "out_channels": 6, "expand_ratio": 4, "kernel_size": 3, "stride": 2}, {"in_channels": 6, "out_channels": 6, "expand_ratio": 3, "kernel_size": 5, "stride": 1}], "head_channels": 8, "num_classes": 5, "batch_norm_eps": 0.001, "padding": "same", "activation": "relu6"}"#
        let loaded = try load(json)
        let technique = PruneStructured(unit: .channels, fraction: 0.5)
        let pruned = try technique.apply(to: loaded)
        let names = Dictionary(uniqueKeysWithValues: pruned.namedTensors().map { ($0.name, $0.tensor) })
        XCTAssertEqual(names["_blocks.1._expand_conv.weight"]?.shape, [8, 4, 1, 1], "16 expanded channels → 8")
        XCTAssertEqual(names["_blocks.1._depthwise_conv.weight"]?.shape, [8, 1, 3, 3])
        XCTAssertEqual(names["_blocks.2._project_conv.weight"]?.shape, [6, 9, 1, 1], "18 → 9")
        XCTAssertEqual(names["_blocks.0._depthwise_conv.weight"]?.shape, [4, 1, 3, 3], "block 0 has no expansion: untouched")
        XCTAssertEqual(technique.describe(pruned, original: loaded)?.contains("expanded channels per block 16→8, 18→9"), true)
        // A dropped channel contributes only through its project column: zero those in the original.
        let zeroed = try zeroedOriginal(loaded, pruned) { t in
            for (i, (e, c)) in [(1, (16, 6)), (2, (18, 6))] {
                let p = "_blocks.\(i)"
                let k = i == 1 ? 9 : 25
                let orig = t["\(p)._depthwise_conv.weight"]!, kept = names["\(p)._depthwise_conv.weight"]!
                let keptFilters = Set((0..<(e / 2)).map { Array(kept.storage[($0 * k)..<(($0 + 1) * k)]) })
                for j in 0..<e where !keptFilters.contains(Array(orig.storage[(j * k)..<((j + 1) * k)])) {
                    for o in 0..<c { t["\(p)._project_conv.weight"]!.storage[o * e + j] = 0 }
                }
            }
        }
        assertClose(pruned.forward(input(pruned)), zeroed.forward(input(zeroed)), "efficientnet channels")
        XCTAssertLessThan(pruned.parameterCount, loaded.model.parameterCount)
    }

    func testTheLeastImportantUnitsGo() throws {
        XCTAssertEqual(topIndices([0.5, 3, 1, 3, 0.1], 3), [1, 2, 3], "largest scores, ties to the lower index, ascending order")
        // FFN: every kept neuron scores at least as high as every removed one.
        let loaded = try load(transformerJSON + #", "model_type": "bert"}"#)
        let t = Dictionary(uniqueKeysWithValues: loaded.model.namedTensors().map { ($0.name, $0.tensor) })
        let up = t["encoder.layer.1.intermediate.dense.weight"]!, down = t["encoder.layer.1.output.dense.weight"]!
        let scores = (0..<24).map { rowNorm(up, $0) * columnNorm(down, $0) }
        let pruned = try PruneStructured(unit: .ffn, fraction: 0.25).apply(to: loaded)
        let keptRows = Dictionary(uniqueKeysWithValues: pruned.namedTensors().map { ($0.name, $0.tensor) })["encoder.layer.1.intermediate.dense.weight"]!
        let kept = (0..<24).filter { j in (0..<keptRows.rows).contains { r in Array(keptRows.storage[(r * 16)..<((r + 1) * 16)]) == Array(up.storage[(j * 16)..<((j + 1) * 16)]) } }
        XCTAssertEqual(kept.count, 18)
        let removed = Set(0..<24).subtracting(kept)
        XCTAssertGreaterThanOrEqual(kept.map { scores[$0] }.min()!, removed.map { scores[$0] }.max()!)
    }

    func testSpecsAndMismatches() throws {
        XCTAssertEqual(try PruneStructured.parse("prune-ffn:0.5")?.fraction, 0.5)
        XCTAssertNil(try PruneStructured.parse("fp16"))
        for bad in ["prune-ffn:1.5", "prune-heads:x", "prune-channels:-0.1"] {
            XCTAssertThrowsError(try PruneStructured.parse(bad)) { XCTAssertTrue("\($0)".contains(bad), "\($0)") }
        }
        XCTAssertThrowsError(try PruneStructured(unit: .channels, fraction: 0.5).apply(to: try load(transformerJSON + #", "model_type": "bert"}"#)))
    }
}

/// Seeded weights with std 0.3 instead of 0.02, so every unit matters and ties are impossible.
final class ScaledSeeded: WeightSource {
    let base: SeededWeights
    init(seed: UInt64) { base = SeededWeights(seed: seed) }
    func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor {
        if case .normal = initialiser { return try base.tensor(name, shape: shape, initialiser: .normal(std: 0.3)) }
        return try base.tensor(name, shape: shape, initialiser: initialiser)
    }
    var unusedNames: [String] { [] }
    var description: String { "scaled" }
}
