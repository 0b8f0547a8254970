// Where the baseline and its A/A run. Two copies of one model are never quite the
// same machine: where their weights and scratch buffers land (alignment, pages,
// cache sets) makes one copy a percent or more faster than the other, run after
// run. The committed results showed it per model — cnn-small's copy 1–2 % faster
// in every group, sentiment-teacher's 2–7 % slower — so a fixed baseline beside
// a fixed copy measured placement, not noise, and the A/A excluded 1× far above
// its nominal rate. Here the baseline and its A/A draw every run from one pool of
// identical copies: both rows see the same mixture of placements, and the A/A
// interval covers what is left, the noise.
import InfCore
import InfMeasure
import InfModels

public final class TwinPool<Member> {
    /// Copies in a pool: the baseline, the A/A copy and two more. Four keeps each draw a
    /// choice among three (never the copy just run) at the cost of two more weight copies.
    public static var size: Int { 4 }

    private let members: [Member]
    private var rng: SeededRNG
    private var last = -1
    private var draws = 0

    /// `members`: identical copies (the first is the baseline itself), each with its own memory.
    public init(_ members: [Member], seed: UInt64) {
        precondition(members.count >= 2, "a twin pool needs the baseline and at least one copy")
        self.members = members
        self.rng = SeededRNG(seed: seed)
    }

    /// The copy for the next run of either row. The first draws take every copy once, in
    /// order, so each is warm (scratch allocated, pages touched) before measurement starts;
    /// after that a uniform draw among all but the copy just run, by either row — a run never
    /// finds the weights its twin left in the cache.
    public func next() -> Member {
        let i: Int
        if draws < members.count {
            i = draws
        } else {
            let j = rng.nextInt(below: members.count - 1)
            i = j >= last ? j + 1 : j
        }
        draws += 1
        last = i
        return members[i]
    }
}

extension TwinPool where Member == InferenceModel {
    /// `model` and `size − 1` deep copies of it (see `InferenceModel.deepCopy`).
    public convenience init(model: InferenceModel, seed: UInt64) {
        self.init([model] + (1..<Self.size).map { _ in model.deepCopy() }, seed: seed)
    }
}

extension TwinPool {
    /// What every A/A row's "executes" says about the pool.
    public static var aaNote: String {
        "identical code; it and the baseline each run on one of \(size) identical copies of the weights, drawn per run: the noise floor"
    }
}
