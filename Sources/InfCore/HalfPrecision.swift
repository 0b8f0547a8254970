// Float <-> half-precision conversions for weight storage: bf16 (the top 16 bits
// of an fp32, re-rounded) and IEEE fp16 (via Swift's Float16). Both round to
// nearest, ties to even, so a stored weight is the closest half value to the fp32 one.

// MARK: bf16

/// The bf16 bit pattern nearest to `x` (round to nearest, ties to even).
/// ±inf stay ±inf; NaN stays NaN (made quiet, sign kept). Finite values whose
/// magnitude is at least the bf16 maximum plus half an ulp (2^128 − 2^119) become
/// ±inf, as IEEE rounding requires; this includes `Float.greatestFiniteMagnitude`.
@inlinable
public func bf16Bits(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    if x.isNaN {
        // Plain rounding could carry a low-bits-only payload (0x7F80_0001) into
        // the exponent and produce inf, or truncate it to inf; force the quiet bit instead.
        return UInt16(truncatingIfNeeded: u >> 16) | 0x0040
    }
    // Adding 0x7FFF plus the lowest kept bit rounds the dropped half to nearest
    // even: an exact tie (0x8000) carries only when the kept part is odd. A carry
    // out of the mantissa bumps the exponent, which is also the correct result (up to inf).
    let lsb = (u >> 16) & 1
    return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ lsb) >> 16)
}

/// The Float a bf16 bit pattern stands for (exact: bf16 is a subset of fp32).
@inlinable
public func floatFromBF16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

// MARK: fp16

/// The IEEE binary16 bit pattern nearest to `x` (round to nearest, ties to even).
/// |x| ≥ 65520 (max 65504 plus half an ulp) becomes ±inf; tiny values become fp16
/// subnormals or ±0; NaN stays NaN.
@inlinable
public func fp16Bits(_ x: Float) -> UInt16 {
    Float16(x).bitPattern
}

/// The Float an fp16 bit pattern stands for (exact: every fp16 is an fp32).
@inlinable
public func floatFromFP16Bits(_ b: UInt16) -> Float {
    Float(Float16(bitPattern: b))
}

// MARK: Bulk conversions
// Buffer versions write into caller-owned storage so a loader can convert
// without an extra allocation; array versions are for convenience.

/// dst[i] = bf16Bits(src[i]); the buffers must have equal counts.
public func convertToBF16(_ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableBufferPointer<UInt16>) {
    convertEach(src, into: dst, "convertToBF16", bf16Bits)
}

/// dst[i] = floatFromBF16Bits(src[i]); the buffers must have equal counts.
public func convertFromBF16(_ src: UnsafeBufferPointer<UInt16>, into dst: UnsafeMutableBufferPointer<Float>) {
    convertEach(src, into: dst, "convertFromBF16", floatFromBF16Bits)
}

/// dst[i] = fp16Bits(src[i]); the buffers must have equal counts.
public func convertToFP16(_ src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableBufferPointer<UInt16>) {
    convertEach(src, into: dst, "convertToFP16", fp16Bits)
}

/// dst[i] = floatFromFP16Bits(src[i]); the buffers must have equal counts.
public func convertFromFP16(_ src: UnsafeBufferPointer<UInt16>, into dst: UnsafeMutableBufferPointer<Float>) {
    convertEach(src, into: dst, "convertFromFP16", floatFromFP16Bits)
}

/// dst[i] = convert(src[i]), after checking the counts match (`name` says who asked).
@inline(__always)
private func convertEach<S, D>(_ src: UnsafeBufferPointer<S>, into dst: UnsafeMutableBufferPointer<D>, _ name: String,
                               _ convert: (S) -> D) {
    precondition(src.count == dst.count, "\(name): \(src.count) sources for \(dst.count) destinations")
    for i in 0..<src.count { dst[i] = convert(src[i]) }
}

public func convertToBF16(_ src: [Float]) -> [UInt16] { converted(src, convertToBF16) }

public func convertFromBF16(_ src: [UInt16]) -> [Float] { converted(src, convertFromBF16) }

public func convertToFP16(_ src: [Float]) -> [UInt16] { converted(src, convertToFP16) }

public func convertFromFP16(_ src: [UInt16]) -> [Float] { converted(src, convertFromFP16) }

/// A new array of src.count elements filled by the buffer form of a conversion.
private func converted<S, D>(_ src: [S], _ convert: (UnsafeBufferPointer<S>, UnsafeMutableBufferPointer<D>) -> Void) -> [D] {
    [D](unsafeUninitializedCapacity: src.count) { dst, initialized in
        src.withUnsafeBufferPointer { convert($0, dst) }
        initialized = src.count
    }
}
