// Run-time CPU features (from cpuid, via CKernels). Kernels choose their fast
// path from these and keep a portable fallback.
import CKernels

public struct CPUFeatures: Sendable, Codable, Equatable {
    public var avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16: Bool

    /// The CPU this process runs on.
    public static let current: CPUFeatures = {
        let f = ib_cpu_detect()
        return CPUFeatures(avx2: f.avx2, fma: f.fma, f16c: f.f16c, avx512f: f.avx512f,
                           avx512bw: f.avx512bw, avx512vl: f.avx512vl, avx512dq: f.avx512dq,
                           avx512vnni: f.avx512_vnni, avx512bf16: f.avx512_bf16)
    }()

    /// Names of the features present, in /proc/cpuinfo spelling.
    public var names: [String] {
        var out: [String] = []
        if avx2 { out.append("avx2") }
        if fma { out.append("fma") }
        if f16c { out.append("f16c") }
        if avx512f { out.append("avx512f") }
        if avx512bw { out.append("avx512bw") }
        if avx512vl { out.append("avx512vl") }
        if avx512dq { out.append("avx512dq") }
        if avx512vnni { out.append("avx512_vnni") }
        if avx512bf16 { out.append("avx512_bf16") }
        return out
    }
}

/// The instruction-set path of infbench's own C kernels (GELU, softmax, LayerNorm),
/// chosen at run time; `INFBENCH_ISA=generic|avx2` forces a lower one.
public enum VectorISA: String, Sendable, CaseIterable {
    case generic, avx2, avx512

    init(_ isa: ib_isa) {
        switch isa {
        case IB_ISA_AVX512: self = .avx512
        case IB_ISA_AVX2: self = .avx2
        default: self = .generic
        }
    }

    var cValue: ib_isa {
        switch self {
        case .generic: return IB_ISA_GENERIC
        case .avx2: return IB_ISA_AVX2
        case .avx512: return IB_ISA_AVX512
        }
    }

    /// The path in use now.
    public static var active: VectorISA { VectorISA(ib_isa_active()) }
    /// The widest path this CPU supports.
    public static var best: VectorISA { VectorISA(ib_isa_best()) }
    /// Switches path; false when the CPU lacks it (for tests and A/B measurements).
    @discardableResult
    public static func select(_ isa: VectorISA) -> Bool { ib_isa_select(isa.cValue) }
}
