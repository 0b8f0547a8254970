// Depthwise convolution, direct: each channel is convolved with its own K×K kernel, so
// there is no reduction over channels for a GEMM to exploit (as im2col + GEMM it would be
// C GEMMs of one row each). Instead each output row accumulates K×K shifted input rows,
// a loop over contiguous memory the vectoriser handles at stride 1.

/// One plane: inp (H, W) → out (OH, OW), out = bias + Σ_{kh,kw} w[kh, kw] · inp[oh·s − padTop + kh, ow·s − padLeft + kw],
/// zero outside the image (so the bottom/right padding is whatever OH, OW imply); then
/// clamped to [0, 6] when `relu6`. w is (K, K).
@inlinable
public func depthwiseConv2dPlaneKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                       _ w: UnsafePointer<Float>, bias: Float,
                                       height: Int, width: Int, kernel k: Int, stride s: Int,
                                       padTop: Int, padLeft: Int, outH: Int, outW: Int, relu6: Bool) {
    for oh in 0..<outH {
        let row = out + oh * outW
        for ow in 0..<outW { row[ow] = bias }
        for kh in 0..<k {
            let ih = oh * s - padTop + kh
            if ih < 0 || ih >= height { continue }
            let src = inp + ih * width
            for kw in 0..<k {
                // Output columns whose input column ow·s − padLeft + kw lies inside the row.
                let last = width - 1 + padLeft - kw
                if last < 0 { continue }
                let lo = padLeft - kw > 0 ? (padLeft - kw + s - 1) / s : 0
                let hi = min(outW, last / s + 1)
                if lo >= hi { continue }
                let wv = w[kh * k + kw]
                if s == 1 {
                    let shifted = src + (kw - padLeft)
                    for ow in lo..<hi { row[ow] += wv * shifted[ow] }
                } else {
                    for ow in lo..<hi { row[ow] += wv * src[ow * s - padLeft + kw] }
                }
            }
        }
        if relu6 { for ow in 0..<outW { row[ow] = min(max(row[ow], 0), 6) } }
    }
}
