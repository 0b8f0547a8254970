// The sgemm roofline: what OpenBLAS reaches on a large square GEMM at a given
// thread count, measured in the same run so model GFLOP/s can be read as a
// percentage of what this machine's BLAS can actually do right now.
import InfCore

/// Times C = A·B for (m, k)·(k, n) at `threads` OpenBLAS threads with the
/// sampler; GFLOP/s is 2·m·n·k over the median sample. The matrices are
/// allocated and filled (seeded) once, outside the timed region. The previous
/// OpenBLAS thread count is restored before returning.
public func measureSgemmRoofline(threads: Int, m: Int = 1024, n: Int = 1024, k: Int = 1024,
                                 policy: MeasurementPolicy) -> RooflinePoint {
    // Raw allocations rather than arrays: the timed closure touches no
    // reference-counted storage and no exclusivity checks.
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)   // (m, k)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)   // (k, n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)   // (m, n)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    var rng = SeededRNG(seed: 0x5EED_6E33)
    for i in 0..<(m * k) { a[i] = rng.nextUnitFloat() - 0.5 }
    for i in 0..<(k * n) { b[i] = rng.nextUnitFloat() - 0.5 }
    c.initialize(repeating: 0, count: m * n)

    let measured = BLAS.withThreads(threads) {
        measureInterleaved([{
            BLAS.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n)
        }], policy: policy)[0]
    }

    let medianSeconds = SampleStats(samplesNs: measured.samplesNs).median
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    let gflops = medianSeconds > 0 ? flops / medianSeconds / 1e9 : 0
    return RooflinePoint(threads: threads, m: m, n: n, k: k, samplesNs: measured.samplesNs, gflops: gflops)
}
