// Depthwise convolution of one plane: each channel is convolved with its own K×K kernel, so
// there is no reduction over channels for a GEMM to exploit (as im2col + GEMM it would be
// one single-row GEMM per channel). The kernel is C (CKernels/depthwise.c: phase planes and
// K² long AXPYs, AVX-512/AVX2/portable paths): in Swift, built for baseline x86-64, the same
// loop ran 4-wide SSE without FMA, at a quarter of the speed.
import CKernels

/// Floats of scratch `depthwiseConv2dPlaneKernel` needs for one plane of this geometry.
@inlinable
public func depthwiseScratchCount(kernel k: Int, stride s: Int, outH: Int, outW: Int) -> Int {
    ib_depthwise_scratch(k, s, outH, outW)
}

/// One plane: inp (H, W) → out (OH, OW), out = bias + Σ_{kh,kw} w[kh, kw] · inp[oh·s − padTop + kh, ow·s − padLeft + kw],
/// zero outside the image (so the bottom/right padding is whatever OH, OW imply); then
/// clamped to [0, 6] when `relu6`. w is (K, K); scratch holds `depthwiseScratchCount` floats.
@inlinable
public func depthwiseConv2dPlaneKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                       _ w: UnsafePointer<Float>, bias: Float,
                                       height: Int, width: Int, kernel k: Int, stride s: Int,
                                       padTop: Int, padLeft: Int, outH: Int, outW: Int, relu6: Bool,
                                       scratch: UnsafeMutablePointer<Float>) {
    ib_depthwise_plane(out, inp, w, bias, height, width, k, s, padTop, padLeft, outH, outW, relu6, scratch)
}
