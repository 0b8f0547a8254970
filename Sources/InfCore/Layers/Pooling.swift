// Max and average pooling over each (H, W) plane of an NCHW tensor, and global average pooling.

public struct Pool2D: Sendable {
    public enum Kind: String, Codable, Sendable { case max, avg }
    public var kind: Kind
    public var kernel: Int
    public var stride: Int

    public init(_ kind: Kind, kernel: Int, stride: Int) {
        precondition(kernel >= 1 && stride >= 1, "pool kernel and stride must be ≥ 1")
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
    }

    public func outputSize(height: Int, width: Int) -> (Int, Int) {
        ((height - kernel) / stride + 1, (width - kernel) / stride + 1)
    }

    /// Window reads (OH·OW·K² per plane) a thread must get before pooling splits planes over
    /// threads; below it one thread pools every plane. Measured on 2 cores at load 4–5 (other
    /// builds), the profiled pool phase after a 1×1 conv on a 16-channel S×S map, 2×2 max, every
    /// pool forced to split, 1 vs 2 threads: 8 k reads per thread 0.018–0.105 ms vs 0.061–0.100
    /// (3 runs), 33 k 0.072–0.112 vs 0.076–0.167 (3 runs), 74 k 0.36 vs 0.17 (1 run), 131 k
    /// 0.57–0.64 vs 0.64–0.76 (3 runs, the other core busy). Inconclusive under that load; 2^16
    /// keeps every map where splitting never clearly won serial.
    public static let minReadsPerThread = 1 << 16

    /// x (B, C, H, W) → y (B, C, OH, OW); planes are split over the context's threads when there
    /// are enough of them (each plane is pooled by one thread, so the result is the same).
    public func callAsFunction(_ x: Tensor, into y: inout Tensor, in context: ExecutionContext) {
        precondition(x.rank == 4, "pooling expects (B, C, H, W), got \(x.shape)")
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h >= kernel && w >= kernel, "pooling input \(h)×\(w) is smaller than its \(kernel)×\(kernel) window")
        let (oh, ow) = outputSize(height: h, width: w)
        y.resize([b, c, oh, ow])
        let (kind, kernel, stride) = (kind, kernel, stride)
        let minPlanes = max(1, Self.minReadsPerThread / max(1, oh * ow * kernel * kernel))
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                let (xb, yb) = (xp.baseAddress!, yp.baseAddress!)
                context.forChunks(b * c, minChunk: minPlanes) { _, planes in
                    for plane in planes {
                        let src = xb + plane * h * w, dst = yb + plane * oh * ow
                        switch kind {
                        case .max: maxPool2dKernel(dst, src, height: h, width: w, kernel: kernel, stride: stride, outH: oh, outW: ow)
                        case .avg: avgPool2dKernel(dst, src, height: h, width: w, kernel: kernel, stride: stride, outH: oh, outW: ow)
                        }
                    }
                }
            }
        }
    }
}

/// Global average pooling: x (B, C, H, W) → y (B, C), the mean of each plane; planes split over
/// the context's threads past `Pool2D.minReadsPerThread` reads per thread (same result).
public func globalAveragePool(_ x: Tensor, into y: inout Tensor, in context: ExecutionContext) {
    precondition(x.rank == 4, "global pooling expects (B, C, H, W), got \(x.shape)")
    let (b, c, n) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    y.resize([b, c])
    x.storage.withUnsafeBufferPointer { xp in
        y.storage.withUnsafeMutableBufferPointer { yp in
            let (xb, yb) = (xp.baseAddress!, yp.baseAddress!)
            context.forChunks(b * c, minChunk: max(1, Pool2D.minReadsPerThread / max(1, n))) { _, planes in
                globalAvgPoolKernel(yb + planes.lowerBound, xb + planes.lowerBound * n, planes: planes.count, count: n)
            }
        }
    }
}
