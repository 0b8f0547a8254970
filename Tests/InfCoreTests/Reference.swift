// Naive reference implementations: plain loops over arrays, computing in Double, written the
// textbook way (no BLAS, no im2col, no fusion), plus `assertClose`, which every test uses.
import Foundation
import InfCore
import XCTest

// MARK: - Tolerances

/// Unit roundoff of Float (round to nearest): 2⁻²⁴ ≈ 6e-8.
let floatU: Double = 0x1p-24

/// Higham's γ_n = n·u / (1 − n·u): a fp32 sum of n products, in any order and with or
/// without FMA, is off from the exact sum by at most γ_n · Σ|products|.
func gamma(_ n: Int) -> Double {
    Double(n) * floatU / (1 - Double(n) * floatU)
}

// MARK: - Comparison

/// How far `actual` is from `expected`: the largest |Δ|, where it is, and how many
/// elements break |Δ| ≤ absTol + relTol·|expected|.
struct Closeness {
    var maxAbsDiff: Double = 0
    var maxIndex: Int = 0
    var failures: Int = 0
    var firstFailure: Int? = nil
    var countMismatch = false
    var ok: Bool { failures == 0 && !countMismatch }
}

/// The check behind `assertClose`, without the assertion (so a test can show it fails).
/// NaN matches only NaN and an infinity only the same infinity.
func closeness(_ actual: [Float], _ expected: [Double], absTol: Double, relTol: Double) -> Closeness {
    var r = Closeness()
    guard actual.count == expected.count else {
        r.countMismatch = true
        return r
    }
    for i in actual.indices {
        let a = Double(actual[i]), e = expected[i]
        let diff: Double
        let good: Bool
        if e.isNaN || a.isNaN {
            good = e.isNaN && a.isNaN
            diff = good ? 0 : .infinity
        } else if e.isInfinite || a.isInfinite {
            good = a == e
            diff = good ? 0 : .infinity
        } else {
            diff = abs(a - e)
            good = diff <= absTol + relTol * abs(e)
        }
        if diff > r.maxAbsDiff {
            r.maxAbsDiff = diff
            r.maxIndex = i
        }
        if !good {
            r.failures += 1
            if r.firstFailure == nil { r.firstFailure = i }
        }
    }
    return r
}

/// Asserts |actual − expected| ≤ absTol + relTol·|expected| elementwise and prints, like
/// llm.c's tests, "OK" or "NOT OK" with the largest difference and where it is.
func assertClose(_ actual: [Float], _ expected: [Double], absTol: Double, relTol: Double,
                 _ name: String = "", file: StaticString = #filePath, line: UInt = #line) {
    let r = closeness(actual, expected, absTol: absTol, relTol: relTol)
    let label = name.isEmpty ? "" : name + ": "
    if r.countMismatch {
        print("NOT OK \(label)\(actual.count) values, expected \(expected.count)")
        XCTFail("\(label)\(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let summary = String(format: "max |Δ| = %.3e at [%d] (actual %.9g, expected %.9g; absTol %.1e, relTol %.1e)",
                         r.maxAbsDiff, r.maxIndex,
                         actual.isEmpty ? 0 : Double(actual[r.maxIndex]),
                         expected.isEmpty ? 0 : expected[r.maxIndex], absTol, relTol)
    if r.ok {
        print("OK     \(label)\(summary)")
    } else {
        let f = r.firstFailure!
        let first = "first failure at [\(f)]: actual \(actual[f]), expected \(expected[f])"
        print("NOT OK \(label)\(summary); \(r.failures) of \(actual.count) out of tolerance; \(first)")
        XCTFail("\(label)\(r.failures) of \(actual.count) values out of tolerance; \(summary); \(first)",
                file: file, line: line)
    }
}

/// Float against Float (e.g. one optimised run against another).
func assertClose(_ actual: [Float], _ expected: [Float], absTol: Double, relTol: Double,
                 _ name: String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual, expected.map(Double.init), absTol: absTol, relTol: relTol, name, file: file, line: line)
}

// MARK: - Test data

/// n values from Normal(0, std²), seeded.
func randn(_ n: Int, std: Float = 1, rng: inout SeededRNG) -> [Float] {
    Tensor.randomNormal([n], std: std, rng: &rng).storage
}

/// n values uniform in range, seeded.
func randu(_ n: Int, in range: ClosedRange<Float>, rng: inout SeededRNG) -> [Float] {
    Tensor.randomUniform([n], in: range, rng: &rng).storage
}

// MARK: - References

/// Naive references, all accumulating in Double. Shapes are row-major and given in comments.
enum Ref {
    /// C (m, n) = op(A) op(B), op(A) (m, k), op(B) (k, n).
    /// A is stored (m, k) with row stride lda, or (k, m) when transA; likewise B is (k, n) or (n, k).
    static func matmul(_ a: [Float], lda: Int, transA: Bool, _ b: [Float], ldb: Int, transB: Bool,
                       m: Int, n: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    let bpj = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(aip) * Double(bpj)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    /// x (rows, C), weight (OC, C), bias (OC) → y (rows, OC) = x Wᵀ + b.
    static func linear(_ x: [Float], rows: Int, weight: [Float], bias: [Float]?,
                       inFeatures c: Int, outFeatures oc: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * oc)
        for r in 0..<rows {
            for o in 0..<oc {
                var s = bias.map { Double($0[o]) } ?? 0
                for i in 0..<c { s += Double(x[r * c + i]) * Double(weight[o * c + i]) }
                y[r * oc + o] = s
            }
        }
        return y
    }

    /// x · Φ(x) = x · ½(1 + erf(x/√2)), in Double.
    static func gelu(_ x: [Float]) -> [Double] {
        x.map { v in
            let d = Double(v)
            // ½·erfc(−x/√2) equals ½(1 + erf(x/√2)) without the cancellation for x ≪ 0.
            return d * 0.5 * erfc(-d / 2.0.squareRoot())
        }
    }

    static func relu(_ x: [Float]) -> [Double] {
        x.map { Swift.max(Double($0), 0) }
    }

    /// Softmax of each row, p_j = exp(x_j) / Σ_k exp(x_k). Shifting by the row maximum leaves
    /// p unchanged in exact arithmetic and keeps exp in range even in Double (exp(1000) = ∞).
    /// A row with no finite entry (every key masked) is all zeros: infbench's convention.
    static func softmax(_ x: [Double], rows: Int, cols: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let row = x[(r * cols)..<((r + 1) * cols)]
            let m = row.max() ?? -.infinity
            if m == -.infinity { continue }
            let e = row.map { exp($0 - m) }
            let sum = e.reduce(0, +)
            for c in 0..<cols { y[r * cols + c] = e[c] / sum }
        }
        return y
    }

    /// x, residual (rows, C), gamma, beta (C): y = γ ⊙ (z − μ)/√(σ² + ε) + β, z = x + residual,
    /// σ² the biased (population) variance, as PyTorch's LayerNorm.
    static func layerNorm(_ x: [Float], residual: [Float]?, gamma: [Float], beta: [Float],
                          rows: Int, cols: Int, eps: Double) -> [Double] {
        var y = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            var z = [Double](repeating: 0, count: cols)
            for c in 0..<cols { z[c] = Double(x[r * cols + c]) + (residual.map { Double($0[r * cols + c]) } ?? 0) }
            let mean = z.reduce(0, +) / Double(cols)
            let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cols)
            for c in 0..<cols {
                y[r * cols + c] = Double(gamma[c]) * (z[c] - mean) / (variance + eps).squareRoot() + Double(beta[c])
            }
        }
        return y
    }

    /// table (V, C), ids (N) → (N, C); adds onto `onto` (N, C) when given.
    static func embedding(table: [Float], dim: Int, ids: [Int32], onto: [Float]? = nil) -> [Double] {
        var y = [Double](repeating: 0, count: ids.count * dim)
        for (n, id) in ids.enumerated() {
            for c in 0..<dim {
                y[n * dim + c] = Double(table[Int(id) * dim + c]) + (onto.map { Double($0[n * dim + c]) } ?? 0)
            }
        }
        return y
    }

    /// Multi-head self-attention, textbook form.
    /// x (B, T, C); wqkv (3C, C) with rows [query; key; value]; bqkv (3C); wo (C, C); bo (C);
    /// keyMask (B, T) 1 = real token, 0 = padding; causal: query i sees keys 0...i.
    /// Each head gets its own q, k, v (T, d) arrays and an explicit (T, T) score matrix where a
    /// masked entry is −∞. Returns y (B, T, C).
    static func attention(_ x: [Float], b: Int, t: Int, c: Int, heads: Int,
                          wqkv: [Float], bqkv: [Float]?, wo: [Float], bo: [Float]?,
                          keyMask: [Float]?, causal: Bool) -> [Double] {
        let d = c / heads
        let qkv = linear(x, rows: b * t, weight: wqkv, bias: bqkv, inFeatures: c, outFeatures: 3 * c) // (B, T, 3C)
        var context = [Double](repeating: 0, count: b * t * c) // (B, T, C)
        for bi in 0..<b {
            for h in 0..<heads {
                var q = [[Double]](repeating: [Double](repeating: 0, count: d), count: t)
                var k = q, v = q
                for ti in 0..<t {
                    for i in 0..<d {
                        let row = (bi * t + ti) * 3 * c
                        q[ti][i] = qkv[row + h * d + i]
                        k[ti][i] = qkv[row + c + h * d + i]
                        v[ti][i] = qkv[row + 2 * c + h * d + i]
                    }
                }
                var scores = [Double](repeating: 0, count: t * t) // (T, T)
                for i in 0..<t {
                    for j in 0..<t {
                        var s = 0.0
                        for p in 0..<d { s += q[i][p] * k[j][p] }
                        s /= Double(d).squareRoot()
                        if let keyMask, keyMask[bi * t + j] == 0 { s = -.infinity }
                        if causal && j > i { s = -.infinity }
                        scores[i * t + j] = s
                    }
                }
                let probs = softmax(scores, rows: t, cols: t)
                for i in 0..<t {
                    for p in 0..<d {
                        var s = 0.0
                        for j in 0..<t { s += probs[i * t + j] * v[j][p] }
                        context[(bi * t + i) * c + h * d + p] = s
                    }
                }
            }
        }
        // Output projection in Double (the context is not rounded to Float first).
        var y = [Double](repeating: 0, count: b * t * c)
        for r in 0..<(b * t) {
            for o in 0..<c {
                var s = bo.map { Double($0[o]) } ?? 0
                for i in 0..<c { s += context[r * c + i] * Double(wo[o * c + i]) }
                y[r * c + o] = s
            }
        }
        return y
    }

    /// One attention head on its own: q (Tq, d), k, v (Tk, d) → (Tq, d).
    /// keyMask (Tk) 1 keeps a key; causalOffset: query i sits at position offset + i and sees
    /// keys j ≤ offset + i (nil = no causal mask). Masked scores are −∞.
    static func attentionHead(q: [Double], k: [Double], v: [Double], tq: Int, tk: Int, d: Int,
                              keyMask: [Float]?, causalOffset: Int?) -> [Double] {
        var scores = [Double](repeating: 0, count: tq * tk)
        for i in 0..<tq {
            for j in 0..<tk {
                var s = 0.0
                for p in 0..<d { s += q[i * d + p] * k[j * d + p] }
                s /= Double(d).squareRoot()
                if let keyMask, keyMask[j] == 0 { s = -.infinity }
                if let causalOffset, j > causalOffset + i { s = -.infinity }
                scores[i * tk + j] = s
            }
        }
        let probs = softmax(scores, rows: tq, cols: tk)
        var out = [Double](repeating: 0, count: tq * d)
        for i in 0..<tq {
            for p in 0..<d {
                var s = 0.0
                for j in 0..<tk { s += probs[i * tk + j] * v[j * d + p] }
                out[i * d + p] = s
            }
        }
        return out
    }

    /// Direct convolution, NCHW, seven nested loops.
    /// x (B, IC, H, W), w (OC, IC, KH, KW), bias (OC) → (B, OC, OH, OW), OH = (H + P + P_end − KH)/S + 1
    /// (P_end, the padding below/right, is P unless given).
    static func conv2d(_ x: [Float], b: Int, ic: Int, h: Int, w: Int,
                       weight: [Float], oc: Int, kh: Int, kw: Int, bias: [Float]?,
                       stride: Int, padding: Int, paddingEnd: Int? = nil) -> (y: [Double], oh: Int, ow: Int) {
        let oh = (h + padding + (paddingEnd ?? padding) - kh) / stride + 1
        let ow = (w + padding + (paddingEnd ?? padding) - kw) / stride + 1
        var y = [Double](repeating: 0, count: b * oc * oh * ow)
        for bi in 0..<b {
            for o in 0..<oc {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = bias.map { Double($0[o]) } ?? 0
                        for ci in 0..<ic {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = oy * stride - padding + ky
                                    let ix = ox * stride - padding + kx
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue } // zero padding
                                    s += Double(x[((bi * ic + ci) * h + iy) * w + ix])
                                        * Double(weight[((o * ic + ci) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        y[((bi * oc + o) * oh + oy) * ow + ox] = s
                    }
                }
            }
        }
        return (y, oh, ow)
    }

    /// Depthwise convolution: channel c of x (B, C, H, W) convolved with w[c] (C, 1, K, K) alone,
    /// plus bias[c]: the direct convolution above run once per channel with one input channel.
    static func depthwiseConv2d(_ x: [Float], b: Int, c: Int, h: Int, w: Int, weight: [Float], k: Int, bias: [Float]?,
                                stride: Int, padding: Int, paddingEnd: Int) -> (y: [Double], oh: Int, ow: Int) {
        let oh = (h + padding + paddingEnd - k) / stride + 1, ow = (w + padding + paddingEnd - k) / stride + 1
        var y = [Double](repeating: 0, count: b * c * oh * ow)
        for bi in 0..<b {
            for ch in 0..<c {
                let plane = Array(x[((bi * c + ch) * h * w)..<((bi * c + ch + 1) * h * w)])
                let r = conv2d(plane, b: 1, ic: 1, h: h, w: w, weight: Array(weight[(ch * k * k)..<((ch + 1) * k * k)]),
                               oc: 1, kh: k, kw: k, bias: bias.map { [$0[ch]] }, stride: stride, padding: padding, paddingEnd: paddingEnd)
                for i in 0..<(oh * ow) { y[(bi * c + ch) * oh * ow + i] = r.y[i] }
            }
        }
        return (y, oh, ow)
    }

    /// x (N, H, W) planes → (N, OH, OW), no padding; max or mean over each k×k window.
    static func pool2d(_ x: [Float], planes: Int, h: Int, w: Int, kernel k: Int, stride s: Int,
                       max useMax: Bool) -> (y: [Double], oh: Int, ow: Int) {
        let oh = (h - k) / s + 1, ow = (w - k) / s + 1
        var y = [Double](repeating: 0, count: planes * oh * ow)
        for p in 0..<planes {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var window: [Double] = []
                    for ky in 0..<k {
                        for kx in 0..<k { window.append(Double(x[(p * h + oy * s + ky) * w + ox * s + kx])) }
                    }
                    y[(p * oh + oy) * ow + ox] = useMax ? window.max()! : window.reduce(0, +) / Double(k * k)
                }
            }
        }
        return (y, oh, ow)
    }

    /// x (B, C, H, W) → (B, C·H·W): element [b][c][i][j] lands at [b][(c·H + i)·W + j].
    static func flatten(_ x: [Float], b: Int, c: Int, h: Int, w: Int) -> [Double] {
        var y = [Double](repeating: .nan, count: b * c * h * w)
        for bi in 0..<b {
            for ci in 0..<c {
                for i in 0..<h {
                    for j in 0..<w {
                        y[bi * (c * h * w) + (ci * h + i) * w + j] = Double(x[((bi * c + ci) * h + i) * w + j])
                    }
                }
            }
        }
        return y
    }
}
