// The generated datasets: seeds and splits give fixed, disjoint, prefix-stable streams; images
// and sequences are well formed and balanced; the sentiment rule does what its comment says and
// needs word order; and the shapes are not so easy that class means on raw pixels solve them.
// INFBENCH_DATASET_TIMING=1 also times 20 000 images (meaningful in a release build only).
import Foundation
import InfCore
import XCTest
@testable import InfModels

final class DatasetTests: XCTestCase {

    // MARK: Seeds, splits and prefixes

    func testShapesAreDeterminedBySeed() {
        let a = ShapesDataset.generate(.train, count: 40, seed: 7)
        let b = ShapesDataset.generate(.train, count: 40, seed: 7)
        let c = ShapesDataset.generate(.train, count: 40, seed: 8)
        XCTAssertEqual(a.images, b.images, "same seed, same pixels")
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(sharedImages(a, c), 0, "another seed must give other images")
    }

    func testShapesShortSplitIsPrefixOfLongOne() {
        let short = ShapesDataset.generate(.validation, count: 25, seed: 3)
        let long = ShapesDataset.generate(.validation, count: 60, seed: 3)
        XCTAssertEqual(short.images, long.subset(0..<25).images)
        XCTAssertEqual(short.labels, Array(long.labels.prefix(25)))
    }

    func testShapesSplitsDiffer() {
        let splits = DataSplit.allCases.map { ShapesDataset.generate($0, count: 30) }
        for i in splits.indices { for j in splits.indices where i < j {
            XCTAssertEqual(sharedImages(splits[i], splits[j]), 0, "\(DataSplit.allCases[i]) and \(DataSplit.allCases[j]) share images")
        } }
    }

    func testSentimentIsDeterminedBySeedAndPrefixStable() {
        let a = SentimentDataset.generate(.train, count: 200, seed: 5)
        XCTAssertEqual(a.ids, SentimentDataset.generate(.train, count: 200, seed: 5).ids)
        XCTAssertNotEqual(a.ids, SentimentDataset.generate(.train, count: 200, seed: 6).ids)
        let long = SentimentDataset.generate(.train, count: 500, seed: 5)
        XCTAssertEqual(a.ids, long.subset(0..<200).ids, "a shorter split must be a prefix of a longer one")
        XCTAssertEqual(a.labels, Array(long.labels.prefix(200)))
        let test = SentimentDataset.generate(.test, count: 200, seed: 5)
        let same = (0..<200).filter { a.sequence($0) == test.sequence($0) }.count
        XCTAssertLessThan(same, 5, "train and test must be different streams")
    }

    // MARK: Batches

    func testSubsetAndGatherPickTheRightExamples() {
        let images = ShapesDataset.generate(.train, count: 10, size: 16)
        let g = images.gather(indices: [7, 2, 7])
        XCTAssertEqual(g.images.shape, [3, 3, 16, 16])
        XCTAssertEqual(g.labels, [images.labels[7], images.labels[2], images.labels[7]])
        XCTAssertEqual(g.subset(1..<2).images, images.subset(2..<3).images)
        let sequences = SentimentDataset.generate(.train, count: 10, length: 20)
        let h = sequences.gather(indices: [4, 0])
        XCTAssertEqual(h.sequence(0), sequences.sequence(4))
        XCTAssertEqual(h.sequence(1), sequences.subset(0..<1).sequence(0))
        XCTAssertEqual(h.labels, [sequences.labels[4], sequences.labels[0]])
    }

    // MARK: Shapes

    func testShapeImagesAreWellFormed() {
        for size in [32, 48] {
            let d = ShapesDataset.generate(.train, count: 200, size: size)
            XCTAssertEqual(d.images.shape, [200, 3, size, size])
            XCTAssertEqual(d.classNames.count, 10)
            XCTAssertTrue(d.labels.allSatisfy { (0..<10).contains($0) })
            XCTAssertTrue(d.images.storage.allSatisfy { $0 >= -1 && $0 <= 1 }, "pixels must lie in [-1, 1]")
            let (mean, std) = meanAndStd(d.images.storage)
            XCTAssertLessThan(abs(mean), 0.15, "pixels should be roughly zero-mean")
            XCTAssertGreaterThan(std, 0.3, "pixels should use most of [-1, 1]")
        }
    }

    func testShapeClassesAreBalanced() {
        let d = ShapesDataset.generate(.train, count: 2000)
        let shares = classShares(d.labels, classes: 10)
        print("shapes class shares over 2000:", shares.map { String(format: "%.3f", $0) }.joined(separator: " "))
        for (c, s) in shares.enumerated() {
            XCTAssert((0.07...0.13).contains(s), "\(ShapesDataset.classNames[c]) is \(s) of the images")
        }
    }

    /// Guards against a dataset so easy that one template per class solves it.
    func testNearestClassMeanOnRawPixelsIsPoor() {
        let train = ShapesDataset.generate(.train, count: 2000), test = ShapesDataset.generate(.test, count: 1000)
        let per = 3 * 32 * 32
        var means = [Float](repeating: 0, count: 10 * per), counts = [Float](repeating: 0, count: 10)
        var correct = 0
        // Pointers, not subscripts: 30 M multiply-adds must be quick in a debug build too.
        means.withUnsafeMutableBufferPointer { m in
            train.images.storage.withUnsafeBufferPointer { x in
                for i in 0..<train.count {
                    let c = Int(train.labels[i])
                    counts[c] += 1
                    for j in 0..<per { m[c * per + j] += x[i * per + j] }
                }
            }
            for c in 0..<10 { for j in 0..<per { m[c * per + j] /= counts[c] } }
            test.images.storage.withUnsafeBufferPointer { x in
                for i in 0..<test.count {
                    var best = 0, bestDistance = Float.infinity
                    for c in 0..<10 {
                        var d: Float = 0
                        for j in 0..<per { let e = x[i * per + j] - m[c * per + j]; d += e * e }
                        if d < bestDistance { (best, bestDistance) = (c, d) }
                    }
                    if best == Int(test.labels[i]) { correct += 1 }
                }
            }
        }
        let accuracy = Float(correct) / Float(test.count)
        print("shapes nearest-class-mean accuracy on raw pixels: \(accuracy)")
        XCTAssertLessThan(accuracy, 0.6)
    }

    /// Plus and x, horizontal and vertical stripes differ only in angle: at any allowed
    /// rotation the drawn pixels must keep the class's orientation.
    func testRotatedShapesKeepTheirOrientation() {
        var rng = SeededRNG(seed: 11)
        for _ in 0..<200 {
            let h = mask(ShapesDataset.Shape(.horizontalStripes, size: 32, unit: 1, &rng))
            XCTAssertGreaterThan(transitions(h, alongRows: false), transitions(h, alongRows: true), "horizontal stripes: bars cross columns")
            let v = mask(ShapesDataset.Shape(.verticalStripes, size: 32, unit: 1, &rng))
            XCTAssertGreaterThan(transitions(v, alongRows: true), transitions(v, alongRows: false), "vertical stripes: bars cross rows")
            let plus = ShapesDataset.Shape(.plus, size: 32, unit: 1, &rng)
            XCTAssertGreaterThan(axisShare(plus), 0.5, "a plus's arms point along the axes")
            let x = ShapesDataset.Shape(.x, size: 32, unit: 1, &rng)
            XCTAssertLessThan(axisShare(x), 0.5, "an x's arms point along the diagonals")
        }
    }

    func testDifficultyScalesPixelNoise() {
        let roughness = [0, 1, 2].map { (d: Float) -> Float in
            let s = ShapesDataset.generate(.train, count: 50, difficulty: d).images.storage
            return (1..<s.count).reduce(Float(0)) { $0 + abs(s[$1] - s[$1 - 1]) } / Float(s.count)
        }
        XCTAssertLessThan(roughness[0], roughness[1])
        XCTAssertLessThan(roughness[1], roughness[2])
    }

    func testGenerationTiming() throws {
        guard ProcessInfo.processInfo.environment["INFBENCH_DATASET_TIMING"] != nil else {
            throw XCTSkip("set INFBENCH_DATASET_TIMING=1 to time generation")
        }
        let start = Date()
        let d = ShapesDataset.generate(.train, count: 20_000)
        let seconds = Date().timeIntervalSince(start)
        print("20 000 shape images in \(String(format: "%.2f", seconds)) s (\(d.count) labels)")
        #if !DEBUG
        XCTAssertLessThan(seconds, 3)
        #endif
    }

    // MARK: Sentiment

    func testSentencesAreWellFormed() {
        let d = SentimentDataset.generate(.train, count: 1000, length: 32)
        var wordCounts = Set<Int>()
        for i in 0..<d.count {
            let row = Array(d.sequence(i))
            XCTAssertEqual(row.first, SentimentDataset.cls)
            guard let end = row.firstIndex(of: SentimentDataset.sep) else { return XCTFail("sequence \(i) has no [SEP]") }
            XCTAssertTrue(row[(end + 1)...].allSatisfy { $0 == SentimentDataset.pad }, "only [PAD] after [SEP]")
            let words = row[1..<end]
            XCTAssertTrue(words.allSatisfy { $0 > SentimentDataset.sep && Int($0) < SentimentDataset.vocabularySize })
            XCTAssertEqual(d.labels[i], SentimentDataset.label(of: row[...]))
            wordCounts.insert(words.count)
        }
        XCTAssertGreaterThan(wordCounts.count, 15, "sentence lengths should vary: \(wordCounts.sorted())")
        XCTAssertEqual(SentimentDataset.vocabulary.count, Set(SentimentDataset.vocabulary).count, "words are unique")
        XCTAssertEqual(SentimentDataset.generate(.test, count: 50, length: 8).ids.count, 50 * 8)
    }

    func testSentimentClassesAreBalanced() {
        let d = SentimentDataset.generate(.train, count: 3000)
        let shares = classShares(d.labels, classes: 3)
        print("sentiment class shares over 3000:", shares.map { String(format: "%.3f", $0) }.joined(separator: " "))
        for (c, s) in shares.enumerated() {
            XCTAssert((0.25...0.42).contains(s), "\(SentimentDataset.classNames[c]) is \(s) of the sentences")
        }
    }

    func testSentimentRuleOnHandWrittenSentences() {
        let cases: [(String, Int)] = [
            ("good", 1), ("good great", 2), ("bad awful", -2),
            ("not good great", -2),             // negation runs to the end of the clause…
            ("not good , great", 0),            // …but not across the comma
            ("great not", 1),                   // a negator after the word changes nothing
            ("never bad , fine", 2),
            ("very good", 2), ("very the good", 1), // "very" must directly precede
            ("not very good", -2), ("very not good", -1),
            ("good , but bad", -1),             // "but" doubles the clause it opens
            ("bad , but very good", 3),
            ("good , the but bad", 0),          // "but" inside a clause is a filler
            ("bad , but not bad , good", 2),
            ("[CLS] but good [SEP] bad bad", 2), // [SEP] ends the sentence
            ("good good [PAD] bad bad bad", 2),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(SentimentDataset.score(of: ids(text)[...]), expected, text)
        }
        XCTAssertEqual(SentimentDataset.label(of: ids("not good great")[...]), 0)
        XCTAssertEqual(SentimentDataset.label(of: ids("good , but bad")[...]), 1)
        XCTAssertEqual(SentimentDataset.label(of: ids("bad , but very good")[...]), 2)
    }

    func testBagOfWordsDoesNotDetermineTheLabel() {
        // The same multiset of words, opposite classes.
        let a = ids("[CLS] not good , bad [SEP]"), b = ids("[CLS] good , not bad [SEP]")
        XCTAssertEqual(a.sorted(), b.sorted())
        XCTAssertEqual(SentimentDataset.label(of: a[...]), 0)
        XCTAssertEqual(SentimentDataset.label(of: b[...]), 2)

        // Shuffling the words of generated sentences changes many labels, and counting
        // polarities while ignoring "not", "very" and "but" gets many wrong.
        let d = SentimentDataset.generate(.train, count: 2000)
        var rng = SeededRNG(seed: 99)
        var changed = 0, naiveRight = 0
        for i in 0..<d.count {
            let row = Array(d.sequence(i))
            let end = row.firstIndex(of: SentimentDataset.sep)!
            var words = Array(row[1..<end])
            words.shuffle(using: &rng)
            if SentimentDataset.label(of: ([SentimentDataset.cls] + words)[...]) != d.labels[i] { changed += 1 }
            let naive = row.reduce(0) { $0 + SentimentDataset.polarity($1) }
            if (naive <= -2 ? 0 : naive >= 2 ? 2 : 1) == d.labels[i] { naiveRight += 1 }
        }
        print("sentiment: shuffling words changes \(changed) of \(d.count) labels; naive polarity count is right on \(naiveRight)")
        XCTAssertGreaterThan(changed, d.count / 5)
        XCTAssertLessThan(naiveRight, d.count * 3 / 4)
    }

    // MARK: Helpers

    private func ids(_ text: String) -> [Int32] {
        text.split(separator: " ").map { word in
            Int32(SentimentDataset.vocabulary.firstIndex(of: String(word)) ?? { XCTFail("no word \(word)"); return 0 }())
        }
    }

    /// How many images of `a` also occur, pixel for pixel, in `b`.
    private func sharedImages(_ a: LabelledImages, _ b: LabelledImages) -> Int {
        let rows = Set((0..<b.count).map { b.subset($0..<($0 + 1)).images.storage })
        return (0..<a.count).filter { rows.contains(a.subset($0..<($0 + 1)).images.storage) }.count
    }

    private func classShares(_ labels: [Int32], classes: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: classes)
        for l in labels { counts[Int(l)] += 1 }
        return counts.map { Double($0) / Double(labels.count) }
    }

    private func meanAndStd(_ x: [Float]) -> (Float, Float) {
        let mean = x.reduce(0, +) / Float(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(x.count)
        return (mean, variance.squareRoot())
    }

    /// The 32×32 pixel centres inside `shape`, row-major.
    private func mask(_ shape: ShapesDataset.Shape) -> [Bool] {
        (0..<(32 * 32)).map { shape.contains(Float($0 % 32) + 0.5, Float($0 / 32) + 0.5) }
    }

    /// Inside/outside changes walking along rows (or down columns).
    private func transitions(_ m: [Bool], alongRows: Bool) -> Int {
        var n = 0
        for a in 0..<32 { for b in 1..<32 {
            let (here, before) = alongRows ? (a * 32 + b, a * 32 + b - 1) : (b * 32 + a, (b - 1) * 32 + a)
            if m[here] != m[before] { n += 1 }
        } }
        return n
    }

    /// Of the pixels inside `shape` in its outer half, the share nearer an axis than a diagonal.
    private func axisShare(_ shape: ShapesDataset.Shape) -> Double {
        var axis = 0, all = 0
        for p in 0..<(32 * 32) {
            let dx = Float(p % 32) + 0.5 - shape.cx, dy = Float(p / 32) + 0.5 - shape.cy
            guard shape.contains(shape.cx + dx, shape.cy + dy),
                  (dx * dx + dy * dy).squareRoot() * shape.inverseHalf > 0.5 else { continue }
            all += 1
            if min(abs(dx), abs(dy)) < 0.41421356 * max(abs(dx), abs(dy)) { axis += 1 } // tan 22.5°
        }
        return Double(axis) / Double(max(all, 1))
    }
}
