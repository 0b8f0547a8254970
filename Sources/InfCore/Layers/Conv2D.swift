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

    /// y (OC, n) += b, row by row; rows `stride` apart (n when y is a whole image).
    private func addBias(_ y: UnsafeMutablePointer<Float>, _ n: Int, stride: Int? = nil) {
        guard let bias else { return }
        for oc in 0..<outChannels {
            let bv = bias.storage[oc]
            let row = y + oc * (stride ?? n)
            for j in 0..<n { row[j] += bv }
        }
    }

    /// Multiply-adds a thread must get before a conv is split over threads. Measured on 2 cores
    /// (EPYC, OpenBLAS 0.3.21 Cooperlake, load average 4–5 from other builds), batch 1, every
    /// conv forced to split: CNNs of four 3×3 16→16 convs on S×S maps (no pooling), 2 threads
    /// against 1 interleaved (`infbench run --model DIR --batch 1 --threads 1,2 --min-time 0.5`),
    /// two runs: 8×8 (74 k multiply-adds per thread) 0.67×, 12×12 (166 k) 0.76–0.78×, 16×16
    /// (295 k) 0.83–0.85×, 20×20 (461 k) 0.85–0.87×, 24×24 (664 k) 1.10–1.11×, 28×28 (903 k)
    /// 1.06–1.15×, 32×32 (1.18 M) 1.17–1.31×. The break-even lies between 461 k and 664 k; an
    /// idle machine would put it lower, so this errs towards serial.
    public static let minMultiplyAddsPerThread = 600_000

    /// How a call on (b, IC, h, w) splits over `threads`: each image into `tiles` bands
    /// of output rows (more than one only when there are fewer images than threads), and the
    /// b·tiles (image, band) units over `chunks` threads. (1, 1), serial, when a thread would get
    /// fewer than `minMultiplyAddsPerThread` multiply-adds: waking a worker costs microseconds.
    public func threadSplit(batch b: Int, height h: Int, width w: Int, threads: Int) -> (tiles: Int, chunks: Int) {
        let (oh, _) = outputSize(height: h, width: w)
        let multiplyAdds = Double(b) * flops(height: h, width: w) / 2
        let affordable = min(threads, Int(multiplyAdds / Double(Self.minMultiplyAddsPerThread)))
        guard threads > 1, affordable > 1, b > 0, oh > 0 else { return (1, 1) }
        let tiles = b >= affordable ? 1 : min(oh, (affordable + b - 1) / b)
        let chunks = min(affordable, b * tiles)
        return chunks > 1 ? (tiles, chunks) : (1, 1)
    }

    /// x (B, IC, H, W) → y (B, OC, OH, OW); col is scratch reused across calls (untouched by
    /// pointwise convs unless they split an image). Thread policy: infbench owns the threads
    /// here and OpenBLAS runs on one. Large enough calls split images (batch ≥ threads) or
    /// bands of output rows (batch 1) over infbench's threads, each doing its own im2col and
    /// sgemm on its part; small ones run serially. OpenBLAS threading a conv's GEMM while the
    /// im2col and pooling around it ran serially made 2 threads slower than 1 (issue 17).
    public func callAsFunction(_ x: Tensor, into y: inout Tensor, col: inout Tensor, in context: ExecutionContext) {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv expects (B, \(inChannels), H, W), got \(x.shape)")
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize(height: h, width: w)
        // Checked before dividing: integer division would round a negative size up to 0 or 1.
        precondition(h + padding + paddingEnd >= kernelH && w + padding + paddingEnd >= kernelW,
                     "conv input \(h)×\(w) (padding \(padding)+\(paddingEnd)) is smaller than its \(kernelH)×\(kernelW) kernel")
        let pointwise = kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 && paddingEnd == 0
        let k = inChannels * kernelH * kernelW, n = oh * ow
        y.resize([b, outChannels, oh, ow])
        let (tiles, chunks) = threadSplit(batch: b, height: h, width: w, threads: context.threads)
        // A pointwise conv of fewer images than threads splits inside its product W·b instead
        // (output channels or column runs over the team, straight from x into y): bands would copy
        // their columns of x and of y. efficientnet-lite0 b1 at 2 threads (all of its convs but the
        // stem are pointwise), alternating runs: 9.4–9.8 ms against 11.6–11.8 with bands.
        if chunks > 1 && !(pointwise && tiles > 1) {
            split(x, into: &y, col: &col, tiles: tiles, chunks: chunks, pointwise: pointwise, context)
            return
        }
        if !pointwise { col.resize([k, n]) }
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                col.storage.withUnsafeMutableBufferPointer { cp in
                    // Too small to split: one thread, OpenBLAS's included.
                    context.withSingleThreadedBLAS {
                        for bi in 0..<b {
                            let out = yp.baseAddress! + bi * outChannels * n
                            if pointwise {
                                context.measure("conv.gemm") {
                                    weights.multiplyLeft(xp.baseAddress! + bi * inChannels * h * w, columns: n, into: out, in: context)
                                }
                                addBias(out, n)
                                continue
                            }
                            context.measure("conv.im2col") {
                                im2colKernel(cp.baseAddress!, xp.baseAddress! + bi * inChannels * h * w,
                                             channels: inChannels, height: h, width: w,
                                             kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding,
                                             outH: oh, outW: ow)
                            }
                            context.measure("conv.gemm") {
                                weights.multiplyLeft(cp.baseAddress!, columns: n, into: out, in: .serial)
                            }
                            addBias(out, n)
                        }
                    }
                }
            }
        }
    }

    /// The threaded path: the b·tiles (image, band of output rows) units over `chunks` threads.
    /// Chunk c's scratch in col: its im2col (K, band) and, when bands split an image, its GEMM
    /// output (OC, band), copied into y's rows. Every output is the same dot product as in the
    /// serial path; only OpenBLAS's blocking of a narrower GEMM may differ (rounding).
    private func split(_ x: Tensor, into y: inout Tensor, col: inout Tensor, tiles: Int, chunks: Int, pointwise: Bool,
                       _ context: ExecutionContext) {
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize(height: h, width: w)
        let k = inChannels * kernelH * kernelW, n = oh * ow, oc = outChannels
        let band = (oh + tiles - 1) / tiles * ow                   // the widest band's columns
        let colCount = pointwise ? 0 : k * band // pointwise: whole images (tiles == 1)
        let outCount = tiles == 1 ? 0 : oc * band
        let per = colCount + outCount
        // forChunksOwningThreads makes at least `chunks` and at most min(threads, units) chunks.
        let units = b * tiles
        if per > 0 { col.resize([min(context.threads, units), per]) }
        context.measure("conv.split") {
            x.storage.withUnsafeBufferPointer { xp in
                y.storage.withUnsafeMutableBufferPointer { yp in
                    col.storage.withUnsafeMutableBufferPointer { cp in
                        let (xb, yb, cb) = (xp.baseAddress!, yp.baseAddress!, cp.baseAddress)
                        context.forChunksOwningThreads(units, minChunk: max(1, units / chunks)) { chunk, part, one in
                            let scratch = cb.map { $0 + chunk * per }
                            for unit in part {
                                let (bi, t) = (unit / tiles, unit % tiles)
                                let rows = (t * oh / tiles)..<((t + 1) * oh / tiles)
                                let img = xb + bi * inChannels * h * w, out = yb + bi * oc * n
                                let m = rows.count * ow
                                var source = UnsafePointer(img)
                                if !pointwise {
                                    im2colRowsKernel(scratch!, img, channels: inChannels, height: h, width: w,
                                                     kernelH: kernelH, kernelW: kernelW, stride: stride, padding: padding,
                                                     outW: ow, outRows: rows)
                                    source = UnsafePointer(scratch!)
                                }
                                if tiles == 1 {
                                    weights.multiplyLeft(source, columns: n, into: out, in: one)
                                    addBias(out, n)
                                    continue
                                }
                                let tmp = scratch! + colCount
                                weights.multiplyLeft(source, columns: m, into: tmp, in: one)
                                let dst = out + rows.lowerBound * ow
                                for o in 0..<oc { (dst + o * n).update(from: tmp + o * m, count: m) }
                                addBias(dst, m, stride: n)
                            }
                        }
                    }
                }
            }
        }
    }
}
