// Which generated dataset a trained model belongs to: config.json's
// "infbench_dataset" key. The loader regenerates the test split from it, so
// a trained model is fed real examples and the harness can report accuracy.
import InfCore

/// Labelled examples that can be batched into a model input.
public protocol LabelledExamples {
    var count: Int { get }
    var labels: [Int32] { get }
    /// The examples at `indices` as one model input (B = indices.count).
    func input(_ indices: [Int]) -> ModelInput
}

extension LabelledImages: LabelledExamples {
    public func input(_ indices: [Int]) -> ModelInput { .images(gather(indices: indices).images) }
}

extension LabelledSequences: LabelledExamples {
    /// Token ids with the padding mask (1 for tokens, 0 for [PAD] = 0).
    public func input(_ indices: [Int]) -> ModelInput {
        let ids = gather(indices: indices).ids
        return .tokens(ids: ids, mask: Tensor(shape: [indices.count, length], storage: ids.map { $0 == 0 ? 0 : 1 }),
                       batch: indices.count, length: length)
    }
}

public struct DatasetSpec: Codable, Sendable, Equatable {
    /// "shapes" (images) or "sentiment" (token sequences).
    public var name: String
    public var seed: UInt64
    /// Examples per split: train, validation, test.
    public var train: Int
    public var validation: Int
    public var test: Int
    /// Image side (shapes) or sequence length (sentiment).
    public var size: Int

    public init(name: String, seed: UInt64, train: Int, validation: Int, test: Int, size: Int) {
        self.name = name
        self.seed = seed
        self.train = train
        self.validation = validation
        self.test = test
        self.size = size
    }

    public static let names = ["shapes", "sentiment"]

    /// Nil when usable, else the sentence saying what is wrong.
    public func problem() -> String? {
        guard Self.names.contains(name) else { return "infbench_dataset name \"\(name)\" is not one infbench generates (\(Self.names.joined(separator: ", ")))" }
        for (key, v) in [("train", train), ("validation", validation), ("test", test)] where v < 0 || v > 1_000_000 {
            return "infbench_dataset \(key) = \(v) must lie in 0...1000000"
        }
        if size < 4 || size > 512 { return "infbench_dataset size = \(size) must lie in 4...512" }
        return nil
    }

    public func count(_ split: DataSplit) -> Int {
        switch split {
        case .train: return train
        case .validation: return validation
        case .test: return test
        }
    }

    /// Generates one split (deterministic: the same spec gives the same examples everywhere).
    public func generate(_ split: DataSplit, count: Int? = nil) -> LabelledExamples {
        let n = count ?? self.count(split)
        switch name {
        case "sentiment": return SentimentDataset.generate(split, count: n, seed: seed, length: size)
        default: return ShapesDataset.generate(split, count: n, seed: seed, size: size)
        }
    }
}
