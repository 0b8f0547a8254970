// Weight-only block quantization (llama.cpp's Q8_0 / Q4_0, CKernels/qblock_gemm.c): every 32
// weights along K share one fp16 scale; activations and sums stay fp32. Few activation rows
// stream the quantized weights through a kernel that decodes in registers (batch 1, decoding:
// the bytes read set the time); many rows dequantize W into shared fp32 scratch for one sgemm,
// and convolutions dequantize L2-sized panels of W for sgemm.
import CKernels

public struct BlockQuantWeights: PanelConvertedWeights {
    public enum Format: String, Sendable, CaseIterable {
        /// 32 × int8 in [−127, 127] + fp16 scale: 34 bytes per 32 weights (8.5 bits each).
        case q8_0
        /// 32 × 4-bit in [−7, 7] + fp16 scale: 18 bytes per 32 weights (4.5 bits each).
        case q4_0

        var c: ib_qformat { self == .q8_0 ? IB_Q8_0 : IB_Q4_0 }
        /// The largest |q|: the scale is max|w| / qmax, rounded up to an fp16.
        public var qmax: Int { self == .q8_0 ? 127 : 7 }
    }

    public let format: Format
    /// (N, ⌈K/32⌉) blocks of ib_qblock_block_bytes each, row-major: row j is output feature j.
    public let blocks: [UInt8]
    public let outFeatures: Int // N
    public let inFeatures: Int  // K
    /// Rows of W per dequantized panel on the sgemm path: ≤ 256 KB fp32, so it stays in L2.
    let panelRows: Int
    let scratch: PanelScratch

    /// Up to this many activation rows stream the blocks through the gemv kernel (W read once
    /// per 4 rows); more take the dequantize + sgemm path. Streaming decodes every block once
    /// per 4 rows, so its cost grows with the rows while sgemm's per-row cost stays flat.
    public static var maxStreamingRows: Int {
        switch kernelPath {
        case .avx512: return 16
        case .avx2: return 8
        case .generic: return 4
        }
    }

    public init(_ weight: Tensor, format: Format) {
        precondition(weight.rank == 2, "\(format.rawValue) weights are (out, in), got \(weight.shape)")
        let (n, k) = (weight.shape[0], weight.shape[1])
        self.format = format
        outFeatures = n
        inFeatures = k
        let bytes = n * ib_qblock_row_bytes(format.c, k)
        blocks = [UInt8](unsafeUninitializedCapacity: bytes) { buf, initialized in
            weight.storage.withUnsafeBufferPointer { w in
                if bytes > 0 { ib_qblock_quantize(buf.baseAddress!, format.c, w.baseAddress!, n, k) }
            }
            initialized = bytes
        }
        panelRows = max(1, min(256, n, (1 << 16) / max(k, 1)))
        scratch = PanelScratch(floats: panelRows * k)
    }

    /// The scales and integers as stored: 34 or 18 bytes per block of 32 (the last block of a
    /// row whose K is not a multiple of 32 is padded).
    public var byteCount: Int { blocks.count }

    /// The instruction-set path of the kernels now (the fp16 kernels' path: the scales are fp16).
    public static var kernelPath: VectorISA { VectorISA(ib_qblock_isa()) }

    /// The weights as fp32 (N, K): d · q, exactly.
    public func dense() -> Tensor {
        var out = Tensor(zeros: [outFeatures, inFeatures])
        blocks.withUnsafeBufferPointer { b in
            out.storage.withUnsafeMutableBufferPointer { o in
                if !o.isEmpty { ib_qblock_dequantize(o.baseAddress!, b.baseAddress!, format.c, outFeatures, inFeatures) }
            }
        }
        return out
    }

    /// y (M, N) = x (M, K) · Wᵀ.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        guard m > 0, n > 0 else { return }
        guard k > 0 else { y.update(repeating: 0, count: m * n); return }
        if m <= Self.maxStreamingRows {
            let rowBytes = ib_qblock_row_bytes(format.c, k)
            blocks.withUnsafeBufferPointer { wb in
                let w = wb.baseAddress!
                // Threads split output features, each output's sum in the same order whatever the
                // split; only big matrices split (as FP16Weights: one core nearly saturates DRAM).
                context.forChunks(n, minChunk: max(8, (1 << 21) / k)) { _, r in
                    ib_qblock_gemv(y + r.lowerBound, n, x, k, m, w + r.lowerBound * rowBytes, format.c, r.count, k)
                }
            }
        } else {
            // The whole matrix dequantized into shared scratch (N·K fp32, transient), then one
            // sgemm: per 256-row panel, sgemm re-packed all M rows of x each time, and at M = 4096
            // that made this path 0.72–0.86× fp32 on MiniLM and the small models. Dequantizing
            // N·K values is small beside the M·N·K multiply–adds.
            QuantScratch.shared.withBytes(4 * n * k) { raw in
                let w = raw.bindMemory(to: Float.self, capacity: n * k)
                let rowBytes = ib_qblock_row_bytes(format.c, k)
                blocks.withUnsafeBufferPointer { b in
                    context.forChunks(n, minChunk: max(16, (1 << 16) / k)) { _, r in
                        ib_qblock_dequantize(w + r.lowerBound * k, b.baseAddress! + r.lowerBound * rowBytes, format.c, r.count, k)
                    }
                }
                context.blasGEMM(rows: m, columns: n, multiplyAdds: m * n * k) { r, c in
                    BLAS.sgemm(transA: false, transB: true, m: r.count, n: c.count, k: k, a: x + r.lowerBound * k, lda: k,
                               b: w + c.lowerBound * k, ldb: k, c: y + r.lowerBound * n + c.lowerBound, ldc: n)
                }
            }
        }
    }

    /// y (N, cols) = W · b, b (K, cols): dequantized panels times b by sgemm (threads as in
    /// PanelConvertedWeights.forPanels).
    public func multiplyLeft(_ b: UnsafePointer<Float>, columns cols: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        panelMultiplyLeft(b, columns: cols, into: y, in: context)
    }

    func convertPanel(_ rows: Range<Int>, into panel: UnsafeMutablePointer<Float>) {
        let (k, rowBytes) = (inFeatures, ib_qblock_row_bytes(format.c, inFeatures))
        blocks.withUnsafeBufferPointer { ib_qblock_dequantize(panel, $0.baseAddress! + rows.lowerBound * rowBytes, format.c, rows.count, k) }
    }
}
