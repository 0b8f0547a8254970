// Checks each model's forward pass against the naive Double reference in NaiveModels.swift
// on tiny configurations, plus the model-level properties the harness relies on: padding
// masks, causality, determinism, seeded weights, FLOP and byte counts, seeded inputs.
//
// Tolerance: max |model − reference| ≤ 1e-5 × max |reference|. The models compute in fp32
// (unit roundoff u ≈ 6e-8) through sums of at most 48 products (γ₄₈ ≈ 3e-6), a few layers
// deep, and each LayerNorm rescales by 1/σ of its input (σ ≈ 0.035 for the default-init
// embedding sum, amplifying rounding ~30×). Observed: ≤ 1e-6 relative on every case here, so
// 1e-5 leaves a 10× margin for other BLAS kernels and summation orders. A real mistake (wrong
// head slice, missing √d, mask ignored, GELU tanh form, wrong pooling) moves outputs by ≥ 1e-2
// of that scale — `testReferenceDetects…` shows the check fails when one parameter is off.
//
// Weights. With the models' own init (std 0.02) attention scores are ~0.02, so softmax is
// nearly uniform and attention bugs hide under any tolerance. The reference comparisons
// therefore also run with `ScaledWeights`: std 0.3, LayerNorm γ = 1 + N(0, 0.2²), β and
// biases random — peaked attention, GELU in its curved region, γ and β distinguishable.
import Foundation
import XCTest
import InfCore
@testable import InfModels

let tinyTransformer = TransformerConfig(vocabSize: 50, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                        intermediateSize: 32, maxPositions: 16, typeVocabSize: 2,
                                        layerNormEps: 1e-5, hiddenAct: "gelu")

/// (3, 12, 10) → stage 0: conv 3×3 stride 2 pad 1 → (4, 6, 5), max pool 2 → (4, 3, 2)
///             → stage 1: conv 2×2 stride 1 pad 1 → (6, 4, 3), avg pool 2 → (6, 2, 1)
///             → flatten 12 → FC 8 → ReLU → FC 5.
/// Odd sizes on purpose: the pools drop a ragged row or column.
let tinyCNN = CNNConfig(inputShape: [3, 12, 10],
                        stages: [.init(outChannels: 4, kernelSize: 3, stride: 2, padding: 1, pool: .max, poolSize: 2),
                                 .init(outChannels: 6, kernelSize: 2, stride: 1, padding: 1, pool: .avg, poolSize: 2)],
                        hidden: [8], numClasses: 5)

/// Seeded weights with every normal std multiplied by `scale`, and the constant
/// initialisers (LayerNorm γ = 1) made random, so a test can see what each one does.
final class ScaledWeights: WeightSource {
    let base: SeededWeights
    let scale: Float

    init(seed: UInt64, scale: Float) {
        base = SeededWeights(seed: seed)
        self.scale = scale
    }

    func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor {
        switch initialiser {
        case .normal(let std): return try base.tensor(name, shape: shape, initialiser: .normal(std: std * scale))
        case .ones:
            let noise = try base.tensor(name, shape: shape, initialiser: .normal(std: 0.2))
            return Tensor(shape: shape, storage: noise.storage.map { 1 + $0 })
        case .zeros: return try base.tensor(name, shape: shape, initialiser: .normal(std: 0.1))
        }
    }

    var unusedNames: [String] { [] }
    var description: String { "scaled ×\(scale) (seed \(base.seed))" }
}

/// `scale` nil: the models' own seeded initialisation; else ScaledWeights.
private func weights(_ seed: UInt64, _ scale: Float?) -> WeightSource {
    scale.map { ScaledWeights(seed: seed, scale: $0) } ?? SeededWeights(seed: seed)
}

func tinyEncoder(seed: UInt64 = 11, scale: Float? = nil) throws -> TransformerEncoder {
    try TransformerEncoder(name: "tiny-encoder", config: tinyTransformer, weights: weights(seed, scale))
}

func tinyDecoder(seed: UInt64 = 12, scale: Float? = nil) throws -> TransformerDecoder {
    try TransformerDecoder(name: "tiny-decoder", config: tinyTransformer, weights: weights(seed, scale))
}

func tinyCNNModel(seed: UInt64 = 13, scale: Float? = nil) throws -> CNN {
    try CNN(name: "tiny-cnn", config: tinyCNN, weights: weights(seed, scale))
}

/// The transformer weight scales the reference comparisons run at: the models' own (0.02) and 0.3.
let transformerScales: [Float?] = [nil, 15]

final class ModelForwardTests: XCTestCase {
    // MARK: Helpers

    /// Random ids over the whole vocabulary (B·T).
    private func randomIDs(batch: Int, length: Int, seed: UInt64) -> [Int32] {
        var rng = SeededRNG(seed: seed)
        return (0..<(batch * length)).map { _ in Int32(rng.nextInt(below: tinyTransformer.vocabSize)) }
    }

    /// Asserts max |actual − expected| ≤ 1e-5 · max(|expected|) and returns the difference.
    @discardableResult
    private func assertMatchesReference(_ actual: Tensor, _ expected: [Double], shape: [Int], _ what: String,
                                        file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(actual.shape, shape, "\(what): output shape", file: file, line: line)
        let scale = expected.map(abs).max() ?? 0
        let diff = maxAbsDiff(actual.storage, expected)
        let tolerance = 1e-5 * scale
        XCTAssertGreaterThan(scale, 0, "\(what): reference is all zeros", file: file, line: line)
        XCTAssertLessThanOrEqual(diff, tolerance, "\(what): NOT OK, max |Δ| = \(diff), scale \(scale)", file: file, line: line)
        return diff
    }

    // MARK: Encoder

    func testEncoderMatchesNaiveReference() throws {
        for scale in transformerScales {
            let model = try tinyEncoder(scale: scale)
            let params = NaiveParameters(model.namedTensors())
            for (b, t) in [(1, 7), (3, 7)] {
                let ids = randomIDs(batch: b, length: t, seed: UInt64(100 + b))
                let out = model.forward(.tokens(ids: ids, mask: nil, batch: b, length: t))
                let ref = Naive.encoder(params, config: tinyTransformer, ids: ids, mask: nil, batch: b, length: t)
                assertMatchesReference(out, ref, shape: [b, t, 16], "encoder B=\(b) T=\(t) weight scale \(scale ?? 1)")
            }
        }
    }

    func testEncoderWithMaskMatchesNaiveReference() throws {
        let model = try tinyEncoder(scale: 15)
        let (b, t) = (3, 8)
        let ids = randomIDs(batch: b, length: t, seed: 7)
        let lengths = [5, 8, 2]
        let mask = (0..<b).flatMap { bi in (0..<t).map { $0 < lengths[bi] ? 1.0 : 0.0 } }
        let out = model.forward(.tokens(ids: ids, mask: Tensor(shape: [b, t], storage: mask.map(Float.init)), batch: b, length: t))
        let ref = Naive.encoder(NaiveParameters(model.namedTensors()), config: tinyTransformer, ids: ids, mask: mask, batch: b, length: t)
        assertMatchesReference(out, ref, shape: [b, t, 16], "encoder with mask")
    }

    /// The padded positions must not leak into the real tokens: each sequence of a padded
    /// batch gives the same real-token outputs as the sequence run alone.
    func testEncoderPaddingMaskMatchesUnpaddedSequences() throws {
        let model = try tinyEncoder(scale: 15)
        let (b, t) = (3, 8)
        let lengths = [5, 8, 3]
        let sequences = (0..<b).map { randomIDs(batch: 1, length: lengths[$0], seed: UInt64(40 + $0)) }
        // Pad with a real token id (not 0) so an ignored mask would change the outputs.
        let ids = sequences.flatMap { $0 + [Int32](repeating: 17, count: t - $0.count) }
        let mask = Tensor(shape: [b, t]) { i in i % t < lengths[i / t] ? 1 : 0 }
        let padded = model.forward(.tokens(ids: ids, mask: mask, batch: b, length: t))
        let unmasked = model.forward(.tokens(ids: ids, mask: nil, batch: b, length: t))
        for (bi, seq) in sequences.enumerated() {
            let alone = model.forward(.tokens(ids: seq, mask: nil, batch: 1, length: seq.count))
            let real = Array(padded.storage[(bi * t * 16)..<((bi * t + seq.count) * 16)])
            // Same math, different GEMM shapes: only summation order may differ.
            let diff = maxAbsDiff(real, alone.storage.map(Double.init))
            XCTAssertLessThanOrEqual(diff, 1e-5, "sequence \(bi) (length \(seq.count)): padded vs alone, max |Δ| = \(diff)")
            if seq.count < t {
                let leaked = Array(unmasked.storage[(bi * t * 16)..<((bi * t + seq.count) * 16)])
                XCTAssertGreaterThan(maxAbsDiff(leaked, alone.storage.map(Double.init)), 1e-3,
                                     "sequence \(bi): without the mask the padding should change the outputs")
            }
        }
    }

    /// (1, 6) then (2, 3): the same B·T, so buffers sized for the first call must still give
    /// each row of the second its own positions 0..<3.
    func testShapeChangeWithSameTokenCount() throws {
        let encoder = try tinyEncoder(scale: 15), decoder = try tinyDecoder(scale: 15)
        let encParams = NaiveParameters(encoder.namedTensors()), decParams = NaiveParameters(decoder.namedTensors())
        for (b, t) in [(1, 6), (2, 3), (3, 2), (1, 6)] {
            let ids = randomIDs(batch: b, length: t, seed: 9)
            let input = ModelInput.tokens(ids: ids, mask: nil, batch: b, length: t)
            assertMatchesReference(encoder.forward(input),
                                   Naive.encoder(encParams, config: tinyTransformer, ids: ids, mask: nil, batch: b, length: t),
                                   shape: [b, t, 16], "encoder after a reshape to (\(b), \(t))")
            assertMatchesReference(decoder.forward(input),
                                   Naive.decoder(decParams, config: tinyTransformer, ids: ids, batch: b, length: t),
                                   shape: [b, t, 50], "decoder after a reshape to (\(b), \(t))")
        }
    }

    // MARK: Decoder

    func testDecoderMatchesNaiveReference() throws {
        for scale in transformerScales {
            let model = try tinyDecoder(scale: scale)
            let params = NaiveParameters(model.namedTensors())
            for (b, t) in [(1, 9), (3, 9)] {
                let ids = randomIDs(batch: b, length: t, seed: UInt64(200 + b))
                let out = model.forward(.tokens(ids: ids, mask: nil, batch: b, length: t))
                let ref = Naive.decoder(params, config: tinyTransformer, ids: ids, batch: b, length: t)
                assertMatchesReference(out, ref, shape: [b, t, 50], "decoder B=\(b) T=\(t) weight scale \(scale ?? 1)")
            }
        }
    }

    /// Changing token k changes no logits at positions < k (bit for bit: masked scores are
    /// exactly −∞, so exp gives exactly 0), and does change those at k.
    func testDecoderIsCausal() throws {
        let model = try tinyDecoder(scale: 15)
        let (t, v) = (10, 50)
        let ids = randomIDs(batch: 1, length: t, seed: 5)
        let before = model.forward(.tokens(ids: ids, mask: nil, batch: 1, length: t)).storage
        for k in [3, t - 1] {
            var changed = ids
            changed[k] = (ids[k] + 1) % Int32(v)
            let after = model.forward(.tokens(ids: changed, mask: nil, batch: 1, length: t)).storage
            XCTAssertEqual(Array(after[0..<(k * v)]), Array(before[0..<(k * v)]),
                           "positions before \(k) must not see token \(k)")
            XCTAssertGreaterThan(maxAbsDiff(Array(after[(k * v)..<((k + 1) * v)]), Array(before[(k * v)..<((k + 1) * v)]).map(Double.init)),
                                 1e-4, "position \(k) must see its own token")
        }
    }

    // MARK: CNN

    func testCNNMatchesNaiveReference() throws {
        let model = try tinyCNNModel()
        XCTAssertEqual(model.featureShapes, [[4, 3, 2], [6, 2, 1]])
        let params = NaiveParameters(model.namedTensors())
        for b in [1, 3] {
            var rng = SeededRNG(seed: UInt64(300 + b))
            let images = Tensor.randomUniform([b, 3, 12, 10], in: -1...1, rng: &rng)
            let out = model.forward(.images(images))
            let ref = Naive.cnn(params, config: tinyCNN, images: images.storage.map(Double.init), batch: b)
            assertMatchesReference(out, ref, shape: [b, 5], "CNN B=\(b)")
        }
    }

    // MARK: The check can fail

    /// One parameter nudged in the reference's copy moves the reference well outside the
    /// tolerance, so the comparisons above are not vacuous.
    func testReferenceDetectsAWrongParameter() throws {
        let ids = randomIDs(batch: 2, length: 6, seed: 1)
        let input = ModelInput.tokens(ids: ids, mask: nil, batch: 2, length: 6)

        let encoder = try tinyEncoder(scale: 15)
        var p = NaiveParameters(encoder.namedTensors())
        // Swap query and key weights: attention scores become K Qᵀ instead of Q Kᵀ.
        (p["encoder.layer.1.attention.self.query.weight"], p["encoder.layer.1.attention.self.key.weight"]) =
            (p["encoder.layer.1.attention.self.key.weight"], p["encoder.layer.1.attention.self.query.weight"])
        var ref = Naive.encoder(p, config: tinyTransformer, ids: ids, mask: nil, batch: 2, length: 6)
        XCTAssertGreaterThan(maxAbsDiff(encoder.forward(input).storage, ref), 1e-2 * ref.map(abs).max()!)

        let decoder = try tinyDecoder(scale: 15)
        p = NaiveParameters(decoder.namedTensors())
        p["h.0.mlp.fc.bias"] = p["h.0.mlp.fc.bias"].map { $0 + 0.5 }
        ref = Naive.decoder(p, config: tinyTransformer, ids: ids, batch: 2, length: 6)
        XCTAssertGreaterThan(maxAbsDiff(decoder.forward(input).storage, ref), 1e-2 * ref.map(abs).max()!)

        let cnn = try tinyCNNModel()
        p = NaiveParameters(cnn.namedTensors())
        p["features.1.conv.bias"] = p["features.1.conv.bias"].map { $0 + 0.5 }
        var rng = SeededRNG(seed: 3)
        let images = Tensor.randomUniform([2, 3, 12, 10], in: -1...1, rng: &rng)
        ref = Naive.cnn(p, config: tinyCNN, images: images.storage.map(Double.init), batch: 2)
        XCTAssertGreaterThan(maxAbsDiff(cnn.forward(.images(images)).storage, ref), 1e-2 * ref.map(abs).max()!)
    }

    // MARK: Determinism

    func testForwardIsDeterministic() throws {
        let models: [InferenceModel] = [try tinyEncoder(), try tinyDecoder(), try tinyCNNModel()]
        for model in models {
            var rng = SeededRNG(seed: 21)
            let input = model.makeInput(batch: 3, sequenceLength: 8, rng: &rng)
            let first = model.forward(input)   // a value copy: the next forward cannot overwrite it
            let second = model.forward(input)
            XCTAssertEqual(first.storage.map(\.bitPattern), second.storage.map(\.bitPattern), "\(model.name): two forwards differ")
            XCTAssertTrue(second.storage.allSatisfy(\.isFinite), "\(model.name): non-finite output")
        }
    }

    func testSeededWeightsAreReproducible() throws {
        func weights(_ m: InferenceModel) -> [String: [UInt32]] {
            Dictionary(uniqueKeysWithValues: m.namedTensors().map { ($0.name, $0.tensor.storage.map(\.bitPattern)) })
        }
        let pairs: [(InferenceModel, InferenceModel, InferenceModel)] = [
            (try tinyEncoder(seed: 1), try tinyEncoder(seed: 1), try tinyEncoder(seed: 2)),
            (try tinyDecoder(seed: 1), try tinyDecoder(seed: 1), try tinyDecoder(seed: 2)),
            (try tinyCNNModel(seed: 1), try tinyCNNModel(seed: 1), try tinyCNNModel(seed: 2)),
        ]
        for (a, same, other) in pairs {
            let wa = weights(a), ws = weights(same), wo = weights(other)
            XCTAssertEqual(wa, ws, "\(a.name): the same seed must give the same weights")
            // Every randomly initialised tensor differs with the seed (LayerNorm γ = 1 does not).
            let differing = wa.keys.filter { wa[$0] != wo[$0] }
            let random = wa.keys.filter { !$0.contains("LayerNorm.weight") && !$0.hasSuffix("ln_1.weight")
                && !$0.hasSuffix("ln_2.weight") && $0 != "ln_f.weight" }
            XCTAssertEqual(Set(differing), Set(random), "\(a.name): a different seed must change every random tensor")
        }
        // Each tensor's stream depends on its name: no two tensors of one model are equal.
        let enc = try tinyEncoder(seed: 1).namedTensors()
        XCTAssertNotEqual(enc.first { $0.name == "encoder.layer.0.attention.self.query.weight" }!.tensor,
                          enc.first { $0.name == "encoder.layer.0.attention.self.key.weight" }!.tensor)
    }

    // MARK: Counts

    /// Hand counts for T = 8 (multiply–adds × 2; LayerNorm, softmax, GELU, bias and pooling not counted):
    ///   per transformer layer: QKV 2·8·16·48 = 12288, output 2·8·16·16 = 4096,
    ///   FFN 2·(2·8·16·32) = 16384, QKᵀ and PV 2·(2·8·8·16) = 4096 → 36864; two layers 73728.
    ///   decoder head: 2·8·16·50 = 12800.
    ///   CNN: conv0 2·4·(6·5)·(3·3·3) = 6480, conv1 2·6·(4·3)·(4·2·2) = 2304,
    ///        FC 2·12·8 = 192, head 2·8·5 = 80 → 9056 per image.
    func testFlopsMatchHandCount() throws {
        XCTAssertEqual(try tinyEncoder().flops(batch: 1, sequenceLength: 8), 73728)
        XCTAssertEqual(try tinyEncoder().flops(batch: 3, sequenceLength: 8), 3 * 73728)
        XCTAssertEqual(try tinyDecoder().flops(batch: 1, sequenceLength: 8), 73728 + 12800)
        XCTAssertEqual(try tinyDecoder().flops(batch: 3, sequenceLength: 8), 3 * (73728 + 12800))
        XCTAssertEqual(try tinyCNNModel().flops(batch: 1, sequenceLength: 0), 9056)
        XCTAssertEqual(try tinyCNNModel().flops(batch: 3, sequenceLength: 99), 3 * 9056)
    }

    /// Hand counts:
    ///   encoder: embeddings 50·16 + 16·16 + 2·16 + LN 32 = 1120; per layer Q, K, V 3·272,
    ///            output 272, LN 32, FC1 32·16+32 = 544, FC2 16·32+16 = 528, LN 32 = 2224 → 5568.
    ///   decoder: wte 800 + wpe 256 + 2 · 2224 + ln_f 32 = 5536 (the tied head adds nothing).
    ///   CNN: conv0 4·3·9+4 = 112, conv1 6·4·4+6 = 102, FC 8·12+8 = 104, head 5·8+5 = 45 → 363.
    /// fp32 weights: weightBytes = 4 × (parameterCount + padding) — linear layers store their
    /// weights packed in panels of 32 output features, so N rounds up to 32:
    ///   encoder per layer: QKV 48→64, output 16→32, FC1 32, FC2 16→32 rows: +16·16 +16·16 +16·32
    ///            = 1024 floats, two layers 2048;
    ///   decoder: the same 2048, and the tied head, packed apart from the embedding table it reads
    ///            (50→64 rows × 16 = 1024 floats): counted, since it is stored twice;
    ///   CNN: FC 8→32 rows × 12 = +288, head 5→32 rows × 8 = +216 (the convolutions stay row-major).
    func testParameterCountAndWeightBytes() throws {
        let expected: [(InferenceModel, Int, Int)] = [(try tinyEncoder(), 5568, 2048), (try tinyDecoder(), 5536, 2048 + 1024),
                                                      (try tinyCNNModel(), 363, 504)]
        // A pass reads every weight but the embedding tables: encoder 50·16 + 16·16 + 2·16 = 1088
        // floats of tables, decoder wte 800 + wpe 256 = 1056, CNN none.
        let tables = [1088, 1056, 0]
        for ((model, count, padding), table) in zip(expected, tables) {
            XCTAssertEqual(model.parameterCount, count, model.name)
            XCTAssertEqual(model.weightBytes, 4 * (count + padding), model.name)
            XCTAssertEqual(model.bytesReadPerPass, model.weightBytes - 4 * table, model.name)
        }
        let decoder = try tinyDecoder()
        XCTAssertFalse(decoder.namedTensors().contains { $0.name.contains("lm_head") }, "the tied head is not a separate tensor")
        XCTAssertEqual(decoder.lmHead.weights.dense(), decoder.tokenEmbedding.table, "the head is the token embedding")
    }

    // MARK: Inputs

    func testMakeInputIsDeterministicForASeed() throws {
        let models: [InferenceModel] = [try tinyEncoder(), try tinyDecoder(), try tinyCNNModel()]
        for model in models {
            func make(_ seed: UInt64) -> ModelInput {
                var rng = SeededRNG(seed: seed)
                return model.makeInput(batch: 3, sequenceLength: 8, rng: &rng)
            }
            XCTAssertEqual(make(4).batch, 3)
            switch (make(4), make(4), make(5)) {
            case let (.tokens(a, maskA, b, t), .tokens(same, _, _, _), .tokens(other, _, _, _)):
                XCTAssertEqual(a, same, "\(model.name): same seed, same ids")
                XCTAssertNotEqual(a, other, "\(model.name): different seed, different ids")
                XCTAssertEqual(b, 3)
                XCTAssertEqual(t, 8)
                XCTAssertNil(maskA)
                XCTAssertEqual(a.count, 24)
                XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 < 50 }, "\(model.name): ids outside the vocabulary")
                XCTAssertGreaterThan(Set(a).count, 5, "\(model.name): ids should vary, got \(Set(a))")
            case let (.images(a), .images(same), .images(other)):
                XCTAssertEqual(a.shape, [3, 3, 12, 10])
                XCTAssertEqual(a, same, "\(model.name): same seed, same images")
                XCTAssertNotEqual(a, other, "\(model.name): different seed, different images")
                XCTAssertTrue(a.storage.allSatisfy { $0 >= -1 && $0 <= 1 })
            default:
                XCTFail("\(model.name): unexpected input kind")
            }
        }
    }
}
