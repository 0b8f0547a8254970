// Max and average pooling against the reference: stride = kernel (tiling) and stride < kernel
// (overlapping windows), non-square planes, sizes that leave a remainder, all-negative input;
// planes split over 2 threads, and global average pooling.
import InfCore
import XCTest

final class PoolingTests: XCTestCase {
    override func tearDown() {
        super.tearDown()
    }

    /// Tolerance: max only selects an input, so it is exact. Average sums k² Floats and scales
    /// by a rounded 1/k², so it is within γ_{k²+2}·max|x| of the exact mean.
    private func check(_ kind: Pool2D.Kind, b: Int = 2, c: Int = 3, h: Int, w: Int, kernel: Int, stride: Int,
                       shift: Float = 0, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: seed)
        let x = randn(b * c * h * w, std: 2, rng: &rng).map { $0 + shift }
        let pool = Pool2D(kind, kernel: kernel, stride: stride)
        var y = Tensor(zeros: [0])
        pool(Tensor(shape: [b, c, h, w], storage: x), into: &y, in: .serial)
        let ref = Ref.pool2d(x, planes: b * c, h: h, w: w, kernel: kernel, stride: stride, max: kind == .max)
        XCTAssertEqual(y.shape, [b, c, ref.oh, ref.ow], file: file, line: line)
        let (oh, ow) = pool.outputSize(height: h, width: w)
        XCTAssertEqual([oh, ow], [ref.oh, ref.ow], file: file, line: line)
        let tol = kind == .max ? 0 : gamma(kernel * kernel + 2) * Double(x.map(abs).max()!)
        assertClose(y.storage, ref.y, absTol: tol, relTol: 0,
                    "\(kind) pool \(h)×\(w) k\(kernel) s\(stride)", file: file, line: line)
    }

    func testStrideEqualsKernel() {
        check(.max, h: 8, w: 6, kernel: 2, stride: 2, seed: 1)
        check(.avg, h: 8, w: 6, kernel: 2, stride: 2, seed: 2)
        check(.max, h: 9, w: 6, kernel: 3, stride: 3, seed: 3)
        check(.avg, h: 9, w: 6, kernel: 3, stride: 3, seed: 4)
    }

    func testStrideSmallerThanKernel() {
        check(.max, h: 7, w: 10, kernel: 3, stride: 1, seed: 5)
        check(.avg, h: 7, w: 10, kernel: 3, stride: 2, seed: 6)
        check(.max, h: 6, w: 5, kernel: 2, stride: 1, seed: 7)
    }

    func testRemainderIsDropped() {
        // 7 rows with 2×2 windows at stride 2: 3 output rows, the last input row unused.
        check(.max, h: 7, w: 5, kernel: 2, stride: 2, seed: 8)
        check(.avg, h: 7, w: 5, kernel: 2, stride: 2, seed: 9)
    }

    func testMaxOfNegativeInputs() {
        // Every input is below −10: a max that starts from 0 instead of −∞ would return 0.
        check(.max, h: 6, w: 6, kernel: 2, stride: 2, shift: -20, seed: 10)
        var y = Tensor(zeros: [0])
        Pool2D(.max, kernel: 2, stride: 2)(Tensor(shape: [1, 1, 2, 2], storage: [-3, -1, -2, -4]), into: &y, in: .serial)
        XCTAssertEqual(y.storage, [-1])
    }

    func testTwoThreadsSplitPlanes() {
        let context = ExecutionContext(threads: 2)
        // 2·16 planes of 32·32 2×2 windows: 2^17 reads, two threads' worth (else nothing splits).
        XCTAssertGreaterThanOrEqual(2 * 16 * 32 * 32 * 4, 2 * Pool2D.minReadsPerThread)
        check(.max, b: 2, c: 16, h: 64, w: 64, kernel: 2, stride: 2, seed: 60)
        check(.avg, b: 2, c: 17, h: 65, w: 63, kernel: 3, stride: 2, seed: 61)
    }

    func testGlobalAveragePoolAtOneAndTwoThreads() {
        var rng = SeededRNG(seed: 62)
        let (b, c, h, w) = (4, 64, 24, 24)
        XCTAssertGreaterThanOrEqual(b * c * h * w, 2 * Pool2D.minReadsPerThread, "enough to split at 2 threads")
        let x = randn(b * c * h * w, std: 2, rng: &rng)
        let ref = Ref.pool2d(x, planes: b * c, h: h, w: w, kernel: h, stride: h, max: false)
        for threads in [1, 2] {
            let context = ExecutionContext(threads: threads)
            var y = Tensor(zeros: [0])
            globalAveragePool(Tensor(shape: [b, c, h, w], storage: x), into: &y, in: context)
            XCTAssertEqual(y.shape, [b, c])
            // A sum of n Floats scaled by a rounded 1/n.
            assertClose(y.storage, ref.y, absTol: gamma(h * w + 2) * Double(x.map(abs).max()!), relTol: 0,
                        "global average pool, \(threads) threads")
        }
    }
}
