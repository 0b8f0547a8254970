// fp32 linear weights packed once into the micro-kernel's panels and multiplied by infbench's own
// fp32 GEMM (CKernels/sgemm_packed.c). This is the fp32 path of every linear layer: OpenBLAS packs
// W anew on each call, which at batch-1 shapes costs as much as the arithmetic.
import CKernels

/// W (N, K) fp32, packed at construction into panels of 32 output features.
///
/// Measured against OpenBLAS 0.3.21 (Cooperlake kernels, one core, this machine class; C bench
/// over the MiniLM shapes): 1.7× at 16 rows (110 against 63 GFLOP/s), 1.14× at 128 rows,
/// 1.04–1.07× at 4096 rows, 4.5× at one row against sgemv (N = 1536, K = 384).
public struct PackedWeights: LinearWeights {
    /// (⌈N/32⌉, K, 32) floats: panel p holds W[p·32 + j][c] at [p][c][j], zero past N.
    public let packed: [Float]
    public let outFeatures: Int // N
    public let inFeatures: Int  // K

    public init(_ weight: Tensor) {
        (packed, outFeatures, inFeatures) = packedPanels(weight, "fp32", count: { ib_sgemm_packed_floats($0, $1) }) { ib_sgemm_pack($0, $1, $2, $3) }
    }

    /// Bytes as stored: 4 per weight, plus the zero padding of the last panel (N up to a multiple of 32).
    public var byteCount: Int { packed.count * MemoryLayout<Float>.stride }

    /// The weights as (N, K), exactly.
    public func dense() -> Tensor {
        unpackedPanels(packed, n: outFeatures, k: inFeatures) { ib_sgemm_unpack($0, $1, $2, $3) }
    }

    /// y (M, N) = x (M, K) · Wᵀ.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        multiply(x, rows: m, into: y, bias: nil, in: context)
    }

    /// y (M, N) = activation(x (M, K) · Wᵀ + bias): the bias added as the first K block is stored, the
    /// activation as the last one is (no second pass over y); bit-identical to `multiply` then `gelu`.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                         activation: FusedActivation = .none, in context: ExecutionContext) {
        product(m: m, x: x, xRowStride: inFeatures, xColStride: 1, y: y, yRowStride: outFeatures, yColStride: 1, bias: bias,
                epilogue: activation.epilogue, context)
    }

    /// y (N, cols) = W · b, b (K, cols): the kernel on the transposes, through strides. Correct but
    /// not fast (it transposes b block by block and stores y column-wise); convolutions keep
    /// row-major `DenseWeights` and OpenBLAS.
    public func multiplyLeft(_ b: UnsafePointer<Float>, columns cols: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        product(m: cols, x: b, xRowStride: 1, xColStride: cols, y: y, yRowStride: 1, yColStride: cols, bias: nil,
                epilogue: IB_EPILOGUE_NONE, context)
    }

    /// Rows per thread when threads split rows: one activation block of the kernel.
    static let minRowsPerThread = 48

    /// Split over threads by `context.forPackedGEMM` (rows, or runs of 32-feature panels).
    private func product(m: Int, x: UnsafePointer<Float>, xRowStride: Int, xColStride: Int,
                         y: UnsafeMutablePointer<Float>, yRowStride: Int, yColStride: Int, bias: UnsafePointer<Float>?,
                         epilogue: ib_epilogue, _ context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        let panel = Int(IB_SGEMM_PANEL), panels = (n + panel - 1) / panel
        let panelFloats = ib_sgemm_packed_floats(panel, k)
        packed.withUnsafeBufferPointer { p in
            let w = p.baseAddress
            context.forPackedGEMM(rows: m, panels: panels, multiplyAdds: m * n * k, minRowsPerThread: Self.minRowsPerThread,
                                   rows: { r in
                ib_sgemm_packed(w, n, k, r.count, x + r.lowerBound * xRowStride, xRowStride, xColStride,
                                y + r.lowerBound * yRowStride, yRowStride, yColStride, bias, epilogue)
            }, panels: { r in
                let first = r.lowerBound * panel, count = min(n, r.upperBound * panel) - first
                ib_sgemm_packed(w.map { $0 + r.lowerBound * panelFloats }, count, k, m, x, xRowStride, xColStride,
                                y + first * yColStride, yRowStride, yColStride, bias.map { $0 + first }, epilogue)
            })
        }
    }
}

/// An activation a linear layer applies to its output as it stores it (`Linear.callAsFunction(_:into:activation:in:)`).
public enum FusedActivation: Sendable {
    case none
    /// GELU, erf form: the function `gelu` / `geluKernel` compute, with the same bits.
    case gelu

    var epilogue: ib_epilogue {
        switch self {
        case .none: return IB_EPILOGUE_NONE
        case .gelu: return IB_EPILOGUE_GELU
        }
    }
}

/// Which fp32 kernel the linear layers run.
public enum PackedKernel {
    /// "avx512", "avx2" or "generic": follows the active vector ISA (INFBENCH_ISA, `VectorISA.select`).
    public static var name: String { String(cString: ib_sgemm_kernel_name()) }
}

// Packing into and out of the C kernels' panel layouts, shared by the fp32 and bf16 weights.

/// W (N, K), `format` weights, as `pack(packed, w, n, k)` lays it out in `count(n, k)` elements; and N, K.
func packedPanels<T>(_ weight: Tensor, _ format: String, count: (Int, Int) -> Int,
                     _ pack: (UnsafeMutablePointer<T>, UnsafePointer<Float>, Int, Int) -> Void) -> (packed: [T], n: Int, k: Int) {
    precondition(weight.rank == 2, "\(format) weights are (out, in), got \(weight.shape)")
    let (n, k) = (weight.shape[0], weight.shape[1])
    let count = count(n, k)
    let packed = [T](unsafeUninitializedCapacity: count) { buf, initialized in
        weight.storage.withUnsafeBufferPointer { w in
            if count > 0 { pack(buf.baseAddress!, w.baseAddress!, n, k) }
        }
        initialized = count
    }
    return (packed, n, k)
}

/// The (N, K) fp32 matrix `unpack(w, packed, n, k)` reads back out of `packed`.
func unpackedPanels<T>(_ packed: [T], n: Int, k: Int,
                       _ unpack: (UnsafeMutablePointer<Float>, UnsafePointer<T>, Int, Int) -> Void) -> Tensor {
    var out = Tensor(zeros: [n, k])
    packed.withUnsafeBufferPointer { p in
        out.storage.withUnsafeMutableBufferPointer { o in
            if !o.isEmpty { unpack(o.baseAddress!, p.baseAddress!, n, k) }
        }
    }
    return out
}
