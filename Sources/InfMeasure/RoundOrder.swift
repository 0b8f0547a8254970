// The order of the bodies within each round of the sampler. A fixed order (or
// A B C / C B A) lets one body always follow the same neighbour, and that
// neighbour's cache traffic becomes part of its time. A Williams design fixes
// that: over one cycle every body takes every slot equally often and follows
// every other body equally often; a seeded relabelling per cycle keeps any
// leftover pattern from favouring the same body every time.
import InfCore

public struct RoundOrder: Sendable {
    public let bodies: Int
    /// Rounds in one balanced cycle: n for even n, 2n for odd n (the square and its mirror).
    public var cycleLength: Int { bodies <= 1 ? 1 : (bodies % 2 == 0 ? bodies : 2 * bodies) }
    private var rng: SeededRNG
    private var labels: [Int]

    public init(bodies: Int, seed: UInt64) {
        self.bodies = bodies
        self.rng = SeededRNG(seed: seed)
        self.labels = Array(0..<bodies)
    }

    /// Row `r` of the Williams square on 0..<n: 0, 1, n−1, 2, n−2, … shifted by r;
    /// rows n..<2n (odd n only) are the first n reversed.
    static func williamsRow(_ r: Int, n: Int) -> [Int] {
        var first: [Int] = []
        var lo = 0, hi = n - 1
        for i in 0..<n {
            if i % 2 == 0 { first.append(lo); lo += 1 } else { first.append(hi); hi -= 1 }
        }
        // first = 0, n−1, 1, n−2, … ; the standard form 0, 1, n−1, 2, … is its mirror image under
        // x → −x mod n, and either balances; this one keeps the code to one loop.
        let shift = r % n
        let row = first.map { ($0 + shift) % n }
        return r >= n ? row.reversed() : row
    }

    /// The order for round `round` (0-based); a new seeded relabelling starts each cycle.
    public mutating func order(forRound round: Int) -> [Int] {
        guard bodies > 1 else { return Array(0..<bodies) }
        let r = round % cycleLength
        if r == 0 { labels.shuffle(using: &rng) }
        return Self.williamsRow(r, n: bodies).map { labels[$0] }
    }
}
