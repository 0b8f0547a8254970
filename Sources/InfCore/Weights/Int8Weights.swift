// Linear/conv weights for W8A8 dynamic quantization (CKernels/int8_gemm.c): int8 weights with
// one scale per output channel, activations quantized per row to uint8 + zero point on every
// call, int32 sums (AVX512-VNNI vpdpbusd, AVX2 vpmaddwd or portable C), rescaled to fp32.
import CKernels
import Foundation

/// W (N, K) quantized symmetrically per output channel and packed once, at construction.
///
/// y(i, j) = sx_i · sw_j · Σ_k (u_ik − zp_i) · q_jk, where x_ik ≈ sx_i (u_ik − zp_i) within sx_i/2
/// and W_jk ≈ sw_j q_jk within sw_j/2. The int32 sum is exact on every kernel; the fp32 result is
/// (float)sum · (sx_i · sw_j), the same two roundings on every kernel, so all paths agree bit for bit.
public struct Int8Weights: StridedProductWeights {
    /// Panels of 32 output features; in each, for every 4 inputs, one 4-byte word per feature:
    /// (⌈N/32⌉, ⌈K/4⌉, 32, 4) int8, zero-padded.
    public let packed: [Int8]
    public let scales: [Float]  // (N): sw_j = max|W[j, :]| / 127; 0 for an all-zero row
    public let colsums: [Int32] // (N): Σ_k q_jk, for the zero-point correction
    public let outFeatures: Int // N
    public let inFeatures: Int  // K

    public init(_ weight: Tensor) {
        precondition(weight.rank == 2, "int8 weights are (out, in), got \(weight.shape)")
        let (n, k) = (weight.shape[0], weight.shape[1])
        precondition(k <= 66_000, "int8 weights with \(k) inputs could overflow the int32 sums (at most 66000)")
        outFeatures = n
        inFeatures = k
        let bytes = ib_int8_packed_bytes(n, k)
        var scales = [Float](repeating: 0, count: n), colsums = [Int32](repeating: 0, count: n)
        packed = [Int8](unsafeUninitializedCapacity: bytes) { buf, initialized in
            weight.storage.withUnsafeBufferPointer { w in
                scales.withUnsafeMutableBufferPointer { s in
                    colsums.withUnsafeMutableBufferPointer { c in
                        if bytes > 0 { ib_int8_quantize_weights(buf.baseAddress!, s.baseAddress!, c.baseAddress!, w.baseAddress!, n, k) }
                    }
                }
            }
            initialized = bytes
        }
        self.scales = scales
        self.colsums = colsums
    }

    /// 1 byte per weight (plus panel padding) and 8 bytes per output channel (scale, column sum).
    public var byteCount: Int { packed.count + 4 * scales.count + 4 * colsums.count }

    /// The quantized integers q (N, K), row-major.
    public var quantized: [Int8] {
        [Int8](unsafeUninitializedCapacity: outFeatures * inFeatures) { buf, initialized in
            packed.withUnsafeBufferPointer { p in
                if !buf.isEmpty { ib_int8_unpack(buf.baseAddress!, p.baseAddress!, outFeatures, inFeatures) }
            }
            initialized = outFeatures * inFeatures
        }
    }

    /// The weights as fp32 (N, K): sw_j · q_jk.
    public func dense() -> Tensor {
        let q = quantized, k = inFeatures
        return Tensor(shape: [outFeatures, inFeatures], storage: (0..<(outFeatures * k)).map { scales[$0 / max(k, 1)] * Float(q[$0]) })
    }

    /// Rows per thread when splitting rows; fewer rows split 32-column panels (see BF16Weights).
    static let minRowsPerThread = 96
    /// Multiply–adds below which one thread does it all (a worker's wake-up costs microseconds).
    static let minMultiplyAddsToSplit = 1 << 22

    /// Quantizes the activations (phase "int8.quantize"), then the int32 GEMM with its fp32
    /// rescale fused into the tile's store (phase "int8.gemm"). Either phase splits over threads;
    /// every output's sum is exact, so the result is identical at any thread count. Through
    /// multiplyLeft (StridedProductWeights), a "row" quantized is a column of b.
    public func product(m: Int, x: UnsafePointer<Float>, xRowStride: Int, xColStride: Int,
                        y: UnsafeMutablePointer<Float>, yRowStride: Int, yColStride: Int, _ context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for i in 0..<m { for j in 0..<n { y[i * yRowStride + j * yColStride] = 0 } }
            return
        }
        let k4 = ib_int8_k4(k)
        QuantScratch.shared.withBuffers(rows: m, rowBytes: k4) { xq, xs, zp in
            context.measure("int8.quantize") {
                context.forChunks(m, minChunk: max(16, (1 << 16) / max(k, 1))) { _, r in
                    ib_int8_quantize_rows(xq + r.lowerBound * k4, k4, xs + r.lowerBound, zp + r.lowerBound,
                                          x + r.lowerBound * xRowStride, xRowStride, xColStride, r.count, k)
                }
            }
            context.measure("int8.gemm") {
                let panel = Int(IB_INT8_PANEL), panels = (n + panel - 1) / panel
                packed.withUnsafeBufferPointer { pb in
                    scales.withUnsafeBufferPointer { sb in
                        colsums.withUnsafeBufferPointer { cb in
                            let (w, ws, cs) = (pb.baseAddress!, sb.baseAddress!, cb.baseAddress!)
                            if context.threads > 1 && m < 2 * Self.minRowsPerThread && panels > 1
                                && m * n * k >= Self.minMultiplyAddsToSplit {
                                let panelBytes = ib_int8_packed_bytes(panel, k)
                                context.forChunks(panels) { _, r in
                                    let first = r.lowerBound * panel, count = min(n, r.upperBound * panel) - first
                                    ib_int8_gemm(w + r.lowerBound * panelBytes, ws + first, cs + first, count, k,
                                                 xq, k4, xs, zp, m, y + first * yColStride, yRowStride, yColStride, nil)
                                }
                            } else {
                                context.forChunks(m, minChunk: Self.minRowsPerThread) { _, r in
                                    ib_int8_gemm(w, ws, cs, n, k, xq + r.lowerBound * k4, k4, xs + r.lowerBound,
                                                 zp + r.lowerBound, r.count, y + r.lowerBound * yRowStride,
                                                 yRowStride, yColStride, nil)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The int8 kernels, for tests and reports: which one runs, and the two halves of the product
/// exposed separately (quantize rows; exact int32 sums) so each can be checked on its own.
public enum Int8Kernel {
    /// "avx512vnni", "avx2" (vpmaddwd, exact) or "generic"; follows INFBENCH_ISA / `VectorISA.select`.
    public static var kernelName: String { String(cString: ib_int8_kernel_name()) }
    /// Whether this CPU has AVX512-VNNI.
    public static var vnniAvailable: Bool { ib_int8_vnni_available() }

    /// x (m, k) row-major quantized per row: u (m, k), scale (m), zero point (m).
    public static func quantizeRows(_ x: [Float], rows m: Int, columns k: Int) -> (u: [UInt8], scale: [Float], zeroPoint: [Int32]) {
        precondition(x.count == m * k, "quantizeRows: \(x.count) values are not \(m) × \(k)")
        let k4 = ib_int8_k4(k)
        var u = [UInt8](repeating: 0xAA, count: max(m * k4, 1))
        var s = [Float](repeating: k > 0 ? .nan : 0, count: m), z = [Int32](repeating: k > 0 ? -1 : 0, count: m)
        x.withUnsafeBufferPointer { xp in
            u.withUnsafeMutableBufferPointer { up in
                s.withUnsafeMutableBufferPointer { sp in
                    z.withUnsafeMutableBufferPointer { zp in
                        if m > 0 && k > 0 { ib_int8_quantize_rows(up.baseAddress!, k4, sp.baseAddress!, zp.baseAddress!, xp.baseAddress!, k, 1, m, k) }
                    }
                }
            }
        }
        let rows = (0..<m).flatMap { i in u[(i * k4)..<(i * k4 + k)] }
        return (rows, s, z)
    }

    /// Σ_k (u_ik − zp_i) · q_jk (m, n) as the kernel computes it, int32, before rescaling.
    public static func int32Product(_ w: Int8Weights, u: [UInt8], zeroPoint: [Int32], rows m: Int) -> [Int32] {
        let (n, k) = (w.outFeatures, w.inFeatures), k4 = ib_int8_k4(k)
        precondition(u.count == m * k && zeroPoint.count == m, "int32Product: u must be (\(m), \(k))")
        var padded = [UInt8](repeating: 0, count: max(m * k4, 1))
        for i in 0..<m { for c in 0..<k { padded[i * k4 + c] = u[i * k + c] } }
        var out = [Int32](repeating: Int32.min, count: max(m * n, 1))
        let ones = [Float](repeating: 1, count: max(m, 1))
        w.packed.withUnsafeBufferPointer { p in
            w.scales.withUnsafeBufferPointer { s in
                w.colsums.withUnsafeBufferPointer { c in
                    padded.withUnsafeBufferPointer { a in
                        zeroPoint.withUnsafeBufferPointer { z in
                            out.withUnsafeMutableBufferPointer { o in
                                ib_int8_gemm(p.baseAddress, s.baseAddress, c.baseAddress, n, k, a.baseAddress!, k4,
                                             ones, z.baseAddress, m, nil, 0, 0, o.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        return Array(out.prefix(m * n))
    }
}

/// Scratch shared by every quantized layer: int8's quantized activations (rows × rowBytes uint8,
/// then a scale and a zero point per row) and the weight-only formats' dequantized matrix. One
/// buffer per concurrent user, grown to the largest size seen, so a forward pass allocates
/// nothing after the first.
final class QuantScratch: @unchecked Sendable {
    static let shared = QuantScratch()
    private var free: [(UnsafeMutableRawPointer, Int)] = []
    private let lock = NSLock()

    func withBuffers<R>(rows: Int, rowBytes: Int,
                        _ body: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>) -> R) -> R {
        let quantBytes = (rows * rowBytes + 63) & ~63
        return withBytes(quantBytes + 8 * rows) { buf in
            body(buf.bindMemory(to: UInt8.self, capacity: quantBytes),
                 (buf + quantBytes).bindMemory(to: Float.self, capacity: rows),
                 (buf + quantBytes + 4 * rows).bindMemory(to: Int32.self, capacity: rows))
        }
    }

    /// A 64-byte aligned buffer of at least `need` bytes for the duration of `body`.
    func withBytes<R>(_ need: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        lock.lock()
        var (buf, size) = free.popLast() ?? (UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), 64)
        lock.unlock()
        if size < need {
            buf.deallocate()
            size = max(need, 2 * size)
            buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        }
        defer {
            lock.lock()
            free.append((buf, size))
            lock.unlock()
        }
        return body(buf)
    }
}
