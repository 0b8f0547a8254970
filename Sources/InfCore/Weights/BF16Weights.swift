// Linear/conv weights stored as bfloat16 (half the bytes of fp32) and multiplied by
// infbench's own bf16 GEMM (CKernels/bf16_gemm.c): vdpbf16ps on CPUs with AVX512-BF16,
// otherwise a portable kernel that widens bf16 to fp32 and uses fp32 FMA.
import CKernels

/// W (N, K) rounded to bf16 and packed once, at construction, into the micro-kernel's layout.
///
/// Rounding policy: weights round to nearest, ties to even (as `bf16Bits`), once. Activations
/// round the same way per call, in blocks of 48 rows × 384 values as the kernel packs them;
/// products of two bf16 are exact in fp32 and are summed in fp32. Both kernels round alike, so
/// they agree to fp32 summation order.
public struct BF16Weights: StridedProductWeights {
    /// Panels of 32 output features; in each, for every pair of inputs (k, k+1), one word per
    /// feature holding (W[n][k], W[n][k+1]) as (low, high) bf16: (⌈N/32⌉, ⌈K/2⌉, 32) words.
    public let packed: [UInt32]
    public let outFeatures: Int // N
    public let inFeatures: Int  // K

    /// Rounds each weight (OC, C) to the nearest bf16 and packs it.
    public init(_ weight: Tensor) {
        (packed, outFeatures, inFeatures) = packedPanels(weight, "bf16", count: { ib_bf16_packed_words($0, $1) }) { ib_bf16_pack($0, $1, $2, $3) }
    }

    /// Bytes as stored: 2 per weight, plus the zero padding of the last panel (N up to a
    /// multiple of 32) and of an odd K (one more input). Equal to 2·N·K when 32 | N and 2 | K.
    public var byteCount: Int { packed.count * MemoryLayout<UInt32>.stride }

    /// The weights as fp32 (N, K): the bf16 values exactly.
    public func dense() -> Tensor {
        unpackedPanels(packed, n: outFeatures, k: inFeatures) { ib_bf16_unpack($0, $1, $2, $3) }
    }

    /// Rows of the product below which threads split output features instead of rows.
    static let minRowsPerThread = 48

    /// y (m, N) = x (m, K) · Wᵀ through strides, split over threads. With enough rows, each
    /// thread takes contiguous rows: 48 rows (one packed activation block, ~14 MFLOP at
    /// N = K = 384) outweighs waking a worker. With fewer (a small batch), threads take runs
    /// of 32-column panels instead — each a packed matrix of its own — so reading W, the cost
    /// there, is shared. Either way every output sums in the same order, so the result is
    /// identical at any thread count. multiply and multiplyLeft (the same kernel on the
    /// transposes) come from StridedProductWeights.
    public func product(m: Int, x: UnsafePointer<Float>, xRowStride: Int, xColStride: Int,
                        y: UnsafeMutablePointer<Float>, yRowStride: Int, yColStride: Int, _ context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        let panel = Int(IB_BF16_PANEL), panels = (n + panel - 1) / panel
        let panelWords = ib_bf16_packed_words(panel, k)
        packed.withUnsafeBufferPointer { p in
            let w = p.baseAddress
            context.forPackedGEMM(rows: m, panels: panels, multiplyAdds: m * n * k, minRowsPerThread: Self.minRowsPerThread,
                                   rows: { r in
                ib_bf16_gemm(w, n, k, r.count, x + r.lowerBound * xRowStride, xRowStride, xColStride,
                             y + r.lowerBound * yRowStride, yRowStride, yColStride)
            }, panels: { r in
                let first = r.lowerBound * panel, count = min(n, r.upperBound * panel) - first
                ib_bf16_gemm(w.map { $0 + r.lowerBound * panelWords }, count, k, m, x, xRowStride, xColStride,
                             y + first * yColStride, yRowStride, yColStride)
            })
        }
    }
}

/// Which bf16 kernel runs, and a switch to force the portable one (for tests and A/B runs).
public enum BF16Kernel {
    /// Whether this CPU has AVX512-BF16 (vdpbf16ps).
    public static var nativeAvailable: Bool { ib_bf16_native_available() }
    /// Whether `BF16Weights` multiplies with vdpbf16ps now: available, not forced portable,
    /// and AVX-512 not ruled out by INFBENCH_ISA or `VectorISA.select`.
    public static var nativeActive: Bool { ib_bf16_native_active() }
    /// "avx512bf16", or "portable-avx512" / "portable-avx2" / "portable-generic" (fp32 FMA
    /// after widening, compiled for that instruction set).
    public static var kernelName: String { String(cString: ib_bf16_kernel_name()) }
    /// true: always the portable kernel; false: the best this CPU has.
    public static func forcePortable(_ portable: Bool) { ib_bf16_force_portable(portable) }
    /// The bf16 value nearest to `x` as the kernels round it (ties to even), as a Float.
    public static func round(_ x: Float) -> Float { floatFromBF16Bits(ib_bf16_round(x)) }
}
