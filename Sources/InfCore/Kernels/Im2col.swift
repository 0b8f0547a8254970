// im2col: unfold one image's receptive fields into columns so a convolution
// becomes a single GEMM, W (OC, IC·KH·KW) × col (IC·KH·KW, OH·OW).
/// img (IC, H, W) → col (IC·KH·KW, OH·OW); positions outside the image (padding) are 0.
@inlinable
public func im2colKernel(_ col: UnsafeMutablePointer<Float>, _ img: UnsafePointer<Float>,
                         channels: Int, height: Int, width: Int,
                         kernelH: Int, kernelW: Int, stride: Int, padding: Int,
                         outH: Int, outW: Int) {
    im2colRowsKernel(col, img, channels: channels, height: height, width: width,
                     kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding,
                     outW: outW, outRows: 0..<outH)
}

/// The columns of output rows `outRows` only: img (IC, H, W) → col (IC·KH·KW, |outRows|·OW),
/// packed (row stride |outRows|·OW). A thread that owns a band of output rows (a tile of the
/// GEMM's columns) fills just that; the values are those of the full col.
@inlinable
public func im2colRowsKernel(_ col: UnsafeMutablePointer<Float>, _ img: UnsafePointer<Float>,
                             channels: Int, height: Int, width: Int,
                             kernelH: Int, kernelW: Int, stride: Int, padding: Int,
                             outW: Int, outRows: Range<Int>) {
    let tileSize = outRows.count * outW
    for c in 0..<channels {
        for kh in 0..<kernelH {
            for kw in 0..<kernelW {
                let row = (c * kernelH + kh) * kernelW + kw
                let dst = col + row * tileSize
                for oh in outRows {
                    let ih = oh * stride - padding + kh
                    let d = dst + (oh - outRows.lowerBound) * outW
                    if ih < 0 || ih >= height {
                        for ow in 0..<outW { d[ow] = 0 }
                        continue
                    }
                    let src = img + (c * height + ih) * width
                    if stride == 1 {
                        // Interior columns copy straight; only the padded edges test bounds.
                        let lo = min(outW, max(0, padding - kw)), hi = max(lo, min(outW, width + padding - kw))
                        for ow in 0..<lo { d[ow] = 0 }
                        (d + lo).update(from: src + (lo - padding + kw), count: hi - lo)
                        for ow in hi..<outW { d[ow] = 0 }
                        continue
                    }
                    for ow in 0..<outW {
                        let iw = ow * stride - padding + kw
                        d[ow] = (iw >= 0 && iw < width) ? src[iw] : 0
                    }
                }
            }
        }
    }
}
