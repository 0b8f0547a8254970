// The memory-bandwidth roof beside the sgemm roofline: a STREAM-triad-like loop (a = b + s·c over
// three arrays of 64 MiB, twice the 32 MiB L3 of this machine class and more than most servers'
// per-socket L3 share), measured in the same run. A batch-1 forward pass or a decoding step
// reads every weight once and does little arithmetic with each, so its speed is bounded by this
// roof, not by GFLOP/s: a row's "% bandwidth" is its weight bytes per pass over its median time,
// as a share of the triad's bytes per second at the same thread count.
import InfCore

/// Bandwidth measured at one thread count.
public struct BandwidthPoint: Codable, Sendable, Equatable {
    public var threads: Int
    /// Bytes one triad pass moves: 3 arrays × count × 4 (two read, one written; STREAM's convention,
    /// which does not count the write-allocate read).
    public var bytesPerPass: Int
    public var samplesNs: [UInt64]
    /// From the median sample.
    public var gbPerSecond: Double
}

/// Floats per triad array: 64 MiB.
public let triadArrayFloats = 16 << 20

/// Times a[i] = b[i] + s·c[i] over `floats`-long arrays, split over `threads` of infbench's own
/// threads (contiguous chunks, as STREAM's OpenMP loop). Arrays are allocated and first touched by
/// the same chunking outside the timed region, then freed: measure after the grid so the model
/// rows' peak RSS does not include them.
public func measureTriadBandwidth(threads: Int, floats: Int = triadArrayFloats, policy: MeasurementPolicy) -> BandwidthPoint {
    let context = ExecutionContext(threads: threads)
    let a = UnsafeMutablePointer<Float>.allocate(capacity: floats)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: floats)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: floats)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    let minChunk = 1 << 16
    context.forChunks(floats, minChunk: minChunk) { _, r in
        (a + r.lowerBound).initialize(repeating: 0, count: r.count)
        (b + r.lowerBound).initialize(repeating: 1, count: r.count)
        (c + r.lowerBound).initialize(repeating: 2, count: r.count)
    }
    let measured = measureInterleaved([{
        context.forChunks(floats, minChunk: minChunk) { _, r in
            triadKernel(a + r.lowerBound, b + r.lowerBound, c + r.lowerBound, scale: 3, count: r.count)
        }
    }], policy: policy)[0]
    let bytes = 3 * floats * MemoryLayout<Float>.stride
    let median = SampleStats(samplesNs: measured.samplesNs).median
    return BandwidthPoint(threads: threads, bytesPerPass: bytes, samplesNs: measured.samplesNs,
                          gbPerSecond: median > 0 ? Double(bytes) / median / 1e9 : 0)
}

extension ResultRow {
    /// Weight bytes read per run over the median time, as a percentage of `bandwidth`.
    mutating func setBandwidthShare(_ bandwidth: BandwidthPoint) {
        guard let bytes = bytesReadPerRun, stats.median > 0, bandwidth.gbPerSecond > 0 else { return }
        bandwidthPercent = 100 * Double(bytes) / stats.median / 1e9 / bandwidth.gbPerSecond
    }
}

extension [ResultRow] {
    /// Measures the triad at every thread count of these rows (after them: its arrays must not
    /// count in their peak RSS) and gives each row its share.
    public mutating func measureBandwidthShares(policy: MeasurementPolicy, progress: (String) -> Void = { _ in }) -> [BandwidthPoint] {
        let threads = Set(compactMap { $0.bytesReadPerRun == nil ? nil : $0.threads }).sorted()
        let points = threads.map { t -> BandwidthPoint in
            progress("memory bandwidth (triad) at \(t) thread(s)")
            return measureTriadBandwidth(threads: t, policy: policy)
        }
        for i in indices {
            if let p = points.first(where: { $0.threads == self[i].threads }) { self[i].setBandwidthShare(p) }
        }
        return points
    }
}

/// "memory bandwidth (triad, 3 × 64 MiB): 1 thr 31.2 GB/s, 2 thr 38.5 GB/s"
func bandwidthLine(_ points: [BandwidthPoint]?) -> String? {
    guard let points, let first = points.first else { return nil }
    let mib = (first.bytesPerPass / 3) >> 20
    return "memory bandwidth (triad, 3 × \(mib) MiB): " + points.map { "\($0.threads) thr \(fixed($0.gbPerSecond, 1)) GB/s" }.joined(separator: ", ")
}

extension Array {
    /// nil for an empty array (an optional JSON field left out rather than written as []).
    public var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
