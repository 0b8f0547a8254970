// Summary statistics of raw timing samples and the bootstrap interval for a
// speedup (ratio of medians), so a difference inside the noise is labelled so.
import InfCore

/// Percentile of an ascending-sorted array, q in [0, 1], by linear interpolation
/// between closest ranks (the "R-7" / NumPy default definition).
func samplePercentile(sorted xs: [Double], _ q: Double) -> Double {
    precondition(!xs.isEmpty, "percentile of an empty sample")
    if xs.count == 1 { return xs[0] }
    let pos = q * Double(xs.count - 1)
    let lo = Int(pos.rounded(.down))
    let hi = Swift.min(lo + 1, xs.count - 1)
    let frac = pos - Double(lo)
    return xs[lo] + (xs[hi] - xs[lo]) * frac
}

/// Median of an unsorted sample (sorts a copy).
func sampleMedian(_ xs: [Double]) -> Double {
    samplePercentile(sorted: xs.sorted(), 0.5)
}

extension SampleStats {
    /// Whether n samples support quantile q: at least two samples beyond it, so the
    /// figure is not simply the maximum (p90 needs n ≥ 20, p99 n ≥ 200).
    public static func supports(quantile q: Double, count n: Int) -> Bool {
        Double(n) * (1 - q) >= 2 - 1e-9
    }

    /// p90, or nil when the sample count does not support it.
    public var p90IfSupported: Double? { Self.supports(quantile: 0.9, count: count) ? p90 : nil }
    /// p99, or nil when the sample count does not support it.
    public var p99IfSupported: Double? { Self.supports(quantile: 0.99, count: count) ? p99 : nil }

    /// Statistics in seconds of samples measured in nanoseconds. An empty sample
    /// gives all zeros (nothing was measured); n = 1 gives stddev 0.
    public init(samplesNs: [UInt64]) {
        guard !samplesNs.isEmpty else {
            self.init(count: 0, median: 0, mean: 0, p90: 0, p99: 0, min: 0, max: 0, stddev: 0, cv: 0)
            return
        }
        let s = samplesNs.map { Double($0) * 1e-9 }.sorted()
        let n = Double(s.count)
        let mean = s.reduce(0, +) / n
        // Sample (n − 1) standard deviation: the samples estimate a run-to-run spread.
        let variance = s.count > 1 ? s.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        let sd = variance.squareRoot()
        self.init(count: s.count,
                  median: samplePercentile(sorted: s, 0.5),
                  mean: mean,
                  p90: samplePercentile(sorted: s, 0.9),
                  p99: samplePercentile(sorted: s, 0.99),
                  min: s[0], max: s[s.count - 1],
                  stddev: sd,
                  cv: mean > 0 ? sd / mean : 0)
    }
}

/// Uniform index in 0..<bound by multiply-shift: high 64 bits of next() × bound.
/// Spelled out rather than `Int.random(in:using:)`, whose algorithm the standard
/// library may change, so a stored seed replays the same interval on any
/// toolchain; the bias (≤ bound / 2⁶⁴) is far below anything measurable.
@inline(__always)
private func draw(below bound: Int, _ rng: inout SeededRNG) -> Int {
    Int(truncatingIfNeeded: UInt64(bound).multipliedFullWidth(by: rng.next()).high)
}

public enum Bootstrap {
    /// Speedup of `variantNs` over `baselineNs` as a ratio of medians
    /// (baseline / variant: > 1 means the variant is faster), with a percentile
    /// bootstrap interval: both sample sets are resampled with replacement,
    /// independently, `resamples` times, from one SeededRNG, so the same seed
    /// always gives the same interval.
    public static func speedup(baselineNs: [UInt64], variantNs: [UInt64], baselineName: String,
                               resamples: Int, confidence: Double = 0.95, seed: UInt64) -> Speedup {
        precondition(!baselineNs.isEmpty && !variantNs.isEmpty, "speedup needs samples on both sides")
        let base = baselineNs.map { Double($0) } // not map(Double.init): for UInt64 that picks Double(bitPattern:)
        let variant = variantNs.map { Double($0) }
        let ratio = sampleMedian(base) / sampleMedian(variant)
        guard resamples > 0 else {
            return Speedup(baseline: baselineName, ratio: ratio, low: ratio, high: ratio, confidence: confidence, seed: seed)
        }
        var rng = SeededRNG(seed: seed)
        var ratios = [Double]()
        ratios.reserveCapacity(resamples)
        var bufB = [Double](repeating: 0, count: base.count)
        var bufV = [Double](repeating: 0, count: variant.count)
        for _ in 0..<resamples {
            for i in 0..<base.count { bufB[i] = base[draw(below: base.count, &rng)] }
            for i in 0..<variant.count { bufV[i] = variant[draw(below: variant.count, &rng)] }
            bufB.sort()
            bufV.sort()
            ratios.append(samplePercentile(sorted: bufB, 0.5) / samplePercentile(sorted: bufV, 0.5))
        }
        ratios.sort()
        let alpha = (1 - confidence) / 2
        return Speedup(baseline: baselineName, ratio: ratio,
                       low: samplePercentile(sorted: ratios, alpha),
                       high: samplePercentile(sorted: ratios, 1 - alpha),
                       confidence: confidence, seed: seed)
    }
}
