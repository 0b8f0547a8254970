// Multi-head self-attention against the textbook reference (B = 2, T = 5, C = 8, 2 heads):
// no mask, padding mask, causal, both; padding leaves real tokens' outputs unchanged; causal
// outputs ignore later tokens; the single-head kernel with a causal offset (decoding).
import Foundation
import InfCore
import XCTest

final class AttentionTests: XCTestCase {
    let (b, t, c, heads) = (2, 5, 8, 2)

    /// Tolerance: five fp32 stages chain — QKV projection (C terms), scores (d terms), softmax
    /// (T terms), P·V (T terms), output projection (C terms) — each within ≈ (K + 2)·2⁻²⁴ of the
    /// sum of its absolute terms, which stays ≲ 4 for unit inputs and weights of std 0.3.
    /// (8 + 4 + 5 + 5 + 8 + 5 spare) · 2⁻²⁴ · 4 ≈ 9e-6, and the softmax can pass a score error on
    /// at most ×|v| ≲ 2: absTol = 2e-5.
    let absTol = 2e-5

    struct Weights {
        var wqkv, bqkv, wo, bo: [Float]
    }

    private func weights(seed: UInt64) -> Weights {
        var rng = SeededRNG(seed: seed)
        return Weights(wqkv: randn(3 * c * c, std: 0.3, rng: &rng), bqkv: randn(3 * c, std: 0.1, rng: &rng),
                       wo: randn(c * c, std: 0.3, rng: &rng), bo: randn(c, std: 0.1, rng: &rng))
    }

    private func layer(_ w: Weights, heads: Int? = nil) -> MultiHeadAttention {
        MultiHeadAttention(qkv: Linear(weight: Tensor(shape: [3 * c, c], storage: w.wqkv), bias: Tensor(shape: [3 * c], storage: w.bqkv)),
                           output: Linear(weight: Tensor(shape: [c, c], storage: w.wo), bias: Tensor(shape: [c], storage: w.bo)),
                           heads: heads ?? self.heads)
    }

    private func run(_ w: Weights, _ x: [Float], batch: Int, length: Int, mask: [Float]?, causal: Bool,
                     heads: Int? = nil) -> [Float] {
        var ws = MultiHeadAttention.Workspace()
        var y = Tensor(zeros: [0])
        layer(w, heads: heads)(Tensor(shape: [batch, length, c], storage: x), keyMask: mask.map { Tensor(shape: [batch, length], storage: $0) },
                 causal: causal, into: &y, workspace: &ws, in: .serial)
        XCTAssertEqual(y.shape, [batch, length, c])
        return y.storage
    }

    private func check(mask: [Float]?, causal: Bool, heads: Int? = nil, seed: UInt64, _ name: String) {
        var rng = SeededRNG(seed: seed)
        let w = weights(seed: seed + 1000)
        let x = randn(b * t * c, rng: &rng)
        let got = run(w, x, batch: b, length: t, mask: mask, causal: causal, heads: heads)
        let want = Ref.attention(x, b: b, t: t, c: c, heads: heads ?? self.heads, wqkv: w.wqkv, bqkv: w.bqkv, wo: w.wo, bo: w.bo,
                                 keyMask: mask, causal: causal)
        assertClose(got, want, absTol: absTol, relTol: 0, name)
    }

    /// Sequence 0 has 5 real tokens, sequence 1 has 3 and 2 padding positions.
    let paddingMask: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]

    func testNoMask() { check(mask: nil, causal: false, seed: 1, "attention") }
    func testPaddingMask() { check(mask: paddingMask, causal: false, seed: 2, "attention padded") }
    func testCausal() { check(mask: nil, causal: true, seed: 3, "attention causal") }
    func testCausalWithPadding() { check(mask: paddingMask, causal: true, seed: 4, "attention causal padded") }

    func testOtherHeadCounts() {
        // One head (d = C) and four (d = 2) exercise the head offsets inside the fused QKV rows.
        check(mask: paddingMask, causal: false, heads: 1, seed: 20, "attention 1 head")
        check(mask: paddingMask, causal: true, heads: 4, seed: 21, "attention 4 heads")
    }

    func testFullyMaskedQueryIsFinite() {
        // Left padding under a causal mask: queries 0 and 1 see only padded keys, so their
        // softmax rows are all −∞. They must come out as zeros (context 0, y = output bias),
        // not NaN, and the real positions must still match the reference.
        let leftPadded: [Float] = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
        check(mask: leftPadded, causal: true, seed: 22, "attention left-padded causal")
        var rng = SeededRNG(seed: 23)
        let w = weights(seed: 24)
        let y = run(w, randn(b * t * c, rng: &rng), batch: b, length: t, mask: leftPadded, causal: true)
        XCTAssertFalse(y.contains { $0.isNaN })
        XCTAssertEqual(Array(y[0..<c]), w.bo)
    }

    func testMaskMatters() {
        // The masked run must differ from the unmasked one, or the mask tests above prove nothing.
        var rng = SeededRNG(seed: 5)
        let w = weights(seed: 6)
        let x = randn(b * t * c, rng: &rng)
        let masked = run(w, x, batch: b, length: t, mask: paddingMask, causal: false)
        let unmasked = Ref.attention(x, b: b, t: t, c: c, heads: heads, wqkv: w.wqkv, bqkv: w.bqkv, wo: w.wo, bo: w.bo,
                                     keyMask: nil, causal: false)
        XCTAssertFalse(closeness(masked, unmasked, absTol: absTol, relTol: 0).ok)
    }

    func testPaddingDoesNotChangeRealTokens() {
        // A 3-token sequence alone (B = 1, T = 3) and the same sequence as batch row 1 of a
        // (2, 5) batch, next to a different 5-token sequence, with 2 padding positions full of
        // large garbage. Masked keys get weight exactly 0, so the real positions may differ only by
        // BLAS choosing another blocking for the other shapes: a few ulp, absTol 1e-6.
        var rng = SeededRNG(seed: 7)
        let w = weights(seed: 8)
        let short = randn(3 * c, rng: &rng), other = randn(t * c, rng: &rng)
        let garbage = randn(2 * c, std: 50, rng: &rng)
        let alone = run(w, short, batch: 1, length: 3, mask: nil, causal: false)
        let otherAlone = run(w, other, batch: 1, length: t, mask: nil, causal: false)
        let batched = run(w, other + short + garbage, batch: 2, length: t, mask: paddingMask, causal: false)
        assertClose(Array(batched[(t * c)..<((t + 3) * c)]), alone, absTol: 1e-6, relTol: 0, "padded vs alone")
        assertClose(Array(batched[0..<(t * c)]), otherAlone, absTol: 1e-6, relTol: 0, "full row of a padded batch vs alone")

        // Without the mask the garbage leaks into the real tokens: the comparison above can fail.
        let leaked = run(w, other + short + garbage, batch: 2, length: t, mask: nil, causal: false)
        XCTAssertFalse(closeness(Array(leaked[(t * c)..<((t + 3) * c)]), alone.map(Double.init), absTol: 1e-6, relTol: 0).ok)
    }

    func testCausalIgnoresLaterTokens() {
        // Changing token 3 must leave outputs 0...2 untouched under the causal mask (bitwise: the
        // masked scores are −∞ before the softmax either way) and must change them without it.
        var rng = SeededRNG(seed: 9)
        let w = weights(seed: 10)
        let x = randn(t * c, rng: &rng)
        var x2 = x
        for i in (3 * c)..<(4 * c) { x2[i] += 1 }
        let a = run(w, x, batch: 1, length: t, mask: nil, causal: true)
        let a2 = run(w, x2, batch: 1, length: t, mask: nil, causal: true)
        XCTAssertEqual(Array(a[0..<(3 * c)]), Array(a2[0..<(3 * c)]))
        XCTAssertNotEqual(Array(a[(3 * c)...]), Array(a2[(3 * c)...]))
        let n = run(w, x, batch: 1, length: t, mask: nil, causal: false)
        let n2 = run(w, x2, batch: 1, length: t, mask: nil, causal: false)
        XCTAssertNotEqual(Array(n[0..<(3 * c)]), Array(n2[0..<(3 * c)]))
    }

    func testWorkspaceReuseAcrossShapes() {
        var rng = SeededRNG(seed: 11)
        let w = weights(seed: 12)
        let attn = layer(w)
        let x = Tensor.randomNormal([b, t, c], std: 1, rng: &rng)
        let small = Tensor.randomNormal([1, 3, c], std: 1, rng: &rng)
        var ws = MultiHeadAttention.Workspace()
        var y1 = Tensor(zeros: [0]), y2 = Tensor(zeros: [0]), ySmall = Tensor(zeros: [0])
        let mask = Tensor(shape: [b, t], storage: paddingMask)
        attn(x, keyMask: mask, causal: false, into: &y1, workspace: &ws, in: .serial)
        attn(small, keyMask: nil, causal: true, into: &ySmall, workspace: &ws, in: .serial)
        attn(x, keyMask: mask, causal: false, into: &y2, workspace: &ws, in: .serial)
        XCTAssertEqual(y1, y2, "stale workspace contents must not leak into a later call")
        XCTAssertEqual(ySmall.shape, [1, 3, c])
    }

    func testHeadKernelWithCausalOffset() {
        // Decoding with a KV cache: 2 new queries at absolute positions 4 and 5 over 6 cached
        // keys, read from strided (T, 3d) rows whose padding is NaN (reading it would poison the
        // result); the output has row stride 2d with a sentinel in between; the scratch starts NaN.
        // Tolerance: the scores (d terms), softmax (6 terms) and P·V (6 terms) chain as in the
        // layer test, with |q|, |k|, |v| ~ 1: (4 + 6 + 6 + 6)·2⁻²⁴·4 ≈ 5e-6 → absTol 1e-5.
        var rng = SeededRNG(seed: 13)
        let (tq, tk, d, offset) = (2, 6, 4, 4)
        let ld = 3 * d
        var buf = [Float](repeating: .nan, count: tk * ld)  // per row: [q (d) | k (d) | v (d)], q only in rows 4, 5
        for j in 0..<tk { for p in d..<(3 * d) { buf[j * ld + p] = rng.nextGaussian() } }
        for i in 0..<tq { for p in 0..<d { buf[(offset + i) * ld + p] = rng.nextGaussian() } }
        let keyMask: [Float] = [1, 0, 1, 1, 1, 1]
        let sentinel: Float = -777
        var out = [Float](repeating: sentinel, count: tq * 2 * d)
        var scratch = [Float](repeating: .nan, count: tq * tk)
        buf.withUnsafeBufferPointer { bp in
            keyMask.withUnsafeBufferPointer { mp in
                out.withUnsafeMutableBufferPointer { op in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        let base = bp.baseAddress!
                        attentionHeadKernel(out: op.baseAddress!, ldo: 2 * d,
                                            q: base + offset * ld, ldq: ld, k: base + d, ldk: ld, v: base + 2 * d, ldv: ld,
                                            tq: tq, tk: tk, headSize: d,
                                            keyMask: mp.baseAddress!, causalOffset: offset, scratch: sp.baseAddress!)
                    }
                }
            }
        }
        func rows(_ from: Int, _ n: Int, _ col: Int) -> [Double] {
            (from..<(from + n)).flatMap { j in (0..<d).map { Double(buf[j * ld + col + $0]) } }
        }
        let want = Ref.attentionHead(q: rows(offset, tq, 0), k: rows(0, tk, d), v: rows(0, tk, 2 * d),
                                     tq: tq, tk: tk, d: d, keyMask: keyMask, causalOffset: offset)
        let got = (0..<tq).flatMap { i in out[(i * 2 * d)..<(i * 2 * d + d)] }
        assertClose(got, want, absTol: 1e-5, relTol: 0, "head kernel, causal offset 4")
        XCTAssertTrue((0..<tq).allSatisfy { i in out[(i * 2 * d + d)..<((i + 1) * 2 * d)].allSatisfy { $0 == sentinel } },
                      "the kernel wrote outside its (Tq, d) view")
        // Query 0 (position 4) must not see key 5: the result differs from a run without the causal limit.
        let open = Ref.attentionHead(q: rows(offset, tq, 0), k: rows(0, tk, d), v: rows(0, tk, 2 * d),
                                     tq: tq, tk: tk, d: d, keyMask: keyMask, causalOffset: nil)
        XCTAssertFalse(closeness(Array(got[0..<d]), Array(open[0..<d]), absTol: 1e-5, relTol: 0).ok)
    }
}
