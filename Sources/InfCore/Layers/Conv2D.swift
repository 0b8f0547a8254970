// 2-D convolution as im2col + GEMM, NCHW: per image,
//   out (OC, OH·OW) = W (OC, IC·KH·KW) × col (IC·KH·KW, OH·OW) + b.

public struct Conv2D: Sendable {
    /// (OC, IC·KH·KW): the (OC, IC, KH, KW) kernel flattened, behind `LinearWeights`
    /// so precision and sparsity techniques apply to convolutions as to linear layers.
    public var weights: any LinearWeights
    public var bias: Tensor?  // (OC)
    public let inChannels: Int
    public let kernelH: Int
    public let kernelW: Int
    public var stride: Int
    public var padding: Int

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4, "a conv weight is (OC, IC, KH, KW), got \(weight.shape)")
        let (oc, ic, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        self.init(weights: DenseWeights(weight.reshaped([oc, ic * kh * kw])), bias: bias,
                  inChannels: ic, kernelH: kh, kernelW: kw, stride: stride, padding: padding)
    }

    public init(weights: any LinearWeights, bias: Tensor?, inChannels: Int, kernelH: Int, kernelW: Int,
                stride: Int = 1, padding: Int = 0) {
        precondition(weights.inFeatures == inChannels * kernelH * kernelW,
                     "conv weights (\(weights.outFeatures), \(weights.inFeatures)) do not match \(inChannels)×\(kernelH)×\(kernelW)")
        precondition(stride >= 1 && padding >= 0, "stride must be ≥ 1 and padding ≥ 0")
        if let bias { precondition(bias.shape == [weights.outFeatures], "conv bias \(bias.shape) does not match \(weights.outFeatures) channels") }
        self.weights = weights
        self.bias = bias
        self.inChannels = inChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.stride = stride
        self.padding = padding
    }

    /// The kernel as a dense (OC, IC, KH, KW) tensor.
    public var weight: Tensor { weights.dense().reshaped([outChannels, inChannels, kernelH, kernelW]) }
    public var outChannels: Int { weights.outFeatures }
    public var parameterCount: Int { weights.outFeatures * weights.inFeatures + (bias?.count ?? 0) }
    public var byteCount: Int { weights.byteCount + (bias?.byteCount ?? 0) }

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
                    for bi in 0..<b {
                        Profiler.measure("conv.im2col") {
                            im2colKernel(cp.baseAddress!, xp.baseAddress! + bi * inChannels * h * w,
                                         channels: inChannels, height: h, width: w,
                                         kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding,
                                         outH: oh, outW: ow)
                        }
                        let out = yp.baseAddress! + bi * outChannels * n
                        Profiler.measure("conv.gemm") {
                            weights.multiplyLeft(cp.baseAddress!, columns: n, into: out)
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
