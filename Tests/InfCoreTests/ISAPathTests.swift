// Every instruction-set path of the C elementwise kernels (generic, AVX2,
// AVX-512 — those this CPU has) against the Double reference, so the portable
// fallback a server without AVX-512 would run is tested here too.
import Foundation
import InfCore
import XCTest

final class ISAPathTests: XCTestCase {
    var paths: [VectorISA] { VectorISA.allCases.filter { VectorISA.select($0) } }

    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    func testGeluSoftmaxLayerNormOnEveryPath() {
        var rng = SeededRNG(seed: 11)
        // 37 columns: not a multiple of any vector width, so every path runs its remainder loop.
        let rows = 5, cols = 37
        let x = (0..<(rows * cols)).map { _ in rng.nextGaussian() * 3 }
        let res = (0..<(rows * cols)).map { _ in rng.nextGaussian() }
        let gamma = (0..<cols).map { _ in 1 + 0.1 * rng.nextGaussian() }
        let beta = (0..<cols).map { _ in 0.1 * rng.nextGaussian() }
        XCTAssertTrue(paths.contains(.generic), "the portable path is always available")
        for isa in paths {
            XCTAssertTrue(VectorISA.select(isa))
            XCTAssertEqual(VectorISA.active, isa)

            var g = x
            g.withUnsafeMutableBufferPointer { geluKernel($0.baseAddress!, $0.baseAddress!, count: $0.count) }
            // erf within 3e-7 → GELU within ½|x|·3e-7 plus a few ulp of the result.
            for (i, v) in x.enumerated() {
                let exact = 0.5 * Double(v) * (1 + erf(Double(v) / 2.0.squareRoot()))
                XCTAssertEqual(Double(g[i]), exact, accuracy: 2e-7 * Double(abs(v)) + 1e-6 * abs(exact) + 1e-7, "GELU \(isa) at \(v)")
            }

            var s = x
            s.withUnsafeMutableBufferPointer { softmaxRowsKernel($0.baseAddress!, rows: rows, cols: cols) }
            for r in 0..<rows {
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!
                let z = row.map { exp($0 - m) }.reduce(0, +)
                for c in 0..<cols {
                    // exp within 2⁻²² relative; normalising adds a few ulp.
                    XCTAssertEqual(Double(s[r * cols + c]), exp(row[c] - m) / z, accuracy: 1e-6, "softmax \(isa)")
                }
            }

            var y = [Float](repeating: 0, count: rows * cols)
            x.withUnsafeBufferPointer { xp in res.withUnsafeBufferPointer { rp in
                gamma.withUnsafeBufferPointer { gp in beta.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        layerNormKernel(yp.baseAddress!, xp.baseAddress!, residual: rp.baseAddress!, gamma: gp.baseAddress!,
                                        beta: bp.baseAddress!, rows: rows, cols: cols, eps: 1e-5)
                    }
                } }
            } }
            for r in 0..<rows {
                let z = (0..<cols).map { Double(x[r * cols + $0]) + Double(res[r * cols + $0]) }
                let mean = z.reduce(0, +) / Double(cols)
                let rstd = 1 / ((z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)) + 1e-5).squareRoot()
                for c in 0..<cols {
                    let exact = (z[c] - mean) * rstd * Double(gamma[c]) + Double(beta[c])
                    // Float sums over 37 terms of O(1) values: a few 1e-6 at most.
                    XCTAssertEqual(Double(y[r * cols + c]), exact, accuracy: 1e-5, "LayerNorm \(isa)")
                }
            }
        }
    }

    func testPathsAgreeWithEachOther() {
        // Same inputs through every path: results may differ only by reassociated sums.
        var rng = SeededRNG(seed: 12)
        let x = (0..<1000).map { _ in rng.nextGaussian() * 4 }
        var outputs: [[Float]] = []
        for isa in paths {
            VectorISA.select(isa)
            var g = x
            g.withUnsafeMutableBufferPointer { softmaxRowsKernel($0.baseAddress!, rows: 8, cols: 125) }
            outputs.append(g)
        }
        for o in outputs.dropFirst() {
            XCTAssertLessThanOrEqual(zip(o, outputs[0]).map { abs($0 - $1) }.max()!, 1e-6)
        }
    }
}
