// A synthetic sentiment language whose label depends on order and scope, for training a
// teacher transformer and its students: a bag of words cannot tell "not good , bad" from
// "good , not bad", so a model has to attend to where the negators and "but" sit.
//
// The rule (`score(of:)`): a clause runs from [CLS] or "," to the next "," or [SEP].
//   word polarity  +1 positive, −1 negative, 0 otherwise
//   × 2  if the word directly follows "very"
//   × −1 if "not" or "never" appears earlier in the same clause
//   × 2  for every word of a clause that opens with "but"
// score = sum; negative if score ≤ −2, positive if score ≥ 2, neutral otherwise.
import InfCore

public enum SentimentDataset {
    public static let classNames = ["negative", "neutral", "positive"]

    /// Ids are indices: [PAD] = 0, [CLS] = 1, [SEP] = 2, then function words, 8 positive,
    /// 8 negative and 24 neutral fillers.
    public static let vocabulary: [String] = [
        "[PAD]", "[CLS]", "[SEP]", ",", "but", "not", "never", "very",
        "good", "great", "fine", "happy", "nice", "love", "excellent", "fun",
        "bad", "awful", "poor", "sad", "boring", "hate", "terrible", "dull",
        "the", "a", "this", "that", "it", "movie", "film", "plot",
        "story", "acting", "music", "ending", "cast", "script", "scenes", "director",
        "was", "is", "felt", "seemed", "looked", "and", "i", "overall",
    ]
    public static var vocabularySize: Int { vocabulary.count }

    static let pad: Int32 = 0, cls: Int32 = 1, sep: Int32 = 2, comma: Int32 = 3
    static let but: Int32 = 4, not: Int32 = 5, never: Int32 = 6, very: Int32 = 7
    static let positive: Range<Int32> = 8..<16
    static let negative: Range<Int32> = 16..<24
    static let fillers: Range<Int32> = 24..<48

    /// Keeps this dataset's random numbers apart from other datasets' with the same seed.
    static let stream: UInt64 = 0x5345_4E54 // "SENT"

    /// `count` sequences (count, length) of `split`: [CLS] clauses [SEP] [PAD]…, classes
    /// balanced in expectation. Sequence i depends only on (seed, split, i, length).
    public static func generate(_ split: DataSplit, count: Int, seed: UInt64 = 1, length: Int = 32) -> LabelledSequences {
        precondition(count >= 0 && length >= 4, "sentiment needs count >= 0 and length >= 4 (got \(count), \(length))")
        var ids = [Int32](repeating: pad, count: count * length)
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            var rng = SeededRNG(seed: split.exampleSeed(stream: stream, seed: seed, index: i))
            // Draw the class first, then sentences until one has it: exact balance in
            // expectation, whatever the natural mix of scores.
            let target = Int32(rng.nextInt(below: classNames.count))
            var words: [Int32]
            var attempts = 0
            repeat {
                words = sentence(budget: length - 2, &rng)
                attempts += 1
                precondition(attempts < 10_000, "no sentence of class \(target) fits in length \(length)")
            } while label(of: words[...]) != target
            let row = i * length
            ids[row] = cls
            for (j, w) in words.enumerated() { ids[row + 1 + j] = w }
            ids[row + 1 + words.count] = sep
            labels[i] = target
        }
        return LabelledSequences(ids: ids, length: length, labels: labels, classNames: classNames)
    }

    // MARK: The rule

    /// +1, −1 or 0.
    static func polarity(_ id: Int32) -> Int {
        positive.contains(id) ? 1 : negative.contains(id) ? -1 : 0
    }

    /// The sentence's score under the rule above; stops at the first [SEP] or [PAD].
    public static func score(of ids: ArraySlice<Int32>) -> Int {
        var total = 0
        var clauseWeight = 1, negated = false, clauseStart = true, afterVery = false
        for id in ids {
            switch id {
            case sep, pad:
                return total
            case cls:
                continue
            case comma:
                (clauseWeight, negated, clauseStart, afterVery) = (1, false, true, false)
                continue
            case but where clauseStart:
                clauseWeight = 2
            case not, never:
                negated = true
            default:
                total += clauseWeight * polarity(id) * (afterVery ? 2 : 1) * (negated ? -1 : 1)
            }
            clauseStart = false
            afterVery = id == very
        }
        return total
    }

    /// 0 negative (score ≤ −2), 1 neutral, 2 positive (score ≥ 2).
    public static func label(of ids: ArraySlice<Int32>) -> Int32 {
        let s = score(of: ids)
        return s <= -2 ? 0 : s >= 2 ? 2 : 1
    }

    // MARK: Generation

    /// Words between [CLS] and [SEP]: 1–4 clauses joined by ",", at most `budget` ids.
    static func sentence(budget: Int, _ rng: inout SeededRNG) -> [Int32] {
        var words: [Int32] = []
        let clauses = 1 + rng.nextInt(below: 4)
        for c in 0..<clauses {
            let clause = self.clause(first: c == 0, &rng)
            if c == 0 {
                words = Array(clause.prefix(budget))
            } else if words.count + 1 + clause.count <= budget {
                words.append(comma)
                words += clause
            } else {
                break
            }
        }
        return words
    }

    /// 2–6 content words, 0–2 of them with a polarity, then the words that change their
    /// weight dropped in at random places — so a negator lands after the sentiment words
    /// (and changes nothing) as often as before them.
    static func clause(first: Bool, _ rng: inout SeededRNG) -> [Int32] {
        let n = 2 + rng.nextInt(below: 5)
        var words = (0..<n).map { _ in fillers.lowerBound + Int32(rng.nextInt(below: fillers.count)) }
        let r = rng.nextUnitFloat()
        for _ in 0..<(r < 0.2 ? 0 : r < 0.75 ? 1 : 2) {
            let range = rng.nextUnitFloat() < 0.5 ? positive : negative
            words[rng.nextInt(below: n)] = range.lowerBound + Int32(rng.nextInt(below: range.count))
        }
        // "very" before 30% of sentiment words, and before 10% of fillers as a decoy.
        for j in stride(from: words.count - 1, through: 0, by: -1) {
            let p: Float = polarity(words[j]) != 0 ? 0.3 : 0.1
            if rng.nextUnitFloat() < p { words.insert(very, at: j) }
        }
        if rng.nextUnitFloat() < 0.45 {
            words.insert(rng.nextUnitFloat() < 0.5 ? not : never, at: rng.nextInt(below: words.count + 1))
        }
        if !first && rng.nextUnitFloat() < 0.35 { words.insert(but, at: 0) }
        return words
    }
}
