// 2-D convolution as im2col + GEMM, NCHW: per image,
//   out (OC, OH·OW) = W (OC, IC·KH·KW) × col (IC·KH·KW, OH·OW) + b.

public struct Conv2D: Sendable {
    public var weight: Tensor // (OC, IC, KH, KW)
    public var bias: Tensor?  // (OC)
    public var stride: Int
    public var padding: Int

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4, "a conv weight is (OC, IC, KH, KW), got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0, "stride must be ≥ 1 and padding ≥ 0")
        if let bias { precondition(bias.shape == [weight.shape[0]], "conv bias \(bias.shape) does not match \(weight.shape[0]) channels") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
    }

    public var outChannels: Int { weight.shape[0] }
    public var inChannels: Int { weight.shape[1] }
    public var kernelH: Int { weight.shape[2] }
    public var kernelW: Int { weight.shape[3] }
    public var parameterCount: Int { weight.count + (bias?.count ?? 0) }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + 2 * padding - kernelH) / stride + 1, (width + 2 * padding - kernelW) / stride + 1)
    }

    /// Multiply-adds × 2 for one image of this size.
    public func flops(height: Int, width: Int) -> Double {
        let (oh, ow) = outputSize(height: height, width: width)
        return 2 * Double(outChannels * oh * ow) * Double(inChannels * kernelH * kernelW)
    }

    /// x (B, IC, H, W) → y (B, OC, OH, OW); col is scratch reused across calls.
    public func callAsFunction(_ x: Tensor, into y: inout Tensor, col: inout Tensor) {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv expects (B, \(inChannels), H, W), got \(x.shape)")
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize(height: h, width: w)
        // Checked before dividing: integer division would round a negative size up to 0 or 1.
        precondition(h + 2 * padding >= kernelH && w + 2 * padding >= kernelW,
                     "conv input \(h)×\(w) (padding \(padding)) is smaller than its \(kernelH)×\(kernelW) kernel")
        let k = inChannels * kernelH * kernelW, n = oh * ow
        y.resize([b, outChannels, oh, ow])
        col.resize([k, n])
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                col.storage.withUnsafeMutableBufferPointer { cp in
                    weight.storage.withUnsafeBufferPointer { wp in
                        for bi in 0..<b {
                            Profiler.measure("conv.im2col") {
                                im2colKernel(cp.baseAddress!, xp.baseAddress! + bi * inChannels * h * w,
                                             channels: inChannels, height: h, width: w,
                                             kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding,
                                             outH: oh, outW: ow)
                            }
                            let out = yp.baseAddress! + bi * outChannels * n
                            Profiler.measure("conv.gemm") {
                                BLAS.sgemm(m: outChannels, n: n, k: k, a: wp.baseAddress!, lda: k,
                                           b: cp.baseAddress!, ldb: n, c: out, ldc: n)
                            }
                            if let bias {
                                for oc in 0..<outChannels {
                                    let bv = bias.storage[oc]
                                    let row = out + oc * n
                                    for j in 0..<n { row[j] += bv }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
