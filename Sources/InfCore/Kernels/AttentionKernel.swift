// Scaled dot-product attention for one head, on strided views so that heads
// are read straight out of a fused (T, 3C) QKV buffer without copies.
// Both products go to BLAS; the softmax runs in between on a (Tq, Tk) scratch.
// Heads run concurrently on several threads, so nothing here may touch shared state.

/// q (Tq, hs) row stride ldq; k, v (Tk, hs) row strides ldk, ldv; out (Tq, hs) row stride ldo.
/// keyMask (Tk): 1 keeps a key, 0 masks it (padding). causalOffset: query i sits at
/// absolute position causalOffset + i and sees keys j ≤ causalOffset + i; nil = no causal mask.
/// scratch: at least Tq·Tk floats.
public func attentionHeadKernel(out: UnsafeMutablePointer<Float>, ldo: Int,
                                q: UnsafePointer<Float>, ldq: Int,
                                k: UnsafePointer<Float>, ldk: Int,
                                v: UnsafePointer<Float>, ldv: Int,
                                tq: Int, tk: Int, headSize: Int,
                                keyMask: UnsafePointer<Float>?, causalOffset: Int?,
                                scratch: UnsafeMutablePointer<Float>) {
    let scale = 1 / Float(headSize).squareRoot()
    // S (Tq, Tk) = scale · Q Kᵀ
    BLAS.sgemm(transA: false, transB: true, m: tq, n: tk, k: headSize, alpha: scale,
               a: q, lda: ldq, b: k, ldb: ldk, beta: 0, c: scratch, ldc: tk)
    if keyMask != nil || causalOffset != nil {
        for i in 0..<tq {
            let row = scratch + i * tk
            if let keyMask {
                for j in 0..<tk where keyMask[j] == 0 { row[j] = -.infinity }
            }
            if let causalOffset {
                let last = causalOffset + i
                if last + 1 < tk {
                    for j in (last + 1)..<tk { row[j] = -.infinity }
                }
            }
        }
    }
    softmaxRowsKernel(scratch, rows: tq, cols: tk)
    // O (Tq, hs) = P V
    BLAS.sgemm(transA: false, transB: false, m: tq, n: headSize, k: tk, alpha: 1,
               a: scratch, lda: tk, b: v, ldb: ldv, beta: 0, c: out, ldc: ldo)
}
