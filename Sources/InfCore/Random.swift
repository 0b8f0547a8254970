// A small seeded generator (SplitMix64) so weights, inputs and bootstrap
// resamples are identical on every machine for the same seed.
import Foundation

public struct SeededRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u1 = Swift.max(Double(next() >> 11) * (1.0 / Double(1 << 53)), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Uniform integer in 0..<bound.
    public mutating func nextInt(below bound: Int) -> Int {
        Int.random(in: 0..<bound, using: &self)
    }
}

extension Tensor {
    /// Normal(0, std²) entries from a seeded generator: the bundled models' weights.
    public static func randomNormal(_ shape: [Int], std: Float, rng: inout SeededRNG) -> Tensor {
        Tensor(shape: shape) { _ in rng.nextGaussian() * std }
    }

    /// Uniform entries in [low, high] (the upper bound is reachable through rounding).
    public static func randomUniform(_ shape: [Int], in range: ClosedRange<Float>, rng: inout SeededRNG) -> Tensor {
        let width = range.upperBound - range.lowerBound
        return Tensor(shape: shape) { _ in range.lowerBound + rng.nextUnitFloat() * width }
    }
}

