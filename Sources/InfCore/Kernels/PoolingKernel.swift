// 2-D pooling over one (H, W) plane, no padding: windows start at multiples
// of the stride and must lie inside the plane.

/// inp (H, W) → out (OH, OW), OH = (H − K)/S + 1.
@inlinable
public func maxPool2dKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            height: Int, width: Int, kernel: Int, stride: Int, outH: Int, outW: Int) {
    if kernel == 2 && stride == 2 {
        // The CNNs' 2×2 pool, unrolled: the same max chain in the same order (so the same
        // result, signed zeros and NaN included) without the two inner loops.
        for oh in 0..<outH {
            let r0 = inp + 2 * oh * width, r1 = r0 + width, o = out + oh * outW
            for ow in 0..<outW {
                o[ow] = max(max(max(max(-Float.infinity, r0[2 * ow]), r0[2 * ow + 1]), r1[2 * ow]), r1[2 * ow + 1])
            }
        }
        return
    }
    for oh in 0..<outH {
        for ow in 0..<outW {
            var m = -Float.infinity
            for kh in 0..<kernel {
                let row = inp + (oh * stride + kh) * width + ow * stride
                for kw in 0..<kernel { m = max(m, row[kw]) }
            }
            out[oh * outW + ow] = m
        }
    }
}

/// inp (H, W) → out (OH, OW), mean over each window.
@inlinable
public func avgPool2dKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            height: Int, width: Int, kernel: Int, stride: Int, outH: Int, outW: Int) {
    let inv = 1 / Float(kernel * kernel)
    for oh in 0..<outH {
        for ow in 0..<outW {
            var s: Float = 0
            for kh in 0..<kernel {
                let row = inp + (oh * stride + kh) * width + ow * stride
                for kw in 0..<kernel { s += row[kw] }
            }
            out[oh * outW + ow] = s * inv
        }
    }
}

/// inp (planes, n) → out (planes): the mean of each plane's n values (global average pooling).
@inlinable
public func globalAvgPoolKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, planes: Int, count n: Int) {
    let inv = 1 / Float(n)
    for p in 0..<planes {
        let src = inp + p * n
        var s: Float = 0
        for i in 0..<n { s += src[i] }
        out[p] = s * inv
    }
}
