// Labelled examples for training and scoring models: images (N, C, H, W) or token
// sequences (N, T), each with a class. The generated datasets derive every example's
// generator from (dataset, seed, split, index) alone, so splits are disjoint streams and
// `generate(split, count: 100)` is a prefix of `generate(split, count: 1000)`.
import InfCore

public enum DataSplit: String, Sendable, CaseIterable {
    case train, validation, test

    /// The seed of example `index`: a function of (stream, seed, split, index) only, never of
    /// how many examples this or another split holds. `stream` keeps two datasets generated
    /// with the same seed from sharing random numbers.
    func exampleSeed(stream: UInt64, seed: UInt64, index: Int) -> UInt64 {
        let splitTag: UInt64 = switch self { case .train: 1; case .validation: 2; case .test: 3 }
        let splitSeed = mixBits(mixBits(mixBits(stream) ^ seed) ^ splitTag)
        return mixBits(splitSeed ^ UInt64(index))
    }
}

/// SplitMix64's finaliser: a bijection that spreads every input bit over the output, so
/// neighbouring indices or seeds give unrelated generator states.
@inline(__always)
func mixBits(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Images (N, C, H, W) with a class per image.
public struct LabelledImages: Sendable {
    public var images: Tensor       // (N, C, H, W)
    public var labels: [Int32]      // (N), indices into classNames
    public var classNames: [String]

    public init(images: Tensor, labels: [Int32], classNames: [String]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "images \(images.shape) do not match \(labels.count) labels")
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { labels.count }
    /// (C, H, W) of one image.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// Images `range` as a batch (contiguous, for mini-batches in order).
    public func subset(_ range: Range<Int>) -> LabelledImages {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "subset \(range) of \(count) images")
        let per = imageShape.reduce(1, *)
        let storage = Array(images.storage[(range.lowerBound * per)..<(range.upperBound * per)])
        return LabelledImages(images: Tensor(shape: [range.count] + imageShape, storage: storage),
                              labels: Array(labels[range]), classNames: classNames)
    }

    /// Images `indices` in that order (for shuffled mini-batches).
    public func gather(indices: [Int]) -> LabelledImages {
        let per = imageShape.reduce(1, *)
        var storage: [Float] = []
        storage.reserveCapacity(indices.count * per)
        for i in indices {
            precondition(i >= 0 && i < count, "index \(i) out of \(count) images")
            storage.append(contentsOf: images.storage[(i * per)..<((i + 1) * per)])
        }
        return LabelledImages(images: Tensor(shape: [indices.count] + imageShape, storage: storage),
                              labels: indices.map { labels[$0] }, classNames: classNames)
    }
}

/// Token sequences (N, T) as row-major Int32 ids with a class per sequence.
public struct LabelledSequences: Sendable {
    public var ids: [Int32]         // (N, T), padded with [PAD] = 0 at the end of each row
    public var length: Int          // T
    public var labels: [Int32]      // (N), indices into classNames
    public var classNames: [String]

    public init(ids: [Int32], length: Int, labels: [Int32], classNames: [String]) {
        precondition(length > 0 && ids.count == labels.count * length,
                     "\(ids.count) ids are not \(labels.count) sequences of \(length)")
        self.ids = ids
        self.length = length
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { labels.count }

    /// The ids of sequence `i`, (T).
    public func sequence(_ i: Int) -> ArraySlice<Int32> { ids[(i * length)..<((i + 1) * length)] }

    /// Sequences `range` as a batch (contiguous, for mini-batches in order).
    public func subset(_ range: Range<Int>) -> LabelledSequences {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "subset \(range) of \(count) sequences")
        return LabelledSequences(ids: Array(ids[(range.lowerBound * length)..<(range.upperBound * length)]),
                                 length: length, labels: Array(labels[range]), classNames: classNames)
    }

    /// Sequences `indices` in that order (for shuffled mini-batches).
    public func gather(indices: [Int]) -> LabelledSequences {
        var out: [Int32] = []
        out.reserveCapacity(indices.count * length)
        for i in indices {
            precondition(i >= 0 && i < count, "index \(i) out of \(count) sequences")
            out.append(contentsOf: sequence(i))
        }
        return LabelledSequences(ids: out, length: length, labels: indices.map { labels[$0] }, classNames: classNames)
    }
}
