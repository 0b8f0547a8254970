// Fine-tuning after pruning: "prune-…+ft" (or "+ft:E" for E epochs) prunes as the
// base technique does, then trains the pruned model for a few epochs on the training
// split of the dataset it was trained on (config infbench_dataset), with the same
// trainer `infbench distill` uses. Unstructured pruning keeps its zeros: each pruned
// matrix gets a mask that pins them, and the result is stored as CSR again.
import InfCore
import InfModels
import InfTrain

public struct FineTuned: Technique {
    public let base: Technique
    public let epochs: Int
    /// Adam at a small learning rate: the pruned weights are close to a good solution already.
    public static let learningRate: Float = 5e-4
    public static let batchSize = 64

    public init(base: Technique, epochs: Int) {
        self.base = base
        self.epochs = epochs
    }

    /// "<pruning technique>+ft" or "+ft:E"; nil without the suffix.
    public static func parse(_ spec: String, base parseBase: (String) throws -> Technique) throws -> FineTuned? {
        guard let range = spec.range(of: "+ft") else { return nil }
        let baseSpec = String(spec[..<range.lowerBound]), rest = spec[range.upperBound...]
        var epochs = 2
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let e = Int(rest.dropFirst()), (1...100).contains(e) else {
                throw TechniqueError(message: "technique \"\(spec)\": write +ft or +ft:E with 1 ≤ E ≤ 100 epochs, e.g. \(baseSpec)+ft:3.")
            }
            epochs = e
        }
        let base = try parseBase(baseSpec)
        guard base is PruneUnstructured || base is PruneStructured else {
            throw TechniqueError(message: "technique \"\(spec)\": +ft fine-tunes a pruned model; \"\(baseSpec)\" is not a pruning technique.")
        }
        return FineTuned(base: base, epochs: epochs)
    }

    public var name: String { "\(base.name)+ft" + (epochs == 2 ? "" : ":\(epochs)") }

    public var executes: String {
        "\(base.executes); then fine-tuned \(epochs) epoch(s) on the training split (Adam, lr \(Self.learningRate), batch \(Self.batchSize)"
            + (base is PruneUnstructured ? ", pruned weights pinned at zero)" : ")")
    }

    public func describe(_ applied: InferenceModel, original: LoadedModel) -> String? {
        base.describe(applied, original: original)
    }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        guard let spec = loaded.config.dataset else {
            throw TechniqueError(message: "\(name): \(loaded.model.name) has no infbench_dataset to fine-tune on (fine-tuning applies to the models `infbench distill` trains).")
        }
        let pruned = try base.apply(to: loaded)
        guard let model = pruned as? any TrainableModel & RegisteredModel, let trainable = model.makeTrainable() else {
            throw TechniqueError(message: "\(name): \(loaded.model.name) is not a classifier infbench can train.")
        }
        if base is PruneUnstructured {
            for p in trainable.parameters where p.decays { p.mask = p.value.storage.map { $0 == 0 ? 0 : 1 } }
        }
        let options = TrainingOptions(epochs: epochs, batchSize: Self.batchSize, optimizer: .adam, learningRate: Self.learningRate, seed: 1)
        Trainer.train(trainable, data: spec.generate(.train), validation: spec.generate(.validation, count: 0), options: options)
        let tuned = try model.rebuilt(tensors: Dictionary(uniqueKeysWithValues: trainable.namedTensors()),
                                      label: "\(loaded.model.name) fine-tuned")
        // Store and multiply as the base technique does: CSR for unstructured pruning, dense otherwise.
        return base is PruneUnstructured ? tuned.transformingWeights { _, w in CSRWeights(w.dense()) } : tuned
    }
}
