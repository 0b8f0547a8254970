// 2-D pooling over one (H, W) plane, no padding: windows start at multiples
// of the stride and must lie inside the plane.

/// inp (H, W) → out (OH, OW), OH = (H − K)/S + 1.
@inlinable
public func maxPool2dKernel(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            height: Int, width: Int, kernel: Int, stride: Int, outH: Int, outW: Int) {
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
