// Max and average pooling over each (H, W) plane, with gradients:
//   max: the gradient goes to the arg-max of each window (first one on ties);
//   avg: each window position gets dy / (kernel²).
import InfCore

public final class PoolLayer: Module {
    public let kind: Pool2D.Kind
    public let kernel: Int
    public let stride: Int
    private var inputShape: [Int] = []
    private var argmax: [Int32] = [] // flat input index within the plane, per output

    public init(_ kind: Pool2D.Kind, kernel: Int, stride: Int) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
    }

    public var parameters: [Parameter] { [] }

    /// x (B, C, H, W) → y (B, C, OH, OW)
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] >= kernel && x.shape[3] >= kernel, "pooling expects (B, C, H ≥ \(kernel), W ≥ \(kernel)), got \(x.shape)")
        inputShape = x.shape
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
        var y = Tensor(zeros: [x.shape[0], x.shape[1], oh, ow])
        if kind == .max { argmax = [Int32](repeating: 0, count: y.count) }
        let scale = 1 / Float(kernel * kernel)
        x.storage.withUnsafeBufferPointer { xp in
            for p in 0..<planes {
                let src = xp.baseAddress! + p * h * w
                for i in 0..<oh {
                    for j in 0..<ow {
                        let o = (p * oh + i) * ow + j
                        var best = -Float.infinity, at = 0, sum: Float = 0
                        for di in 0..<kernel {
                            for dj in 0..<kernel {
                                let idx = (i * stride + di) * w + j * stride + dj
                                let v = src[idx]
                                sum += v
                                if v > best { best = v; at = idx }
                            }
                        }
                        if kind == .max {
                            y.storage[o] = best
                            argmax[o] = Int32(at)
                        } else {
                            y.storage[o] = sum * scale
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (planes, h, w) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
        precondition(dy.count == planes * oh * ow, "pooling gradient \(dy.shape) does not match its output")
        var dx = Tensor(zeros: inputShape)
        let scale = 1 / Float(kernel * kernel)
        for p in 0..<planes {
            let base = p * h * w
            for i in 0..<oh {
                for j in 0..<ow {
                    let o = (p * oh + i) * ow + j
                    if kind == .max {
                        dx.storage[base + Int(argmax[o])] += dy.storage[o]
                    } else {
                        for di in 0..<kernel {
                            for dj in 0..<kernel { dx.storage[base + (i * stride + di) * w + j * stride + dj] += dy.storage[o] * scale }
                        }
                    }
                }
            }
        }
        return dx
    }
}
