// Depthwise 2-D convolution, NCHW: channel c of the output is channel c of the input
// convolved with its own K×K kernel (PyTorch's groups = channels), plus a bias, with an
// optional fused ReLU6. Padding may be asymmetric (TensorFlow's "same" puts the odd row at
// the bottom). The weights stay fp32 under every technique: they are C·K² numbers, about 1%
// of a MobileNet-style model, and are not a matrix product that LinearWeights could carry.
public struct DepthwiseConv2D: Sendable {
    public var weight: Tensor  // (C, 1, K, K), as PyTorch stores a depthwise kernel
    public var bias: Tensor?   // (C)
    public let stride: Int
    /// Zero rows above / columns left of the image, and below / right of it.
    public let padding: Int
    public let paddingEnd: Int
    /// Clamp the output to [0, 6] in the same pass.
    public var fusedReLU6: Bool

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, paddingEnd: Int? = nil, fusedReLU6: Bool = false) {
        precondition(weight.rank == 4 && weight.shape[1] == 1 && weight.shape[2] == weight.shape[3],
                     "a depthwise weight is (C, 1, K, K), got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0 && (paddingEnd ?? 0) >= 0, "stride must be ≥ 1 and padding ≥ 0")
        if let bias { precondition(bias.shape == [weight.shape[0]], "depthwise bias \(bias.shape) does not match \(weight.shape[0]) channels") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.paddingEnd = paddingEnd ?? padding
        self.fusedReLU6 = fusedReLU6
    }

    public var channels: Int { weight.shape[0] }
    public var kernel: Int { weight.shape[2] }
    public var parameterCount: Int { weight.count + (bias?.count ?? 0) }
    public var byteCount: Int { weight.byteCount + (bias?.byteCount ?? 0) }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height + padding + paddingEnd - kernel) / stride + 1, (width + padding + paddingEnd - kernel) / stride + 1)
    }

    /// Multiply-adds × 2 for one image of this size.
    public func flops(height: Int, width: Int) -> Double {
        let (oh, ow) = outputSize(height: height, width: width)
        return 2 * Double(channels * oh * ow * kernel * kernel)
    }

    /// Multiply-adds a thread must get before planes are split over threads. The same wake-up
    /// cost as `Conv2D.minMultiplyAddsPerThread`'s, scaled to this kernel's lower rate (no
    /// reduction to block for, ~¼ of sgemm's multiply-adds per second); not measured on its own
    /// (no EfficientNet checkpoint on the machine that chose the conv threshold). Before, any 16
    /// planes split, however small: 16 planes of 7×7 are 7 k multiply-adds.
    public static let minMultiplyAddsPerThread = 1 << 17

    /// x (B, C, H, W) → y (B, C, OH, OW); planes are split over the context's threads past
    /// `minMultiplyAddsPerThread` per thread (each plane computed by one thread: same result).
    public func callAsFunction(_ x: Tensor, into y: inout Tensor, in context: ExecutionContext) {
        precondition(x.rank == 4 && x.shape[1] == channels, "depthwise conv expects (B, \(channels), H, W), got \(x.shape)")
        let (b, c, h, w) = (x.shape[0], channels, x.shape[2], x.shape[3])
        precondition(h + padding + paddingEnd >= kernel && w + padding + paddingEnd >= kernel,
                     "depthwise conv input \(h)×\(w) (padding \(padding)+\(paddingEnd)) is smaller than its \(kernel)×\(kernel) kernel")
        let (oh, ow) = outputSize(height: h, width: w)
        y.resize([b, c, oh, ow])
        let (k, s, pad, relu6) = (kernel, stride, padding, fusedReLU6)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                weight.storage.withUnsafeBufferPointer { wp in
                    let (xb, yb, wb) = (xp.baseAddress!, yp.baseAddress!, wp.baseAddress!)
                    context.measure("conv.depthwise") {
                        let scratchCount = depthwiseScratchCount(kernel: k, stride: s, outH: oh, outW: ow)
                        let minPlanes = max(1, Self.minMultiplyAddsPerThread / max(1, oh * ow * k * k))
                        context.forChunks(b * c, minChunk: minPlanes) { _, planes in
                            // One scratch per chunk (thread), reused by its planes.
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                                for plane in planes {
                                    let ch = plane % c
                                    depthwiseConv2dPlaneKernel(yb + plane * oh * ow, xb + plane * h * w, wb + ch * k * k,
                                                               bias: bias?.storage[ch] ?? 0, height: h, width: w, kernel: k, stride: s,
                                                               padTop: pad, padLeft: pad, outH: oh, outW: ow, relu6: relu6,
                                                               scratch: scratch.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
