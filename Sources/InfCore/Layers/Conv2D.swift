// 2-D convolution as im2col + GEMM, NCHW: per image,
//   out (OC, OH·OW) = W (OC, IC·KH·KW) × col (IC·KH·KW, OH·OW) + b.
// A 1×1 stride-1 unpadded (pointwise) conv skips im2col: the image (IC, H·W) already is col.

public struct Conv2D: Sendable {
    /// (OC, IC·KH·KW): the (OC, IC, KH, KW) kernel flattened, behind `LinearWeights`
    /// so precision and sparsity techniques apply to convolutions as to linear layers.
    public var weights: any LinearWeights
    public var bias: Tensor?  // (OC)
    public let inChannels: Int
    public let kernelH: Int
    public let kernelW: Int
    public var stride: Int
    /// Zero rows above / columns left of the image, and below / right of it (TensorFlow's
    /// "same" padding puts an odd one at the end).
    public var padding: Int
    public var paddingEnd: Int

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, paddingEnd: Int? = nil) {
        precondition(weight.rank == 4, "a conv weight is (OC, IC, KH, KW), got \(weight.shape)")
        let (oc, ic, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        self.init(weights: DenseWeights(weight.reshaped([oc, ic * kh * kw])), bias: bias,
                  inChannels: ic, kernelH: kh, kernelW: kw, stride: stride, padding: padding, paddingEnd: paddingEnd)
    }

    public init(weights: any LinearWeights, bias: Tensor?, inChannels: Int, kernelH: Int, kernelW: Int,
                stride: Int = 1, padding: Int = 0, paddingEnd: Int? = nil) {
        precondition(weights.inFeatures == inChannels * kernelH * kernelW,
                     "conv weights (\(weights.outFeatures), \(weights.inFeatures)) do not match \(inChannels)×\(kernelH)×\(kernelW)")
        precondition(stride >= 1 && padding >= 0 && (paddingEnd ?? 0) >= 0, "stride must be ≥ 1 and padding ≥ 0")
        if let bias { precondition(bias.shape == [weights.outFeatures], "conv bias \(bias.shape) does not match \(weights.outFeatures) channels") }
        self.weights = weights
        self.bias = bias
        self.inChannels = inChannels
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.stride = stride
        self.padding = padding
        self.paddingEnd = paddingEnd ?? padding
    }

    /// The kernel as a dense (OC, IC, KH, KW) tensor.
    public var weight: Tensor { weights.dense().reshaped([outChannels, inChannels, kernelH, kernelW]) }
    public var outChannels: Int { weights.outFeatures }
    public var parameterCount: Int { weights.outFeatures * weights.inFeatures + (bias?.count ?? 0) }
    public var byteCount: Int { weights.byteCount + (bias?.byteCount ?? 0) }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + padding + paddingEnd - kernelH) / stride + 1, (width + padding + paddingEnd - kernelW) / stride + 1)
    }

    /// Multiply-adds × 2 for one image of this size.
    public func flops(height: Int, width: Int) -> Double {
        let (oh, ow) = outputSize(height: height, width: width)
        return 2 * Double(outChannels * oh * ow) * Double(inChannels * kernelH * kernelW)
    }

    /// y (OC, n) += b, row by row.
    private func addBias(_ y: UnsafeMutablePointer<Float>, _ n: Int) {
        guard let bias else { return }
        for oc in 0..<outChannels {
            let bv = bias.storage[oc]
            let row = y + oc * n
            for j in 0..<n { row[j] += bv }
        }
    }

    /// x (B, IC, H, W) → y (B, OC, OH, OW); col is scratch reused across calls (untouched by pointwise convs).
    public func callAsFunction(_ x: Tensor, into y: inout Tensor, col: inout Tensor) {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv expects (B, \(inChannels), H, W), got \(x.shape)")
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize(height: h, width: w)
        // Checked before dividing: integer division would round a negative size up to 0 or 1.
        precondition(h + padding + paddingEnd >= kernelH && w + padding + paddingEnd >= kernelW,
                     "conv input \(h)×\(w) (padding \(padding)+\(paddingEnd)) is smaller than its \(kernelH)×\(kernelW) kernel")
        let pointwise = kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 && paddingEnd == 0
        let k = inChannels * kernelH * kernelW, n = oh * ow
        y.resize([b, outChannels, oh, ow])
        if !pointwise { col.resize([k, n]) }
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                col.storage.withUnsafeMutableBufferPointer { cp in
                    for bi in 0..<b {
                        let out = yp.baseAddress! + bi * outChannels * n
                        if pointwise {
                            Profiler.measure("conv.gemm") {
                                weights.multiplyLeft(xp.baseAddress! + bi * inChannels * h * w, columns: n, into: out)
                            }
                            addBias(out, n)
                            continue
                        }
                        Profiler.measure("conv.im2col") {
                            im2colKernel(cp.baseAddress!, xp.baseAddress! + bi * inChannels * h * w,
                                         channels: inChannels, height: h, width: w,
                                         kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding,
                                         outH: oh, outW: ow)
                        }
                        Profiler.measure("conv.gemm") {
                            weights.multiplyLeft(cp.baseAddress!, columns: n, into: out)
                        }
                        addBias(out, n)
                    }
                }
            }
        }
    }
}
