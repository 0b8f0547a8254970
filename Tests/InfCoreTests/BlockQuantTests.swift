// Weight-only Q8_0 / Q4_0 against naive references: every weight within half a step of its
// block's scale, the bytes the formats promise, and the streaming kernel (every instruction
// set this CPU has) and the dequantize + sgemm path within fp32 summation bounds of fp64 on
// the dequantized weights, for odd K (a partial last block) and across threads.
import InfCore
import XCTest

final class BlockQuantTests: XCTestCase {
    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Whether |got − want| ≤ bound everywhere, and the largest |Δ|.
    func within(_ got: [Float], _ want: [Double], _ bound: [Double]) -> (ok: Bool, maxAbsDiff: Double) {
        var ok = got.count == want.count, worst = 0.0
        for i in got.indices where i < want.count {
            let d = abs(Double(got[i]) - want[i])
            if !(d <= bound[i]) { ok = false }
            worst = max(worst, d)
        }
        return (ok, worst)
    }

    var paths: [VectorISA] {
        let out = VectorISA.allCases.filter { VectorISA.select($0) }
        VectorISA.select(.best)
        return out
    }

    func weights(_ n: Int, _ k: Int, rng: inout SeededRNG) -> [Float] {
        var w = randn(n * k, std: 0.05, rng: &rng)
        for c in 0..<min(k, 32) where n > 1 { w[k + c] = 0 }         // an all-zero block
        if n > 2 && k > 40 { w[2 * k + 40] = 3 }                    // an outlier block
        return w
    }

    /// Per block: d = max|w|/qmax rounded up to an fp16, so d ≤ (max|w|/qmax)(1 + 2⁻¹⁰) + 2⁻²⁴
    /// (the fp16 spacing, or the subnormal step), and |w − q·d| ≤ d/2.
    func testQuantizationWithinHalfAStepAndTheFormatsBytes() {
        var rng = SeededRNG(seed: 1)
        for format in BlockQuantWeights.Format.allCases {
            for (n, k) in [(1, 1), (3, 45), (4, 32), (5, 100), (7, 64), (2, 33)] {
                var w = weights(n, k, rng: &rng)
                if n * k > 10 { w[9] = 1e-6 } // a tiny weight next to normal ones
                let q = BlockQuantWeights(Tensor(shape: [n, k], storage: w), format: format)
                let blockBytes = format == .q8_0 ? 34 : 18
                XCTAssertEqual(q.byteCount, n * ((k + 31) / 32) * blockBytes, "\(format) (\(n), \(k)) bytes")
                let back = q.dense().storage
                var worst = 0.0
                for j in 0..<n {
                    for b in stride(from: 0, to: k, by: 32) {
                        let idx = (j * k + b)..<(j * k + min(b + 32, k))
                        let amax = Double(w[idx].map { abs($0) }.max()!)
                        let d = amax / Double(format.qmax) * (1 + 0x1p-10) + 0x1p-24
                        for i in idx {
                            let delta = abs(Double(w[i]) - Double(back[i]))
                            XCTAssertLessThanOrEqual(delta, d / 2, "\(format) (\(n), \(k)) weight \(i)")
                            if amax == 0 { XCTAssertEqual(back[i], 0, "an all-zero block stays zero") }
                            worst = max(worst, delta / (d / 2))
                        }
                    }
                }
                print("OK     \(format) (\(n), \(k)): max |Δ|/(d/2) = \(String(format: "%.3f", worst))")
            }
        }
        XCTAssertEqual(BlockQuantWeights(Tensor(zeros: [64, 1024]), format: .q8_0).byteCount * 32 * 4, 64 * 1024 * 4 * 34)
        XCTAssertEqual(BlockQuantWeights(Tensor(zeros: [64, 1024]), format: .q4_0).byteCount * 32 * 4, 64 * 1024 * 4 * 18)
    }

    /// Against fp64 on the dequantized weights (exact): the kernels sum K fp32 products in
    /// blocks, scale each block's partial sums and fold 16 lanes, a depth below K + 40 for
    /// every shape here, so |Δ| ≤ γ_{K+40} · Σ|x ŵ|. Rows 1…4 and 9 stream through the gemv
    /// kernel (9: groups of 4, 4, 1); 40 rows take the dequantize + sgemm path.
    func testProductOnEveryPathAgainstFP64() {
        for isa in paths {
            VectorISA.select(isa)
            XCTAssertEqual(BlockQuantWeights.kernelPath, isa == .avx2 && !CPUFeatures.current.f16c ? .generic : isa)
            for format in BlockQuantWeights.Format.allCases {
                for (s, (m, n, k)) in [(1, 1, 1), (1, 33, 45), (2, 7, 64), (3, 40, 96), (4, 5, 100), (9, 17, 333), (40, 30, 77)].enumerated() {
                    var rng = SeededRNG(seed: UInt64(100 + s))
                    let x = randn(m * k, rng: &rng)
                    let q = BlockQuantWeights(Tensor(shape: [n, k], storage: weights(n, k, rng: &rng)), format: format)
                    let wq = q.dense().storage
                    var y = [Float](repeating: .nan, count: m * n) + [Float](repeating: 7, count: 4)
                    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { q.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: .serial) } }
                    XCTAssertEqual(Array(y[(m * n)...]), [7, 7, 7, 7], "wrote past y")
                    let exact = Ref.matmul(x, lda: k, transA: false, wq, ldb: k, transB: true, m: m, n: n, k: k)
                    let sum = Ref.matmul(x.map(abs), lda: k, transA: false, wq.map(abs), ldb: k, transB: true, m: m, n: n, k: k)
                    let c = within(Array(y[..<(m * n)]), exact, sum.map { gamma(k + 40) * $0 })
                    print("\(c.ok ? "OK    " : "NOT OK") \(isa) \(format) m=\(m) n=\(n) k=\(k): max |Δ| \(c.maxAbsDiff)")
                    XCTAssertTrue(c.ok, "\(isa) \(format) m=\(m) n=\(n) k=\(k)")
                }
            }
        }
    }

    /// W · b (convolutions) through the dequantized panels and sgemm.
    func testMultiplyLeftAgainstFP64() {
        var rng = SeededRNG(seed: 3)
        for format in BlockQuantWeights.Format.allCases {
            let (n, k, cols) = (20, 75, 33)
            let b = randn(k * cols, rng: &rng)
            let q = BlockQuantWeights(Tensor(shape: [n, k], storage: weights(n, k, rng: &rng)), format: format)
            var y = [Float](repeating: .nan, count: n * cols)
            b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { q.multiplyLeft(bp.baseAddress!, columns: cols, into: $0.baseAddress!, in: .serial) } }
            let wq = q.dense().storage
            let exact = Ref.matmul(wq, lda: k, transA: false, b, ldb: cols, transB: false, m: n, n: cols, k: k)
            let sum = Ref.matmul(wq.map(abs), lda: k, transA: false, b.map(abs), ldb: cols, transB: false, m: n, n: cols, k: k)
            XCTAssertTrue(within(y, exact, sum.map { gamma(k) * $0 }).ok, "\(format) W·b")
        }
    }

    /// The streaming kernel splits output features over threads; each output's sum keeps its
    /// order, so the bits are identical.
    func testTwoThreadsGiveTheSameBits() {
        var rng = SeededRNG(seed: 4)
        let (m, n, k) = (1, 300, 8192)
        let x = randn(m * k, rng: &rng)
        for format in BlockQuantWeights.Format.allCases {
            let q = BlockQuantWeights(Tensor.randomNormal([n, k], std: 0.05, rng: &rng), format: format)
            var results: [[Float]] = []
            for threads in [1, 2] {
                let context = ExecutionContext(threads: threads)
                var y = [Float](repeating: .nan, count: m * n)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { q.multiply(xp.baseAddress!, rows: m, into: $0.baseAddress!, in: context) } }
                results.append(y)
            }
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "\(format) at 2 threads")
        }
    }
}
