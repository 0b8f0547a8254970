// Naive reference forward passes for the three models, written from the math in each
// model file's header comment: plain loops, Double arithmetic, no BLAS, no fused QKV,
// no im2col. Parameters are read from `model.namedTensors()` by checkpoint name, so the
// reference shares nothing with the layers it checks except the numbers themselves.
import Foundation
import InfCore
import InfModels

/// A model's parameters by checkpoint name, widened to Double.
struct NaiveParameters {
    var values: [String: [Double]]
    var shapes: [String: [Int]]

    init(_ named: [(name: String, tensor: Tensor)]) {
        values = [:]
        shapes = [:]
        for (name, t) in named {
            values[name] = t.storage.map(Double.init)
            shapes[name] = t.shape
        }
    }

    subscript(_ name: String) -> [Double] {
        get {
            guard let v = values[name] else { fatalError("reference: no parameter \"\(name)\"") }
            return v
        }
        set { values[name] = newValue }
    }
}

// MARK: - Building blocks (one row or one matrix at a time)

enum Naive {
    /// y (N, out) = x (N, in) · Wᵀ + b, W stored (out, in) as nn.Linear does.
    static func linear(_ x: [[Double]], _ w: [Double], _ b: [Double]?, out: Int) -> [[Double]] {
        x.map { row in
            let n = row.count
            precondition(w.count == out * n, "reference linear: weight has \(w.count) elements, expected \(out)×\(n)")
            return (0..<out).map { o in
                var s = b?[o] ?? 0
                for i in 0..<n { s += w[o * n + i] * row[i] }
                return s
            }
        }
    }

    /// LayerNorm of one row: (x − mean) / √(var + eps) · γ + β, biased variance.
    static func layerNorm(_ x: [Double], _ gamma: [Double], _ beta: [Double], eps: Double) -> [Double] {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        let inv = 1 / (variance + eps).squareRoot()
        return x.indices.map { (x[$0] - mean) * inv * gamma[$0] + beta[$0] }
    }

    /// GELU, the exact erf form.
    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    /// Self-attention for one sequence, from separate per-head Q, K, V.
    /// q, k, v: (T, C) projections; keyMask (T) of 1/0 or nil; causal: query i sees keys 0...i.
    /// Returns the concatenated heads (T, C), before the output projection.
    static func attention(q: [[Double]], k: [[Double]], v: [[Double]], heads: Int,
                          keyMask: [Double]?, causal: Bool) -> [[Double]] {
        let t = q.count, c = q[0].count, d = c / heads
        var context = [[Double]](repeating: [Double](repeating: 0, count: c), count: t)
        for h in 0..<heads {
            let lo = h * d
            for i in 0..<t {
                // scores_ij = q_i · k_j / √d, masked keys at −∞
                var scores = [Double](repeating: 0, count: t)
                for j in 0..<t {
                    var s = 0.0
                    for e in 0..<d { s += q[i][lo + e] * k[j][lo + e] }
                    scores[j] = s / Double(d).squareRoot()
                    if let keyMask, keyMask[j] == 0 { scores[j] = -.infinity }
                    if causal && j > i { scores[j] = -.infinity }
                }
                let m = scores.max()!
                let exps = scores.map { exp($0 - m) }
                let z = exps.reduce(0, +)
                for e in 0..<d {
                    var s = 0.0
                    for j in 0..<t { s += exps[j] / z * v[j][lo + e] }
                    context[i][lo + e] = s
                }
            }
        }
        return context
    }

    static func add(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        zip(a, b).map { zip($0, $1).map(+) }
    }

    /// Row n of a (rows, C) table.
    static func row(_ table: [Double], _ n: Int, width c: Int) -> [Double] { Array(table[(n * c)..<((n + 1) * c)]) }

    // MARK: - BERT encoder

    /// x = LN(E_tok[ids] + E_pos[t] + E_type[0]);
    /// per layer: x = LN1(x + Attn(x, mask)); x = LN2(x + W2 · GELU(W1 · x)).
    /// ids (B·T), mask (B·T) of 1/0 or nil → (B, T, C) flattened.
    static func encoder(_ p: NaiveParameters, config cfg: TransformerConfig,
                        ids: [Int32], mask: [Double]?, batch: Int, length t: Int) -> [Double] {
        let c = cfg.hiddenSize, eps = Double(cfg.layerNormEps)
        var out: [Double] = []
        for bi in 0..<batch {
            var x: [[Double]] = (0..<t).map { pos in
                let id = Int(ids[bi * t + pos])
                let sum = zip(zip(row(p["embeddings.word_embeddings.weight"], id, width: c),
                                  row(p["embeddings.position_embeddings.weight"], pos, width: c)).map(+),
                              row(p["embeddings.token_type_embeddings.weight"], 0, width: c)).map(+)
                return layerNorm(sum, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], eps: eps)
            }
            let keyMask = mask.map { Array($0[(bi * t)..<((bi + 1) * t)]) }
            for l in 0..<cfg.numLayers {
                let pre = "encoder.layer.\(l)"
                func lin(_ name: String, _ input: [[Double]], out: Int) -> [[Double]] {
                    linear(input, p["\(pre).\(name).weight"], p["\(pre).\(name).bias"], out: out)
                }
                let q = lin("attention.self.query", x, out: c)
                let k = lin("attention.self.key", x, out: c)
                let v = lin("attention.self.value", x, out: c)
                let ctx = attention(q: q, k: k, v: v, heads: cfg.numHeads, keyMask: keyMask, causal: false)
                let attn = lin("attention.output.dense", ctx, out: c)
                x = add(x, attn).map {
                    layerNorm($0, p["\(pre).attention.output.LayerNorm.weight"], p["\(pre).attention.output.LayerNorm.bias"], eps: eps)
                }
                let hidden = lin("intermediate.dense", x, out: cfg.intermediateSize).map { $0.map(gelu) }
                let ffn = lin("output.dense", hidden, out: c)
                x = add(x, ffn).map {
                    layerNorm($0, p["\(pre).output.LayerNorm.weight"], p["\(pre).output.LayerNorm.bias"], eps: eps)
                }
            }
            out += x.joined()
        }
        return out
    }

    // MARK: - GPT decoder

    /// x = E_tok[ids] + E_pos[t];
    /// per layer: x = x + Attn(LN1(x), causal); x = x + W2 · GELU(W1 · LN2(x));
    /// logits = LN_f(x) · E_tokᵀ.  ids (B·T) → (B, T, V) flattened.
    static func decoder(_ p: NaiveParameters, config cfg: TransformerConfig,
                        ids: [Int32], batch: Int, length t: Int) -> [Double] {
        let c = cfg.hiddenSize, eps = Double(cfg.layerNormEps)
        var out: [Double] = []
        for bi in 0..<batch {
            var x: [[Double]] = (0..<t).map { pos in
                zip(row(p["wte.weight"], Int(ids[bi * t + pos]), width: c), row(p["wpe.weight"], pos, width: c)).map(+)
            }
            for l in 0..<cfg.numLayers {
                let pre = "h.\(l)"
                let h1 = x.map { layerNorm($0, p["\(pre).ln_1.weight"], p["\(pre).ln_1.bias"], eps: eps) }
                // The fused (3C, C) projection is [query; key; value]: slice it into three (C, C) ones.
                let wqkv = p["\(pre).attn.qkv.weight"], bqkv = p["\(pre).attn.qkv.bias"]
                func part(_ j: Int) -> [[Double]] {
                    linear(h1, Array(wqkv[(j * c * c)..<((j + 1) * c * c)]), Array(bqkv[(j * c)..<((j + 1) * c)]), out: c)
                }
                let ctx = attention(q: part(0), k: part(1), v: part(2), heads: cfg.numHeads, keyMask: nil, causal: true)
                x = add(x, linear(ctx, p["\(pre).attn.proj.weight"], p["\(pre).attn.proj.bias"], out: c))
                let h2 = x.map { layerNorm($0, p["\(pre).ln_2.weight"], p["\(pre).ln_2.bias"], eps: eps) }
                let hidden = linear(h2, p["\(pre).mlp.fc.weight"], p["\(pre).mlp.fc.bias"], out: cfg.intermediateSize)
                    .map { $0.map(gelu) }
                x = add(x, linear(hidden, p["\(pre).mlp.proj.weight"], p["\(pre).mlp.proj.bias"], out: c))
            }
            let final = x.map { layerNorm($0, p["ln_f.weight"], p["ln_f.bias"], eps: eps) }
            out += linear(final, p["wte.weight"], nil, out: cfg.vocabSize).joined()   // tied head
        }
        return out
    }

    // MARK: - CNN

    /// per stage: x = Pool(ReLU(Conv(x))); flatten (C, H, W);
    /// per hidden layer: x = ReLU(W x + b); logits = W_head x + b (no activation).
    /// images (B, C, H, W) flattened → (B, classes) flattened.
    static func cnn(_ p: NaiveParameters, config cfg: CNNConfig, images: [Double], batch: Int) -> [Double] {
        let imageSize = cfg.inputShape.reduce(1, *)
        var out: [Double] = []
        for bi in 0..<batch {
            var (ch, h, w) = (cfg.inputShape[0], cfg.inputShape[1], cfg.inputShape[2])
            // x[c][i][j]
            var x: [[[Double]]] = (0..<ch).map { c in
                (0..<h).map { i in (0..<w).map { j in images[bi * imageSize + (c * h + i) * w + j] } }
            }
            for (si, s) in cfg.stages.enumerated() {
                let weight = p["features.\(si).conv.weight"], bias = p["features.\(si).conv.bias"]
                let k = s.kernelSize, oc = s.outChannels
                let oh = (h + 2 * s.padding - k) / s.stride + 1, ow = (w + 2 * s.padding - k) / s.stride + 1
                // Direct convolution: y[o][i][j] = b[o] + Σ_c Σ_ki Σ_kj W[o][c][ki][kj] · x[c][i·s − p + ki][j·s − p + kj]
                var y = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: ow), count: oh), count: oc)
                for o in 0..<oc {
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var sum = bias[o]
                            for c in 0..<ch {
                                for ki in 0..<k {
                                    for kj in 0..<k {
                                        let yi = i * s.stride - s.padding + ki, xj = j * s.stride - s.padding + kj
                                        guard yi >= 0, yi < h, xj >= 0, xj < w else { continue }   // zero padding
                                        sum += weight[((o * ch + c) * k + ki) * k + kj] * x[c][yi][xj]
                                    }
                                }
                            }
                            y[o][i][j] = max(sum, 0)   // ReLU
                        }
                    }
                }
                (ch, h, w) = (oc, oh, ow)
                if let pool = s.pool {
                    // Window = stride = pool_size; a ragged last row/column is dropped.
                    let ps = s.poolSize, ph = (h - ps) / ps + 1, pw = (w - ps) / ps + 1
                    y = y.map { plane in
                        (0..<ph).map { i in
                            (0..<pw).map { j in
                                var window: [Double] = []
                                for a in 0..<ps { for b in 0..<ps { window.append(plane[i * ps + a][j * ps + b]) } }
                                switch pool {
                                case .max: return window.max()!
                                case .avg: return window.reduce(0, +) / Double(window.count)
                                }
                            }
                        }
                    }
                    (h, w) = (ph, pw)
                }
                x = y
            }
            var v: [Double] = Array(x.joined().joined())   // flatten (C, H, W)
            let widths = cfg.hidden + [cfg.numClasses]
            for (j, width) in widths.enumerated() {
                v = linear([v], p["classifier.\(j).weight"], p["classifier.\(j).bias"], out: width)[0]
                if j < widths.count - 1 { v = v.map { max($0, 0) } }
            }
            out += v
        }
        return out
    }
}

// MARK: - Comparison

/// The largest |actual − expected| (∞ on a count mismatch or a NaN).
func maxAbsDiff(_ actual: [Float], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var m = 0.0
    for (a, e) in zip(actual, expected) {
        let d = abs(Double(a) - e)
        if d.isNaN { return .infinity }
        m = max(m, d)
    }
    return m
}
