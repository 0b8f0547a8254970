// Conv2D (im2col + GEMM) against a direct seven-loop convolution: stride 1 and 2, padding 0
// and 1, asymmetric padding, non-square input and kernel, with and without bias, several images
// per batch, and the pointwise (1×1) path that skips im2col; at 2 threads, the split over images
// and over bands of output rows of one image, against the reference and the 1-thread result.
import InfCore
import XCTest

final class ConvTests: XCTestCase {
    override func tearDown() {
        super.tearDown()
    }

    /// Tolerance: each output is a fp32 dot product of IC·KH·KW terms plus the bias, so it is
    /// within γ_{K+1} · (Σ|w||x| + |b|) of the exact value (im2col only copies and writes zeros).
    private func check(b: Int = 2, ic: Int = 3, h: Int, w: Int, oc: Int = 4, kh: Int, kw: Int,
                       stride: Int, padding: Int, paddingEnd: Int? = nil, bias: Bool = true, seed: UInt64,
                       splitAtTwoThreads split: (tiles: Int, chunks: Int)? = nil,
                       file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: seed)
        let x = randn(b * ic * h * w, rng: &rng)
        let wt = randn(oc * ic * kh * kw, std: 0.3, rng: &rng)
        let bv: [Float]? = bias ? randn(oc, rng: &rng) : nil
        let conv = Conv2D(weight: Tensor(shape: [oc, ic, kh, kw], storage: wt), bias: bv.map { Tensor(shape: [oc], storage: $0) },
                          stride: stride, padding: padding, paddingEnd: paddingEnd)
        var y = Tensor(zeros: [0]), col = Tensor(zeros: [0])
        conv(Tensor(shape: [b, ic, h, w], storage: x), into: &y, col: &col, in: .serial)
        var serial: Tensor?
        if let split {
            // The same call at 2 threads must take the threaded path (else this checks nothing).
            let context = ExecutionContext(threads: 2)
            let plan = conv.threadSplit(batch: b, height: h, width: w, threads: context.threads)
            XCTAssertEqual(plan.tiles, split.tiles, "bands per image at 2 threads", file: file, line: line)
            XCTAssertEqual(plan.chunks, split.chunks, "threads used", file: file, line: line)
            serial = y
            y = Tensor(zeros: [0])
            conv(Tensor(shape: [b, ic, h, w], storage: x), into: &y, col: &col, in: context)
            XCTAssertGreaterThan(context.splitJobs, 0, "work went to the second thread", file: file, line: line)
        }
        let ref = Ref.conv2d(x, b: b, ic: ic, h: h, w: w, weight: wt, oc: oc, kh: kh, kw: kw, bias: bv,
                             stride: stride, padding: padding, paddingEnd: paddingEnd)
        XCTAssertEqual(y.shape, [b, oc, ref.oh, ref.ow], file: file, line: line)
        let (oh, ow) = conv.outputSize(height: h, width: w)
        XCTAssertEqual(oh, ref.oh, file: file, line: line)
        XCTAssertEqual(ow, ref.ow, file: file, line: line)
        let bound = Ref.conv2d(x.map(abs), b: b, ic: ic, h: h, w: w, weight: wt.map(abs), oc: oc, kh: kh, kw: kw,
                               bias: bv?.map(abs), stride: stride, padding: padding, paddingEnd: paddingEnd).y.max()!
        let name = "conv \(h)×\(w) k\(kh)×\(kw) s\(stride) p\(padding)+\(paddingEnd ?? padding) bias=\(bias)"
        assertClose(y.storage, ref.y, absTol: gamma(ic * kh * kw + 1) * bound, relTol: 0, name, file: file, line: line)
        if let serial {
            // Same dot products; only OpenBLAS's blocking of the narrower band GEMM may round
            // differently, so the two paths are within twice the reference bound of each other.
            assertClose(y.storage, serial.storage, absTol: 2 * gamma(ic * kh * kw + 1) * bound, relTol: 0,
                        name + " 2 threads vs 1", file: file, line: line)
        }
    }

    func testStrideAndPaddingGrid() {
        var seed: UInt64 = 1
        for stride in [1, 2] {
            for padding in [0, 1] {
                check(h: 7, w: 9, kh: 3, kw: 3, stride: stride, padding: padding, seed: seed)
                seed += 1
            }
        }
    }

    func testWithoutBias() {
        check(h: 6, w: 5, kh: 3, kw: 3, stride: 1, padding: 1, bias: false, seed: 10)
    }

    func testNonSquareKernelAndOneByOne() {
        check(h: 8, w: 5, kh: 2, kw: 3, stride: 2, padding: 1, seed: 20)
        check(h: 4, w: 6, oc: 5, kh: 1, kw: 1, stride: 1, padding: 0, seed: 21)
        // A kernel as large as the padded input: one output position.
        check(b: 1, h: 3, w: 4, kh: 5, kw: 6, stride: 1, padding: 1, seed: 22)
    }

    func testAsymmetricPadding() {
        // TensorFlow "same" on an even side at stride 2: nothing above/left, one row/column below/right.
        check(h: 8, w: 8, kh: 3, kw: 3, stride: 2, padding: 0, paddingEnd: 1, seed: 40)
        check(h: 7, w: 9, kh: 5, kw: 5, stride: 2, padding: 1, paddingEnd: 2, seed: 41)
        check(b: 1, h: 4, w: 4, kh: 3, kw: 3, stride: 1, padding: 2, paddingEnd: 0, bias: false, seed: 42)
    }

    func testPointwiseSkipsIm2colAndMatches() {
        // 1×1, stride 1, no padding multiplies the image itself; several images, with and without bias.
        check(b: 3, ic: 5, h: 3, w: 7, oc: 6, kh: 1, kw: 1, stride: 1, padding: 0, seed: 43)
        check(b: 2, ic: 4, h: 2, w: 2, oc: 3, kh: 1, kw: 1, stride: 1, padding: 0, bias: false, seed: 44)
        var rng = SeededRNG(seed: 45)
        let conv = Conv2D(weight: Tensor.randomNormal([3, 2, 1, 1], std: 1, rng: &rng), bias: nil)
        var y = Tensor(zeros: [0]), col = Tensor(zeros: [0])
        conv(Tensor.randomNormal([2, 2, 4, 4], std: 1, rng: &rng), into: &y, col: &col, in: .serial)
        XCTAssertEqual(col.count, 0, "a pointwise conv needs no im2col scratch")
    }

    func testScratchReuseAndFlops() {
        var rng = SeededRNG(seed: 30)
        let conv = Conv2D(weight: Tensor.randomNormal([4, 2, 3, 3], std: 0.3, rng: &rng),
                          bias: Tensor.randomNormal([4], std: 1, rng: &rng), stride: 1, padding: 1)
        XCTAssertEqual(conv.parameterCount, 4 * 2 * 9 + 4)
        // 2 · OC · OH · OW · IC · KH · KW for a 6×5 image with same-size output.
        XCTAssertEqual(conv.flops(height: 6, width: 5), 2 * 4 * 30 * 18)
        let big = Tensor.randomNormal([2, 2, 6, 5], std: 1, rng: &rng)
        let small = Tensor.randomNormal([1, 2, 3, 3], std: 1, rng: &rng)
        var y1 = Tensor(zeros: [0]), y2 = Tensor(zeros: [0]), ys = Tensor(zeros: [0]), col = Tensor(zeros: [0])
        conv(big, into: &y1, col: &col, in: .serial)
        conv(small, into: &ys, col: &col, in: .serial)
        conv(big, into: &y2, col: &col, in: .serial)
        XCTAssertEqual(y1, y2, "the im2col scratch carries nothing from one call to the next")
        XCTAssertEqual(ys.shape, [1, 4, 3, 3])
    }

    func testTwoThreadsSplitImagesAndBandsOfRows() {
        let minimum = Conv2D.minMultiplyAddsPerThread
        // Batch ≥ threads: one image per unit, two threads; 16·72·(16·16) multiply-adds per image.
        XCTAssertGreaterThanOrEqual(5 * 16 * 72 * 256, 2 * minimum)
        check(b: 5, ic: 8, h: 16, w: 16, oc: 16, kh: 3, kw: 3, stride: 1, padding: 1, seed: 50,
              splitAtTwoThreads: (1, 2))
        // Batch 1: two bands of output rows (17 × 15 outputs, rows 8 and 9), stride 2 with TensorFlow padding.
        XCTAssertGreaterThanOrEqual(96 * 72 * 17 * 15, 2 * minimum)
        check(b: 1, ic: 8, h: 34, w: 31, oc: 96, kh: 3, kw: 3, stride: 2, padding: 0, paddingEnd: 1, seed: 51,
              splitAtTwoThreads: (2, 2))
        // A pointwise conv of one image: no bands; its product W·b splits output channels over the team.
        XCTAssertGreaterThanOrEqual(64 * 64 * 32 * 33, ExecutionContext.minMultiplyAddsToSplit)
        check(b: 1, ic: 64, h: 32, w: 33, oc: 64, kh: 1, kw: 1, stride: 1, padding: 0, seed: 52,
              splitAtTwoThreads: (2, 2))
        // Too little work for a second thread: serial.
        let small = Conv2D(weight: Tensor(zeros: [4, 3, 3, 3]), bias: nil, padding: 1)
        XCTAssertEqual(small.threadSplit(batch: 1, height: 8, width: 8, threads: 2).chunks, 1)
        XCTAssertEqual(small.threadSplit(batch: 32, height: 8, width: 8, threads: 2).chunks, 1)
    }
}
