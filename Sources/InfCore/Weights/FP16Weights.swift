// Linear/conv weights stored as IEEE fp16 (half the bytes of fp32) and multiplied in
// fp32. Few activation rows stream the fp16 weights through a C kernel that converts in
// registers; many rows convert L2-sized panels of W and hand each panel to sgemm.
import CKernels
import Foundation

/// W (N, K) as fp16 bit patterns; every product is computed in fp32 after exact conversion.
public struct FP16Weights: PanelConvertedWeights {
    /// (N, K) fp16 bits, row-major: row j is output feature j.
    public let bits: [UInt16]
    public let outFeatures: Int // N
    public let inFeatures: Int  // K
    /// Rows of W per converted panel on the sgemm path: P·K fp32 ≤ 256 KB, so a panel
    /// stays in L2 (1 MB per core here) next to the activations sgemm streams past it.
    public let panelRows: Int
    let scratch: PanelScratch

    /// Up to this many activation rows take the streaming kernel (W read once per 8 rows,
    /// converted in registers); more rows take the panel + sgemm path. Measured on a 12-layer
    /// MiniLM stack (85 MB fp32, Zen 5, OpenBLAS 0.3.21 running its Haswell kernels), the
    /// AVX-512 kernel beat fp32 sgemm 4.1× at 9 rows, 1.8× at 64 and 1.6× at 128, while the
    /// panel path lost to sgemm (0.83× at 16, 0.91× at 64); the AVX2 kernel still won at 16
    /// rows (1.09×) but lost at 64 (0.70×). The portable path is slow (~3.6 GB/s) and keeps
    /// the 8-row bound the design started from.
    public static var maxStreamingRows: Int {
        switch kernelPath {
        case .avx512: return 128
        case .avx2: return 16
        case .generic: return 8
        }
    }
    /// Fp32 floats per panel buffer (256 KB).
    static let panelFloats = 1 << 16

    /// Rounds each weight to the nearest fp16 (ties to even; beyond ±65504 becomes ±inf).
    public init(_ weight: Tensor) {
        precondition(weight.rank == 2, "fp16 weights are (out, in), got \(weight.shape)")
        self.init(bits: convertToFP16(weight.storage), outFeatures: weight.shape[0], inFeatures: weight.shape[1])
    }

    /// Wraps fp16 bit patterns, (outFeatures, inFeatures) row-major.
    public init(bits: [UInt16], outFeatures: Int, inFeatures: Int) {
        precondition(outFeatures >= 0 && inFeatures >= 0 && bits.count == outFeatures * inFeatures,
                     "fp16 weights (\(outFeatures), \(inFeatures)) need \(outFeatures * inFeatures) values, got \(bits.count)")
        self.bits = bits
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        panelRows = max(1, min(256, outFeatures, Self.panelFloats / max(inFeatures, 1)))
        scratch = PanelScratch(floats: panelRows * inFeatures)
    }

    public var byteCount: Int { bits.count * MemoryLayout<UInt16>.stride }

    /// The instruction-set path the fp16 kernels run now (follows `VectorISA.select` and
    /// INFBENCH_ISA; AVX2 also needs F16C).
    public static var kernelPath: VectorISA { VectorISA(ib_fp16_isa()) }

    public func dense() -> Tensor {
        var out = Tensor(zeros: [outFeatures, inFeatures])
        bits.withUnsafeBufferPointer { b in
            out.storage.withUnsafeMutableBufferPointer { o in
                if !b.isEmpty { ib_fp16_to_fp32(o.baseAddress!, b.baseAddress!, b.count) }
            }
        }
        return out
    }

    /// y (M, N) = x (M, K) · Wᵀ.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        guard m > 0, n > 0 else { return }
        guard k > 0 else { y.update(repeating: 0, count: m * n); return }
        bits.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            if m <= Self.maxStreamingRows {
                // At M = 1 the time is reading W, so read it once, as fp16. Threads split
                // the output features; each output's sum runs in the same order whatever the split.
                // Only matrices of ≥ 2 M weights (4 MB) split: on 2 cores, splitting every MiniLM
                // matrix (≤ 0.6 M weights, ~25 µs each) made a 24-layer stack 1.4–1.9× slower at
                // 2 threads than at 1 — one core already reads 93% of the measured DRAM bandwidth,
                // and a worker's wake-up is a fair part of 25 µs.
                context.forChunks(n, minChunk: max(8, (1 << 20) / k)) { _, r in
                    ib_fp16_gemv(y + r.lowerBound, n, x, k, m, w + r.lowerBound * k, r.count, k)
                }
            } else {
                forPanels(context) { rows, panel in
                    // y[:, rows] (M, P) = x (M, K) · panelᵀ, panel (P, K)
                    BLAS.sgemm(transA: false, transB: true, m: m, n: rows.count, k: k,
                               a: x, lda: k, b: panel, ldb: k, c: y + rows.lowerBound, ldc: n)
                }
            }
        }
    }

    /// y (N, cols) = W · b, b (K, cols).
    public func multiplyLeft(_ b: UnsafePointer<Float>, columns cols: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        panelMultiplyLeft(b, columns: cols, into: y, in: context)
    }

    func convertPanel(_ rows: Range<Int>, into panel: UnsafeMutablePointer<Float>) {
        let k = inFeatures
        bits.withUnsafeBufferPointer { ib_fp16_to_fp32(panel, $0.baseAddress! + rows.lowerBound * k, rows.count * k) }
    }
}

/// Weights kept compact (fp16, quantized blocks) that reach sgemm as fp32 panels of W's rows,
/// converted on the fly, so the whole fp32 matrix never exists.
protocol PanelConvertedWeights: LinearWeights {
    /// Rows of W per panel; `scratch` buffers hold panelRows · K floats.
    var panelRows: Int { get }
    var scratch: PanelScratch { get }
    /// Writes rows `rows` of W in fp32 to `panel` (rows.count, K).
    func convertPanel(_ rows: Range<Int>, into panel: UnsafeMutablePointer<Float>)
}

extension PanelConvertedWeights {
    /// y (N, cols) = W · b, b (K, cols): each converted panel times b by sgemm.
    func panelMultiplyLeft(_ b: UnsafePointer<Float>, columns cols: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        guard cols > 0, n > 0 else { return }
        guard k > 0 else { y.update(repeating: 0, count: n * cols); return }
        forPanels(context) { rows, panel in
            // y[rows, :] (P, cols) = panel (P, K) · b (K, cols)
            BLAS.sgemm(m: rows.count, n: cols, k: k, a: panel, lda: k, b: b, ldb: cols,
                       c: y + rows.lowerBound * cols, ldc: cols)
        }
    }

    /// Calls `body(rows, panel)` for consecutive panels of W rows converted to fp32,
    /// panel (rows.count, K) in a scratch buffer, so the whole fp32 matrix never exists.
    /// With several threads and panels, threads take contiguous runs of panels, each with
    /// its own buffer; otherwise one thread walks the panels. OpenBLAS runs on one thread either way.
    func forPanels(_ context: ExecutionContext, _ body: (_ rows: Range<Int>, _ panel: UnsafePointer<Float>) -> Void) {
        let (n, p) = (outFeatures, panelRows)
        let panels = (n + p - 1) / p
        func run(_ chunk: Range<Int>) {
            scratch.withBuffer { buf in
                for i in chunk {
                    let rows = (i * p)..<min((i + 1) * p, n)
                    convertPanel(rows, into: buf)
                    body(rows, buf)
                }
            }
        }
        context.withSingleThreadedBLAS {
            if context.threads > 1 && panels > 1 {
                context.forChunks(panels) { _, chunk in run(chunk) }
            } else {
                run(0..<panels)
            }
        }
    }
}

/// Fp32 panel buffers, one per concurrent user: a chunk takes a buffer for its run of
/// panels and gives it back. After the first call at a given thread count nothing is
/// allocated; a lock (not a buffer per chunk index) keeps this right even if two model
/// copies sharing these weights run at once.
final class PanelScratch: @unchecked Sendable {
    let floats: Int
    private var free: [UnsafeMutablePointer<Float>] = []
    private let lock = NSLock()

    init(floats: Int) { self.floats = floats }

    func withBuffer<R>(_ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        lock.lock()
        // 64-byte aligned: whole cache lines, and aligned vector stores in the conversion.
        let buf = free.popLast() ?? UnsafeMutableRawPointer.allocate(byteCount: max(floats, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(floats, 1))
        lock.unlock()
        defer {
            lock.lock()
            free.append(buf)
            lock.unlock()
        }
        return body(buf)
    }

    deinit {
        for buf in free { UnsafeMutableRawPointer(buf).deallocate() }
    }
}
