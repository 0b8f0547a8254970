// EfficientNet-Lite: a tiny generated one against a naive Double forward pass that applies
// batch norm as written (not folded) and pads as TensorFlow's "same"; the config checks; and
// the real EfficientNet-Lite0 (`make models`) against the independent NumPy reference
// (Fixtures/efficientnet/make_reference.py) on real photographs. The real-model tests skip
// with a visible message when the model is not fetched.
import Foundation
import InfCore
@testable import InfModels
import XCTest

/// Hands out ScaledWeights (random BN statistics, not the identity) and remembers every tensor,
/// so the reference can apply the original, unfolded parameters.
final class RecordingWeights: WeightSource {
    let base: WeightSource
    var handed: [String: Tensor] = [:]
    init(_ base: WeightSource) { self.base = base }
    func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor {
        var t = try base.tensor(name, shape: shape, initialiser: initialiser)
        // Running variances must be positive: 1 + N(0, 0.2) is, but make it certain.
        if name.hasSuffix("running_var") { t = Tensor(shape: shape, storage: t.storage.map { abs($0) + 0.05 }) }
        handed[name] = t
        return t
    }
    var unusedNames: [String] { [] }
    var description: String { "recorded \(base.description)" }
}

/// Stem with asymmetric padding (10 → 5), a block without expansion but with the skip, a
/// stride-2 block, a 5×5 block with the skip, a stride-2 5×5 block, head, classifier.
let tinyEfficientNet = EfficientNetConfig(
    inputShape: [3, 10, 10], stemChannels: 4,
    blocks: [.init(inChannels: 4, outChannels: 4, expandRatio: 1, kernelSize: 3, stride: 1),
             .init(inChannels: 4, outChannels: 6, expandRatio: 2, kernelSize: 3, stride: 2),
             .init(inChannels: 6, outChannels: 6, expandRatio: 3, kernelSize: 5, stride: 1),
             .init(inChannels: 6, outChannels: 8, expandRatio: 2, kernelSize: 5, stride: 2)],
    headChannels: 12, numClasses: 7)

extension Naive {
    /// TensorFlow "same": output ⌈n/s⌉, total padding (out−1)·s + k − n, the larger half after.
    static func samePad(_ n: Int, _ k: Int, _ s: Int) -> (before: Int, out: Int) {
        let out = (n + s - 1) / s
        return (max((out - 1) * s + k - n, 0) / 2, out)
    }

    /// x[c][i][j] → y[o][i][j]: direct convolution, same padding; `groups` = channels makes it depthwise.
    static func conv(_ x: [[[Double]]], _ w: [Double], out oc: Int, k: Int, stride s: Int, depthwise: Bool) -> [[[Double]]] {
        let (ch, n) = (x.count, x[0].count)
        let (pad, on) = samePad(n, k, s)
        let perFilter = depthwise ? 1 : ch
        return (0..<oc).map { o in
            (0..<on).map { i in
                (0..<on).map { j in
                    var sum = 0.0
                    for c in (depthwise ? o..<(o + 1) : 0..<ch) {
                        for ki in 0..<k {
                            for kj in 0..<k {
                                let yi = i * s - pad + ki, xj = j * s - pad + kj
                                guard yi >= 0, yi < n, xj >= 0, xj < n else { continue }   // zero padding
                                sum += w[((o * perFilter + (depthwise ? 0 : c)) * k + ki) * k + kj] * x[c][yi][xj]
                            }
                        }
                    }
                    return sum
                }
            }
        }
    }

    /// y = γ (x − μ)/√(σ² + ε) + β per channel, as batch norm is written.
    static func batchNorm(_ x: [[[Double]]], _ p: NaiveParameters, _ prefix: String, eps: Double) -> [[[Double]]] {
        let (g, b, m, v) = (p["\(prefix).weight"], p["\(prefix).bias"], p["\(prefix).running_mean"], p["\(prefix).running_var"])
        return x.enumerated().map { c, plane in plane.map { row in row.map { (($0 - m[c]) / (v[c] + eps).squareRoot()) * g[c] + b[c] } } }
    }

    static func relu6(_ x: [[[Double]]]) -> [[[Double]]] { x.map { $0.map { $0.map { min(max($0, 0), 6) } } } }

    /// The EfficientNet.swift header, one image at a time; images (B, C, H, W) flattened → (B, classes).
    static func efficientNet(_ p: NaiveParameters, config cfg: EfficientNetConfig, images: [Double], batch: Int) -> [Double] {
        let eps = Double(cfg.batchNormEps)
        let (c0, n0) = (cfg.inputShape[0], cfg.inputShape[1])
        var out: [Double] = []
        for bi in 0..<batch {
            var x: [[[Double]]] = (0..<c0).map { c in (0..<n0).map { i in (0..<n0).map { j in images[((bi * c0 + c) * n0 + i) * n0 + j] } } }
            x = relu6(batchNorm(conv(x, p["_conv_stem.weight"], out: cfg.stemChannels, k: cfg.stemKernelSize, stride: cfg.stemStride, depthwise: false),
                                p, "_bn0", eps: eps))
            for (i, b) in cfg.blocks.enumerated() {
                let pre = "_blocks.\(i)", input = x
                if b.expandRatio != 1 {
                    x = relu6(batchNorm(conv(x, p["\(pre)._expand_conv.weight"], out: b.expandedChannels, k: 1, stride: 1, depthwise: false),
                                        p, "\(pre)._bn0", eps: eps))
                }
                x = relu6(batchNorm(conv(x, p["\(pre)._depthwise_conv.weight"], out: b.expandedChannels, k: b.kernelSize, stride: b.stride, depthwise: true),
                                    p, "\(pre)._bn1", eps: eps))
                x = batchNorm(conv(x, p["\(pre)._project_conv.weight"], out: b.outChannels, k: 1, stride: 1, depthwise: false), p, "\(pre)._bn2", eps: eps)
                if b.stride == 1 && b.inChannels == b.outChannels {
                    x = zip(x, input).map { zip($0, $1).map { zip($0, $1).map { $0 + $1 } } }   // skip
                }
            }
            x = relu6(batchNorm(conv(x, p["_conv_head.weight"], out: cfg.headChannels, k: 1, stride: 1, depthwise: false), p, "_bn1", eps: eps))
            let pooled = x.map { plane in plane.joined().reduce(0, +) / Double(plane.count * plane.count) }
            out += linear([pooled], p["_fc.weight"], p["_fc.bias"], out: cfg.numClasses)[0]
        }
        return out
    }
}

final class EfficientNetTests: XCTestCase {
    override func tearDown() {
        super.tearDown()
    }

    func tiny(seed: UInt64 = 21) throws -> (EfficientNet, NaiveParameters) {
        let weights = RecordingWeights(ScaledWeights(seed: seed, scale: 1))
        let model = try EfficientNet(name: "tiny-efficientnet", config: tinyEfficientNet, weights: weights)
        return (model, NaiveParameters(weights.handed.map { ($0.key, $0.value) }))
    }

    // MARK: - Generated model against the naive reference

    /// Tolerance: 1e-4 relative to the largest logit. The fp32 path folds BN (one rounding per
    /// weight) and sums in a different order; over five conv layers of ≤ 75 terms the rounding
    /// stays around 1e-6 relative, so 1e-4 leaves room while a wrong padding side, a missing
    /// skip or an unfolded/misfolded BN moves logits by 1e-2 or more (see the next test).
    func testTinyModelMatchesNaiveReference() throws {
        let (model, params) = try tiny()
        var rng = SeededRNG(seed: 3)
        for b in [1, 3] {
            let images = Tensor.randomNormal([b, 3, 10, 10], std: 1, rng: &rng)
            let out = model.forward(.images(images))
            XCTAssertEqual(out.shape, [b, 7])
            let ref = Naive.efficientNet(params, config: tinyEfficientNet, images: images.storage.map(Double.init), batch: b)
            let scale = ref.map(abs).max()!
            XCTAssertLessThanOrEqual(maxAbsDiff(out.storage, ref), 1e-4 * scale, "B=\(b): max |Δ| \(maxAbsDiff(out.storage, ref)) of \(scale)")
        }
    }

    func testReferenceSeesPaddingSideAndSkip() throws {
        // The comparison above would notice symmetric padding or a dropped skip connection.
        let (model, params) = try tiny()
        var rng = SeededRNG(seed: 4)
        let images = Tensor.randomNormal([2, 3, 10, 10], std: 1, rng: &rng)
        let ref = Naive.efficientNet(params, config: tinyEfficientNet, images: images.storage.map(Double.init), batch: 2)
        let scale = ref.map(abs).max()!
        var noSkip = model.transformingWeights { _, w in w } as! EfficientNet
        noSkip.blocks[2].skip = false
        XCTAssertGreaterThan(maxAbsDiff(noSkip.forward(.images(images)).storage, ref), 1e-3 * scale, "skip")
        noSkip = model.transformingWeights { _, w in w } as! EfficientNet
        noSkip.stem = Conv2D(weights: model.stem.weights, bias: model.stem.bias, inChannels: 3, kernelH: 3, kernelW: 3,
                             stride: 2, padding: 1, paddingEnd: 0)   // the odd row at the top instead
        XCTAssertGreaterThan(maxAbsDiff(noSkip.forward(.images(images)).storage, ref), 1e-3 * scale, "padding side")
    }

    func testSavedTensorsLoadBackIntoTheSameModel() throws {
        let (model, _) = try tiny()
        let reloaded = try EfficientNet(name: "again", config: tinyEfficientNet,
                                        weights: TensorDictionaryWeights(Dictionary(uniqueKeysWithValues: model.namedTensors().map { ($0.name, $0.tensor) }), label: "saved"))
        var rng = SeededRNG(seed: 5)
        let images = Tensor.randomNormal([2, 3, 10, 10], std: 1, rng: &rng)
        let a = model.forward(.images(images)).storage, b = reloaded.forward(.images(images)).storage
        // The identity BN folds to a scale within 1e-8 of 1: the same weights up to that.
        XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5 * a.map(abs).max()!)
    }

    /// stem 2·4·25·27 = 5400; blocks: b0 dw 2·4·25·9 = 1800 + project 2·4·25·4 = 800;
    /// b1 expand 2·8·25·4 = 1600, dw 2·8·9·9 = 1296, project 2·6·9·8 = 864;
    /// b2 expand 2·18·9·6 = 1944, dw 2·18·9·25 = 8100, project 2·6·9·18 = 1944;
    /// b3 expand 2·12·9·6 = 1296, dw 2·12·4·25 = 2400, project 2·8·4·12 = 768;
    /// head 2·12·4·8 = 768; fc 2·12·7 = 168 → 29148.
    func testFlopsAndParameters() throws {
        let (model, _) = try tiny()
        XCTAssertEqual(model.sides, [10, 5, 5, 3, 3, 2])
        XCTAssertEqual(model.flops(batch: 1, sequenceLength: 0), 29148)
        XCTAssertEqual(model.flops(batch: 2, sequenceLength: 7), 2 * 29148)
        // Folded: every conv has a bias. stem 4·27+4; b0 4·9+4, 4·4+4; b1 8·4+8, 8·9+8, 6·8+6;
        // b2 18·6+18, 18·25+18, 6·18+6; b3 12·6+12, 12·25+12, 8·12+8; head 12·8+12; fc 7·12+7.
        XCTAssertEqual(model.parameterCount, 112 + 40 + 20 + 40 + 80 + 54 + 126 + 468 + 114 + 84 + 312 + 104 + 108 + 91)
    }

    func testConfigProblemsAreOneSentence() {
        var c = tinyEfficientNet
        c.blocks[1].inChannels = 5
        XCTAssertEqual(c.problem(), "block 1 takes 5 channels but the layer before it gives 4")
        c = tinyEfficientNet
        c.inputShape = [3, 10, 12]
        XCTAssertNotNil(c.problem()?.range(of: "input_shape"))
        c = tinyEfficientNet
        c.activation = "swish"
        XCTAssertEqual(c.problem(), "activation \"swish\" is not supported (only \"relu6\", EfficientNet-Lite's)")
        c = tinyEfficientNet
        c.blocks[0].kernelSize = 4
        XCTAssertNotNil(c.problem()?.range(of: "odd kernel_size"))
        XCTAssertThrowsError(try ModelConfig.parse(Data(#"{"model_type": "efficientnet", "input_shape": [3, 8, 8]}"#.utf8), path: "e.json")) {
            XCTAssertEqual("\($0)", "e.json: missing key \"stem_channels\".")
        }
    }

    func testImagesOfTheWrongShapeAreOneSentence() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tinyEfficientNet)) as! [String: Any]
        json["model_type"] = "efficientnet"
        json["infbench_seed"] = 3
        json["infbench_images"] = "images.safetensors"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: "\(dir)/config.json"))
        try SafetensorsWriter.write([("images", Tensor(zeros: [2, 3, 8, 8]))], to: "\(dir)/images.safetensors")
        XCTAssertThrowsError(try ModelLoader.load(dir)) {
            XCTAssertEqual("\($0)", "\(dir)/images.safetensors: needs a tensor \"images\" of shape (N, 3, 10, 10).")
        }
        // The right shape: the images become the inputs, labelled by the model's own top-1.
        var rng = SeededRNG(seed: 8)
        try SafetensorsWriter.write([("images", Tensor.randomUniform([2, 3, 10, 10], in: -1...1, rng: &rng))], to: "\(dir)/images.safetensors")
        let net = try XCTUnwrap(try ModelLoader.load(dir).model as? EfficientNet)
        let eval = try XCTUnwrap(net.evaluation)
        XCTAssertEqual(eval.labels.map(Int.init), EfficientNet.top(1, of: net.forward(.images(eval.images))).map { $0[0] })
    }

    // MARK: - The real EfficientNet-Lite0 on real photographs

    struct Reference: Decodable {
        let images: [String]
        let top5: [[Int]]
        let top5_names: [[String]]
        let logits: [[Double]]
        let model_files: [String: String]
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelDir = repoRoot.appendingPathComponent("Models/efficientnet-lite0").path
    /// Loaded once: the loader runs the 24 images through the model to label them.
    nonisolated(unsafe) static var cached: LoadedModel?

    func loadReal() throws -> (LoadedModel, EfficientNet) {
        guard FileManager.default.fileExists(atPath: Self.modelDir + "/model.safetensors") else {
            throw XCTSkip("Models/efficientnet-lite0 not fetched (make models): skipping the real EfficientNet-Lite0 tests.")
        }
        let loaded = try Self.cached ?? ModelLoader.load(Self.modelDir)
        Self.cached = loaded
        return (loaded, try XCTUnwrap(loaded.model as? EfficientNet))
    }

    func loadReference() throws -> Reference {
        let url = Self.repoRoot.appendingPathComponent("Tests/InfModelsTests/Fixtures/efficientnet/reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// Tolerance: 5e-4 absolute on logits of magnitude ≤ ~20. The reference is float64 with BN
    /// unfolded; infbench is fp32 through 18 layers of sums of ≤ 1152 terms. Measured: 1.1e-5
    /// (OpenBLAS Haswell kernels); the margin is for other CPUs' kernels summing in other orders.
    func testLogitsAndTop5MatchTheIndependentReference() throws {
        let (_, net) = try loadReal()
        let ref = try loadReference()
        let eval = try XCTUnwrap(net.evaluation)
        XCTAssertEqual(net.imageNames, ref.images, "images.safetensors holds the images the reference ran")
        let logits = net.forward(.images(eval.images))
        XCTAssertEqual(logits.shape, [ref.images.count, 1000])
        let top5 = EfficientNet.top(5, of: logits)
        var worst = 0.0
        for (i, name) in ref.images.enumerated() {
            let got = Array(logits.storage[(i * 1000)..<((i + 1) * 1000)])
            let diff = zip(got, ref.logits[i]).map { abs(Double($0) - $1) }.max()!
            worst = max(worst, diff)
            XCTAssertLessThanOrEqual(diff, 5e-4, "\(name): max |Δ logit| \(diff)")
            XCTAssertEqual(top5[i], ref.top5[i], "\(name): top-5 \(top5[i].map { net.config.classNames![$0] }) vs reference \(ref.top5_names[i])")
        }
        print("EfficientNet-Lite0 vs float64 NumPy reference: max |Δ logit| = \(worst) over \(ref.images.count) images; top-5 identical")
        for (i, name) in ref.images.enumerated() where !name.contains("(") {
            print("  \(name): " + top5[i].map { net.config.classNames![$0] }.joined(separator: ", "))
        }
    }

    func testLoaderFeedsThePhotographsLabelledByTheFP32Model() throws {
        let (loaded, net) = try loadReal()
        XCTAssertEqual(loaded.config.kind, .efficientnet)
        XCTAssertEqual(net.kind, .cnn, "the harness runs image models once per batch size")
        XCTAssertTrue(loaded.notes.contains { $0.contains("real photographs") }, "\(loaded.notes)")
        XCTAssertTrue(ModelLoader.defaultSuite().contains("efficientnet-lite0"), "the default suite includes it once fetched")
        XCTAssertEqual(net.parameterCount, 4_631_000, "as executed, BN folded (4.65M in the checkpoint, with BN scales)")
        let eval = try XCTUnwrap(net.evaluationSet as? LabelledImages)
        XCTAssertEqual(eval.count, 24)
        let ref = try loadReference()
        XCTAssertEqual(eval.labels.map(Int.init), ref.top5.map { $0[0] }, "labels are the fp32 top-1 classes")
        var a = SeededRNG(seed: 9)
        guard case let .images(batch) = net.makeInput(batch: 3, sequenceLength: 0, rng: &a) else { return XCTFail("images expected") }
        XCTAssertEqual(batch.shape, [3, 3, 224, 224])
        let per = 3 * 224 * 224
        for b in 0..<3 {
            let img = Array(batch.storage[(b * per)..<((b + 1) * per)])
            XCTAssertTrue((0..<24).contains { Array(eval.images.storage[($0 * per)..<(($0 + 1) * per)]) == img }, "input \(b) is one of the photographs")
        }
    }

    func testTechniquesApplyAndKeepTheTopClass() throws {
        let (loaded, net) = try loadReal()
        let eval = try XCTUnwrap(net.evaluation)
        let input = ModelInput.images(eval.subset(0..<4).images)
        let reference = EfficientNet.top(1, of: net.forward(input))
        var names: [String] = []
        let half = net.transformingWeights { name, w in names.append(name); return FP16Weights(w.dense()) }
        // stem, 16 projects, 15 expands (block 0 has none), head, classifier.
        XCTAssertEqual(names.count, 1 + 16 + 15 + 1 + 1)
        XCTAssertEqual(EfficientNet.top(1, of: half.forward(input)), reference, "fp16 weights keep every top-1 class")
        XCTAssertLessThan(half.weightBytes, net.weightBytes * 6 / 10)
        _ = loaded
    }

    func testThreadsDoNotChangeLogits() throws {
        let (_, net) = try loadReal()
        let input = ModelInput.images(try XCTUnwrap(net.evaluation).subset(0..<2).images)
        let one = net.forward(input, in: .serial).storage
        let two = net.forward(input, in: ExecutionContext(threads: 2)).storage
        XCTAssertLessThanOrEqual(zip(one, two).map { abs($0 - $1) }.max()!, 1e-4, "only OpenBLAS's blocking may differ")
    }
}
