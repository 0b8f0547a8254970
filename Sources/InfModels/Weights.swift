// Where a model's parameters come from: a safetensors checkpoint (every name
// and shape checked) or seeded generation (the bundled models ship configs
// only, so weights are identical on every machine for the same seed).
import Foundation
import InfCore

/// How a generated tensor is initialised.
public enum Init: Sendable {
    case normal(std: Float)
    case ones
    case zeros
}

public protocol WeightSource: AnyObject {
    /// The tensor `name` with exactly `shape`, or an error naming the tensor.
    func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor
    /// Names present in the source that the model never asked for.
    var unusedNames: [String] { get }
    var description: String { get }
}

/// Weights read from a .safetensors file. Every tensor is checked for NaN and ±inf as it
/// loads: one bad value poisons every output, and the quality columns would then compare
/// NaN with NaN. `allowNonFinite` lets such a checkpoint load (for experiments) with a note.
public final class CheckpointWeights: WeightSource {
    public let file: SafetensorsFile
    public let allowNonFinite: Bool
    private var used: Set<String> = []
    /// "tensor "x": 3 non-finite values (first at index 7)" for each allowed tensor.
    public private(set) var nonFiniteNotes: [String] = []

    public init(path: String, allowNonFinite: Bool = false) throws {
        file = try SafetensorsFile.open(path: path)
        self.allowNonFinite = allowNonFinite
    }

    public func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor {
        used.insert(name)
        let t = try file.tensor(name, shape: shape)
        if let (first, count, value) = firstNonFinite(t.storage) {
            let what = "tensor \"\(name)\" has \(count) non-finite value\(count == 1 ? "" : "s") (the first, \(value), at flat index \(first) of \(t.storage.count))"
            guard allowNonFinite else {
                throw ModelError("\(file.path): \(what); fix the checkpoint, or pass --allow-nonfinite (INFBENCH_ALLOW_NONFINITE=1 for any command) to load it for an experiment.")
            }
            nonFiniteNotes.append("\(file.path): \(what), loaded because non-finite weights are allowed: outputs may be NaN, and then their quality columns say nan.")
        }
        return t
    }

    public var unusedNames: [String] { file.names.filter { !used.contains($0) } }
    public var description: String { file.path }
}

/// Weights generated from a seed; each tensor's stream depends only on the
/// seed and its name, so adding a layer does not change the others.
public final class SeededWeights: WeightSource {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor {
        switch initialiser {
        case .ones: return Tensor(shape: shape) { _ in 1 }
        case .zeros: return Tensor(zeros: shape)
        case .normal(let std):
            var rng = SeededRNG(seed: seed ^ fnv1a(name))
            return Tensor.randomNormal(shape, std: std, rng: &rng)
        }
    }

    public var unusedNames: [String] { [] }
    public var description: String { "generated (seed \(seed))" }
}

/// 64-bit FNV-1a of a string's UTF-8 bytes.
func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}

/// Weights held in memory under their checkpoint names (e.g. a pruned copy of a model).
public final class TensorDictionaryWeights: WeightSource {
    public let tensors: [String: Tensor]
    public let label: String
    private var used: Set<String> = []

    public init(_ tensors: [String: Tensor], label: String) {
        self.tensors = tensors
        self.label = label
    }

    public func tensor(_ name: String, shape: [Int], initialiser: Init) throws -> Tensor {
        guard let t = tensors[name] else { throw ModelError("\(label): no tensor \"\(name)\".") }
        guard t.shape == shape else { throw ModelError("\(label): tensor \"\(name)\" has shape \(t.shape), expected \(shape).") }
        used.insert(name)
        return t
    }

    public var unusedNames: [String] { tensors.keys.filter { !used.contains($0) }.sorted() }
    public var description: String { label }
}

/// (first index, count, first value) of NaN / ±inf entries, nil when all are finite.
func firstNonFinite(_ values: [Float]) -> (Int, Int, Float)? {
    values.withUnsafeBufferPointer { p -> (Int, Int, Float)? in
        var first = -1, count = 0
        for i in 0..<p.count where !p[i].isFinite {
            if first < 0 { first = i }
            count += 1
        }
        return first < 0 ? nil : (first, count, p[first])
    }
}
