// Run-time CPU features (from cpuid, via CKernels). Kernels choose their fast
// path from these and keep a portable fallback.
import CKernels

public struct CPUFeatures: Sendable, Codable, Equatable {
    public var avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16: Bool

    /// The CPU this process runs on.
    public static let current: CPUFeatures = {
        let f = ib_cpu_detect()
        return CPUFeatures(avx2: f.avx2, fma: f.fma, f16c: f.f16c, avx512f: f.avx512f,
                           avx512bw: f.avx512bw, avx512vl: f.avx512vl,
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
        if avx512vnni { out.append("avx512_vnni") }
        if avx512bf16 { out.append("avx512_bf16") }
        return out
    }
}
