// Checks the bf16/fp16 conversions: exhaustive round trips, exact ties, subnormals,
// infinities, NaN, fp16 overflow, and random inputs against a naive reference that
// picks the nearest representable value by comparing distances in Double.
import XCTest
import InfCore

final class HalfPrecisionTests: XCTestCase {

    // MARK: Naive references (no bit tricks, no Float16)

    /// Every non-negative finite fp16 value in bit-pattern order, decoded from the
    /// IEEE formula in Double, followed by 65536 = the value "one ulp past the max",
    /// which stands for +inf (bits 0x7C00) when deciding where a value rounds.
    static let fp16Ladder: [Double] = (0...0x7C00).map { bits in
        if bits == 0x7C00 { return 65536 }
        let exponent = bits >> 10, mantissa = Double(bits & 0x3FF)
        return exponent == 0
            ? mantissa * pow(2, -24)
            : (1 + mantissa / 1024) * pow(2, Double(exponent - 15))
    }

    /// Nearest fp16 to x by distance in Double, ties to the even bit pattern.
    static func referenceFP16(_ x: Float) -> UInt16 {
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let a = Double(x.magnitude)
        if a.isInfinite { return sign | 0x7C00 }
        let ladder = fp16Ladder
        if a >= ladder[0x7C00] { return sign | 0x7C00 }
        // Largest index with ladder[i] <= a.
        var lo = 0, hi = 0x7C00
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if ladder[mid] <= a { lo = mid } else { hi = mid }
        }
        let below = a - ladder[lo], above = ladder[lo + 1] - a
        let pick = below < above ? lo : above < below ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1)
        return sign | UInt16(pick)
    }

    /// Nearest bf16 to a finite x by distance in Double, ties to even. The two
    /// candidates are x's top 16 bits and the next pattern up in magnitude; the
    /// pattern past the max (0x7F80) is +inf, whose "value" for rounding is 2^128.
    static func referenceBF16(_ x: Float) -> UInt16 {
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let mag = x.magnitude
        if mag.isInfinite { return sign | 0x7F80 }
        let low = UInt16(mag.bitPattern >> 16)
        let high = low + 1
        func value(_ b: UInt16) -> Double {
            b == 0x7F80 ? pow(2, 128) : Double(Float(bitPattern: UInt32(b) << 16))
        }
        let a = Double(mag)
        let below = a - value(low), above = value(high) - a
        let pick = below < above ? low : above < below ? high : (low % 2 == 0 ? low : high)
        return sign | pick
    }

    // MARK: Round trips over every bit pattern

    func testBF16RoundTripsEveryPattern() {
        for b in 0...UInt16.max {
            let f = floatFromBF16Bits(b)
            if f.isNaN {
                let back = bf16Bits(f)
                XCTAssertTrue(floatFromBF16Bits(back).isNaN, "NaN \(b) lost")
                XCTAssertEqual(back & 0x8000, b & 0x8000, "NaN sign lost for \(b)")
            } else {
                XCTAssertEqual(bf16Bits(f), b, "bf16 pattern \(b) did not round-trip")
            }
        }
    }

    func testFP16RoundTripsEveryPattern() {
        for b in 0...UInt16.max {
            let f = floatFromFP16Bits(b)
            let isNaNPattern = (b & 0x7C00) == 0x7C00 && (b & 0x3FF) != 0
            XCTAssertEqual(f.isNaN, isNaNPattern, "fp16 pattern \(b) decoded to \(f)")
            if isNaNPattern {
                XCTAssertTrue(floatFromFP16Bits(fp16Bits(f)).isNaN)
            } else {
                XCTAssertEqual(fp16Bits(f), b, "fp16 pattern \(b) did not round-trip")
                if (b & 0x7C00) != 0x7C00 {
                    let sign: Double = b & 0x8000 != 0 ? -1 : 1
                    XCTAssertEqual(Double(f), sign * Self.fp16Ladder[Int(b & 0x7FFF)], "fp16 pattern \(b)")
                }
            }
        }
    }

    // MARK: Ties round to even

    func testBF16ExactTiesRoundToEven() {
        // 1.0 = 0x3F80 (even mantissa) and 1.0078125 = 0x3F81 (odd); a dropped half
        // of exactly 0x8000 is a tie between the kept pattern and the next one.
        for kept: UInt32 in [0x3F80, 0x3F81, 0x0001, 0x0002, 0x7F7E, 0xBF80, 0xBF81, 0x4000] {
            let tie = Float(bitPattern: kept << 16 | 0x8000)
            let even = kept % 2 == 0 ? kept : kept + 1
            XCTAssertEqual(bf16Bits(tie), UInt16(even), "tie above \(String(kept, radix: 16))")
            XCTAssertEqual(bf16Bits(Float(bitPattern: kept << 16 | 0x7FFF)), UInt16(kept), "just below the tie")
            XCTAssertEqual(bf16Bits(Float(bitPattern: kept << 16 | 0x8001)), UInt16(kept + 1), "just above the tie")
        }
        // An odd max-finite pattern plus a tie rounds up to inf.
        XCTAssertEqual(bf16Bits(Float(bitPattern: 0x7F7F_8000)), 0x7F80)
    }

    func testFP16ExactTiesRoundToEven() {
        // The midpoint of two adjacent fp16 values needs 12 significant bits, so it
        // is exact in Float; check normal, subnormal and the subnormal/normal seam.
        for b: UInt16 in [0x3C00, 0x3C01, 0x0000, 0x0001, 0x0002, 0x03FF, 0x0400, 0x7BFE, 0x5555] {
            let x = floatFromFP16Bits(b), next = floatFromFP16Bits(b + 1)
            let tie = (x + next) / 2
            XCTAssertEqual(Double(tie), (Double(x) + Double(next)) / 2, "midpoint not exact")
            let even = b % 2 == 0 ? b : b + 1
            XCTAssertEqual(fp16Bits(tie), even, "tie between fp16 \(b) and \(b + 1)")
            XCTAssertEqual(fp16Bits(-tie), even | 0x8000, "negative tie between fp16 \(b) and \(b + 1)")
            XCTAssertEqual(fp16Bits(tie.nextDown), b, "just below the tie")
            XCTAssertEqual(fp16Bits(tie.nextUp), b + 1, "just above the tie")
        }
    }

    // MARK: Subnormals, infinities, NaN, overflow

    func testSubnormals() {
        // fp16: smallest subnormal 2^-24, largest 1023 * 2^-24, smallest normal 2^-14.
        XCTAssertEqual(fp16Bits(Float(sign: .plus, exponent: -24, significand: 1)), 0x0001)
        XCTAssertEqual(fp16Bits(Float(sign: .plus, exponent: -25, significand: 1)), 0x0000, "2^-25 is a tie with 0: even wins")
        XCTAssertEqual(fp16Bits(Float(sign: .plus, exponent: -25, significand: 1).nextUp), 0x0001)
        XCTAssertEqual(fp16Bits(-Float(sign: .plus, exponent: -24, significand: 1)), 0x8001)
        XCTAssertEqual(floatFromFP16Bits(0x03FF), 1023 * Float(sign: .plus, exponent: -24, significand: 1))
        XCTAssertEqual(floatFromFP16Bits(0x0400), Float(sign: .plus, exponent: -14, significand: 1))
        XCTAssertEqual(fp16Bits(1e-10), 0x0000)
        XCTAssertEqual(fp16Bits(-1e-10), 0x8000, "underflow keeps the sign")

        // bf16 has fp32's exponent range, so fp32 subnormals map to bf16 subnormals.
        XCTAssertEqual(bf16Bits(Float(bitPattern: 0x0001_0000)), 0x0001)
        XCTAssertEqual(floatFromBF16Bits(0x0001), Float(bitPattern: 0x0001_0000))
        XCTAssertEqual(bf16Bits(Float.leastNonzeroMagnitude), 0x0000)
        XCTAssertEqual(bf16Bits(-Float.leastNonzeroMagnitude), 0x8000)
        XCTAssertEqual(bf16Bits(Float(bitPattern: 0x007F_FFFF)), 0x0080, "largest fp32 subnormal rounds up to the smallest normal")
    }

    func testInfinities() {
        XCTAssertEqual(bf16Bits(.infinity), 0x7F80)
        XCTAssertEqual(bf16Bits(-.infinity), 0xFF80)
        XCTAssertEqual(floatFromBF16Bits(0x7F80), .infinity)
        XCTAssertEqual(floatFromBF16Bits(0xFF80), -.infinity)
        XCTAssertEqual(fp16Bits(.infinity), 0x7C00)
        XCTAssertEqual(fp16Bits(-.infinity), 0xFC00)
        XCTAssertEqual(floatFromFP16Bits(0x7C00), .infinity)
        XCTAssertEqual(floatFromFP16Bits(0xFC00), -.infinity)
    }

    func testNaNStaysNaN() {
        let nans: [Float] = [
            .nan, -.nan, .signalingNaN,
            Float(bitPattern: 0x7F80_0001),  // payload only in bits bf16 drops
            Float(bitPattern: 0xFF80_0001),
            Float(bitPattern: 0x7FFF_FFFF),  // would carry into the sign with naive rounding
        ]
        for x in nans {
            let b = bf16Bits(x)
            XCTAssertTrue(floatFromBF16Bits(b).isNaN, "bf16 of NaN \(String(x.bitPattern, radix: 16))")
            XCTAssertEqual(b & 0x0040, 0x0040, "bf16 NaN is quiet")
            XCTAssertEqual(b & 0x8000 != 0, x.sign == .minus, "bf16 NaN keeps its sign")
            XCTAssertTrue(floatFromFP16Bits(fp16Bits(x)).isNaN, "fp16 of NaN \(String(x.bitPattern, radix: 16))")
        }
    }

    func testFP16OverflowsToInfinity() {
        XCTAssertEqual(fp16Bits(65504), 0x7BFF, "the largest finite fp16")
        XCTAssertEqual(fp16Bits(65519), 0x7BFF, "below the midpoint to 65536")
        XCTAssertEqual(fp16Bits(65520), 0x7C00, "the midpoint: odd max, so it rounds up to inf")
        XCTAssertEqual(fp16Bits(-65520), 0xFC00)
        XCTAssertEqual(fp16Bits(1e6), 0x7C00)
        XCTAssertEqual(fp16Bits(-1e6), 0xFC00)
        XCTAssertEqual(fp16Bits(.greatestFiniteMagnitude), 0x7C00)
        // bf16 shares fp32's range: only the top half-ulp of fp32 rounds to inf.
        XCTAssertEqual(bf16Bits(.greatestFiniteMagnitude), 0x7F80)
        XCTAssertEqual(bf16Bits(Float(bitPattern: 0x7F7F_7FFF)), 0x7F7F)
        XCTAssertEqual(bf16Bits(65520), 0x4780)
    }

    // MARK: Random inputs against the Double reference

    func testRandomInputsMatchDoubleReference() {
        var rng = SeededRNG(seed: 0x5EED_F16)
        var inputs: [Float] = []
        // Arbitrary bit patterns cover every exponent; scaled normals cover the
        // range weights live in; values near fp16's edges cover overflow and subnormals.
        for _ in 0..<100_000 {
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if !x.isNaN { inputs.append(x) }
        }
        for _ in 0..<50_000 { inputs.append(rng.nextGaussian() * 0.05) }
        for _ in 0..<20_000 { inputs.append((rng.nextUnitFloat() * 2 - 1) * 70_000) }
        for _ in 0..<20_000 { inputs.append((rng.nextUnitFloat() * 2 - 1) * 1e-4) }

        var bf16Mismatches = 0, fp16Mismatches = 0
        for x in inputs {
            if bf16Bits(x) != Self.referenceBF16(x) {
                bf16Mismatches += 1
                if bf16Mismatches <= 5 { XCTFail("bf16(\(x)) = \(bf16Bits(x)), reference \(Self.referenceBF16(x))") }
            }
            if fp16Bits(x) != Self.referenceFP16(x) {
                fp16Mismatches += 1
                if fp16Mismatches <= 5 { XCTFail("fp16(\(x)) = \(fp16Bits(x)), reference \(Self.referenceFP16(x))") }
            }
        }
        XCTAssertEqual(bf16Mismatches, 0)
        XCTAssertEqual(fp16Mismatches, 0)

        // The bulk versions agree with the scalar ones.
        XCTAssertEqual(convertToBF16(inputs), inputs.map(bf16Bits))
        XCTAssertEqual(convertToFP16(inputs), inputs.map(fp16Bits))
        let bfBits = inputs.map(bf16Bits), fpBits = inputs.map(fp16Bits)
        XCTAssertEqual(convertFromBF16(bfBits), bfBits.map(floatFromBF16Bits))
        XCTAssertEqual(convertFromFP16(fpBits), fpBits.map(floatFromFP16Bits))
        XCTAssertEqual(convertToBF16([Float]()), [])
        XCTAssertEqual(convertFromFP16([UInt16]()), [])
    }

    func testRelativeErrorBounds() {
        // The bounds the safetensors round-trip tests rely on: half an ulp, at most
        // 2^-8 relative for bf16 (8 significant bits) and 2^-11 for normal fp16 (11 bits).
        var rng = SeededRNG(seed: 7)
        for _ in 0..<10_000 {
            let x = rng.nextGaussian()
            XCTAssertLessThanOrEqual(abs(floatFromBF16Bits(bf16Bits(x)) - x), abs(x) * 0x1p-8)
            if abs(x) >= 0x1p-14 {
                XCTAssertLessThanOrEqual(abs(floatFromFP16Bits(fp16Bits(x)) - x), abs(x) * 0x1p-11)
            }
        }
    }
}
