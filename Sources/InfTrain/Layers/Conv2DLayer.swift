// 2-D convolution, NCHW, as im2col + GEMM (the inference layer's scheme), with
// its gradients per image b:
//   col_b (K, N) = im2col(x_b),  K = IC·KH·KW, N = OH·OW
//   y_b (OC, N) = W (OC, K) · col_b + b
//   dW += dy_b · col_bᵀ,  db += Σ_N dy_b,  dx_b = col2im(Wᵀ · dy_b)
import InfCore

public final class Conv2DLayer: Module {
    public let weight: Parameter // (OC, IC, KH, KW)
    public let bias: Parameter   // (OC)
    public let stride: Int
    public let padding: Int
    private var inputShape: [Int] = []
    private var cols = Tensor(zeros: [0]) // (B, K, N), kept for the backward pass

    public init(name: String, weight: Tensor, bias: Tensor, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4 && bias.shape == [weight.shape[0]], "\(name): weight \(weight.shape) and bias \(bias.shape) do not match")
        self.weight = Parameter("\(name).weight", weight, decays: true)
        self.bias = Parameter("\(name).bias", bias, decays: false)
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight, bias] }
    private var outChannels: Int { weight.value.shape[0] }
    private var inChannels: Int { weight.value.shape[1] }
    private var kernel: (h: Int, w: Int) { (weight.value.shape[2], weight.value.shape[3]) }

    private func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - kernel.h) / stride + 1, (w + 2 * padding - kernel.w) / stride + 1)
    }

    /// x (B, IC, H, W) → y (B, OC, OH, OW)
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "\(weight.name) expects (B, \(inChannels), H, W), got \(x.shape)")
        inputShape = x.shape
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize(h, w)
        let (k, n, oc) = (inChannels * kernel.h * kernel.w, oh * ow, outChannels)
        cols.resize([b, k, n])
        var y = Tensor(zeros: [b, oc, oh, ow])
        x.storage.withUnsafeBufferPointer { xp in
            cols.storage.withUnsafeMutableBufferPointer { cp in
                weight.value.storage.withUnsafeBufferPointer { wp in
                    y.storage.withUnsafeMutableBufferPointer { yp in
                        for i in 0..<b {
                            let col = cp.baseAddress! + i * k * n, out = yp.baseAddress! + i * oc * n
                            im2colKernel(col, xp.baseAddress! + i * inChannels * h * w, channels: inChannels, height: h, width: w,
                                         kernelH: kernel.h, kernelW: kernel.w, stride: stride, padding: padding, outH: oh, outW: ow)
                            BLAS.sgemm(m: oc, n: n, k: k, a: wp.baseAddress!, lda: k, b: col, ldb: n, c: out, ldc: n)
                            for o in 0..<oc {
                                let bv = bias.value.storage[o], row = out + o * n
                                for j in 0..<n { row[j] += bv }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (b, h, w) = (inputShape[0], inputShape[2], inputShape[3])
        let (oh, ow) = outputSize(h, w)
        let (k, n, oc) = (inChannels * kernel.h * kernel.w, oh * ow, outChannels)
        precondition(dy.count == b * oc * n, "\(weight.name): gradient \(dy.shape) does not match output (\(b), \(oc), \(oh), \(ow))")
        var dx = Tensor(zeros: inputShape)
        var dcol = [Float](repeating: 0, count: k * n)
        dy.storage.withUnsafeBufferPointer { g in
            cols.storage.withUnsafeBufferPointer { cp in
                weight.value.storage.withUnsafeBufferPointer { wp in
                    weight.grad.storage.withUnsafeMutableBufferPointer { dw in
                        bias.grad.storage.withUnsafeMutableBufferPointer { db in
                            dx.storage.withUnsafeMutableBufferPointer { dxp in
                                dcol.withUnsafeMutableBufferPointer { dc in
                                    for i in 0..<b {
                                        let gi = g.baseAddress! + i * oc * n, col = cp.baseAddress! + i * k * n
                                        BLAS.sgemm(transB: true, m: oc, n: k, k: n, a: gi, lda: n, b: col, ldb: n,
                                                   beta: 1, c: dw.baseAddress!, ldc: k)
                                        for o in 0..<oc {
                                            var s: Float = 0
                                            for j in 0..<n { s += gi[o * n + j] }
                                            db[o] += s
                                        }
                                        BLAS.sgemm(transA: true, m: k, n: n, k: oc, a: wp.baseAddress!, lda: k, b: gi, ldb: n,
                                                   c: dc.baseAddress!, ldc: n)
                                        col2imKernel(dxp.baseAddress! + i * inChannels * h * w, dc.baseAddress!,
                                                     channels: inChannels, height: h, width: w, kernelH: kernel.h, kernelW: kernel.w,
                                                     stride: stride, padding: padding, outH: oh, outW: ow)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// The adjoint of `im2colKernel`: img (IC, H, W) += fold(col (IC·KH·KW, OH·OW));
/// padding positions are dropped.
func col2imKernel(_ img: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>,
                  channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                  stride: Int, padding: Int, outH: Int, outW: Int) {
    let outSize = outH * outW
    for c in 0..<channels {
        for kh in 0..<kernelH {
            for kw in 0..<kernelW {
                let src = col + ((c * kernelH + kh) * kernelW + kw) * outSize
                for oh in 0..<outH {
                    let ih = oh * stride - padding + kh
                    if ih < 0 || ih >= height { continue }
                    let dst = img + (c * height + ih) * width, s = src + oh * outW
                    for ow in 0..<outW {
                        let iw = ow * stride - padding + kw
                        if iw >= 0 && iw < width { dst[iw] += s[ow] }
                    }
                }
            }
        }
    }
}
