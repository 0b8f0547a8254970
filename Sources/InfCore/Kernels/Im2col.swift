// im2col: unfold one image's receptive fields into columns so a convolution
// becomes a single GEMM, W (OC, IC·KH·KW) × col (IC·KH·KW, OH·OW).
/// img (IC, H, W) → col (IC·KH·KW, OH·OW); positions outside the image (padding) are 0.
@inlinable
public func im2colKernel(_ col: UnsafeMutablePointer<Float>, _ img: UnsafePointer<Float>,
                         channels: Int, height: Int, width: Int,
                         kernelH: Int, kernelW: Int, stride: Int, padding: Int,
                         outH: Int, outW: Int) {
    let outSize = outH * outW
    for c in 0..<channels {
        for kh in 0..<kernelH {
            for kw in 0..<kernelW {
                let row = (c * kernelH + kh) * kernelW + kw
                let dst = col + row * outSize
                for oh in 0..<outH {
                    let ih = oh * stride - padding + kh
                    let d = dst + oh * outW
                    if ih < 0 || ih >= height {
                        for ow in 0..<outW { d[ow] = 0 }
                        continue
                    }
                    let src = img + (c * height + ih) * width
                    for ow in 0..<outW {
                        let iw = ow * stride - padding + kw
                        d[ow] = (iw >= 0 && iw < width) ? src[iw] : 0
                    }
                }
            }
        }
    }
}
