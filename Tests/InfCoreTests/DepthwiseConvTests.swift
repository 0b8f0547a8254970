// DepthwiseConv2D (direct kernel, shifted rows) against the seven-loop convolution run per
// channel: kernels 3 and 5, strides 1 and 2, symmetric and TensorFlow-"same" asymmetric
// padding, planes narrower than the kernel, fused ReLU6, 1 vs 2 threads, and every
// instruction-set path of the C kernel this CPU has.
import InfCore
import XCTest

final class DepthwiseConvTests: XCTestCase {
    override func tearDown() {
        VectorISA.select(.best)
        super.tearDown()
    }

    /// Tolerance: each output is a fp32 sum of K² products plus the bias, so it is within
    /// γ_{K²+1} · (Σ|w||x| + |b|) of the exact value; ReLU6 only clamps, adding nothing.
    private func check(b: Int = 2, c: Int = 5, h: Int, w: Int, k: Int, stride: Int, padding: Int, paddingEnd: Int,
                       bias: Bool = true, relu6: Bool = false, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: seed)
        let x = randn(b * c * h * w, std: 2, rng: &rng)
        let wt = randn(c * k * k, std: 0.5, rng: &rng)
        let bv: [Float]? = bias ? randn(c, rng: &rng) : nil
        let dw = DepthwiseConv2D(weight: Tensor(shape: [c, 1, k, k], storage: wt), bias: bv.map { Tensor(shape: [c], storage: $0) },
                                 stride: stride, padding: padding, paddingEnd: paddingEnd, fusedReLU6: relu6)
        var y = Tensor(zeros: [0])
        dw(Tensor(shape: [b, c, h, w], storage: x), into: &y, in: .serial)
        var ref = Ref.depthwiseConv2d(x, b: b, c: c, h: h, w: w, weight: wt, k: k, bias: bv,
                                      stride: stride, padding: padding, paddingEnd: paddingEnd)
        if relu6 { ref.y = ref.y.map { min(max($0, 0), 6) } }
        XCTAssertEqual(y.shape, [b, c, ref.oh, ref.ow], file: file, line: line)
        let (oh, ow) = dw.outputSize(height: h, width: w)
        XCTAssertEqual([oh, ow], [ref.oh, ref.ow], file: file, line: line)
        let bound = Ref.depthwiseConv2d(x.map(abs), b: b, c: c, h: h, w: w, weight: wt.map(abs), k: k, bias: bv?.map(abs),
                                        stride: stride, padding: padding, paddingEnd: paddingEnd).y.max()!
        assertClose(y.storage, ref.y, absTol: gamma(k * k + 1) * bound, relTol: 0,
                    "depthwise \(h)×\(w) k\(k) s\(stride) p\(padding)+\(paddingEnd) relu6=\(relu6)", file: file, line: line)
    }

    func testKernelStrideAndPaddingGrid() {
        var seed: UInt64 = 1
        for k in [3, 5] {
            for stride in [1, 2] {
                for (p, pe) in [(0, 0), (k / 2, k / 2), (k / 2 - 1, k / 2)] {
                    check(h: 9, w: 8, k: k, stride: stride, padding: p, paddingEnd: pe, seed: seed)
                    seed += 1
                }
            }
        }
    }

    func testTensorFlowSamePaddingOnEvenSides() {
        // EfficientNet's stride-2 layers on even maps: 3×3 pads (0, 1), 5×5 pads (1, 2).
        check(b: 1, c: 3, h: 14, w: 14, k: 3, stride: 2, padding: 0, paddingEnd: 1, seed: 20)
        check(b: 1, c: 3, h: 14, w: 14, k: 5, stride: 2, padding: 1, paddingEnd: 2, seed: 21)
        check(b: 1, c: 3, h: 7, w: 7, k: 5, stride: 1, padding: 2, paddingEnd: 2, seed: 22)
    }

    func testPlanesSmallerThanTheKernelAndNoBias() {
        // A 2×3 plane under a 5×5 kernel: every output reads padding on some side.
        check(c: 4, h: 2, w: 3, k: 5, stride: 1, padding: 2, paddingEnd: 2, bias: false, seed: 30)
        check(c: 4, h: 1, w: 1, k: 3, stride: 2, padding: 1, paddingEnd: 1, seed: 31)
    }

    func testFusedReLU6Clamps() {
        check(h: 6, w: 6, k: 3, stride: 1, padding: 1, paddingEnd: 1, relu6: true, seed: 40)
        // Large inputs, so some outputs exceed 6 and the upper clamp is exercised.
        let dw = DepthwiseConv2D(weight: Tensor(shape: [2, 1, 1, 1], storage: [10, -10]), bias: nil, fusedReLU6: true)
        var y = Tensor(zeros: [0])
        dw(Tensor(shape: [1, 2, 1, 2], storage: [0.3, 1, 0.3, 1]), into: &y, in: .serial)
        XCTAssertEqual(y.storage, [3, 6, 0, 0])
    }

    func testEveryInstructionSetPath() {
        let paths = VectorISA.allCases.filter { VectorISA.select($0) }
        XCTAssertTrue(paths.contains(.generic))
        for (i, isa) in paths.enumerated() {
            XCTAssertTrue(VectorISA.select(isa))
            // 13 wide: not a multiple of any vector width, so every path runs its remainder loop.
            check(h: 13, w: 13, k: 3, stride: 1, padding: 1, paddingEnd: 1, relu6: true, seed: 60 + UInt64(i))
            check(h: 13, w: 13, k: 5, stride: 2, padding: 1, paddingEnd: 2, seed: 70 + UInt64(i))
        }
    }

    func testThreadsSplitPlanesWithoutChangingResults() {
        var rng = SeededRNG(seed: 50)
        let dw = DepthwiseConv2D(weight: Tensor.randomNormal([24, 1, 3, 3], std: 1, rng: &rng),
                                 bias: Tensor.randomNormal([24], std: 1, rng: &rng), stride: 2, padding: 0, paddingEnd: 1)
        // 3·24 planes of 32×32 outputs × 9 taps: past two threads' minimum, so the planes do split.
        let x = Tensor.randomNormal([3, 24, 64, 64], std: 1, rng: &rng)
        XCTAssertGreaterThanOrEqual(3 * 24 * 32 * 32 * 9, 2 * DepthwiseConv2D.minMultiplyAddsPerThread)
        var one = Tensor(zeros: [0]), two = Tensor(zeros: [0])
        dw(x, into: &one, in: .serial)
        dw(x, into: &two, in: ExecutionContext(threads: 2))
        XCTAssertEqual(one, two, "each plane is computed by one thread in the same order")
        XCTAssertEqual(dw.flops(height: 10, width: 10), 2 * 24 * 25 * 9)
        XCTAssertEqual(dw.parameterCount, 24 * 9 + 24)
    }
}
