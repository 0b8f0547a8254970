// Fine-tuning after pruning: "prune-…+ft" (or "+ft:E") prunes as the base technique does, then
// trains the pruned model briefly:
//   a classifier (config infbench_dataset): E epochs on the dataset's training split, with the
//     trainer `infbench distill` uses; E below 1 is one pass over that share of the split (its
//     first examples: the generated splits are prefix-stable);
//   a language model trained on text (fortunes-lm): E rounds of `LanguageModelFineTune.stepsPerRound`
//     steps of next-token loss on random windows of its training split (train.txt, `make lm-data`),
//     with the trainer `infbench train-lm` uses. A whole epoch of that split (~600 steps) would take
//     minutes; a few dozen steps recover most of what pruning cost.
// Unstructured pruning keeps its zeros: each pruned matrix gets a mask that pins them, and the
// result is stored as CSR again.
import Foundation
import InfCore
import InfModels
import InfTrain

public struct FineTuned: Technique {
    public let base: Technique
    /// Whole epochs (1…100), or a share of one (0 < E < 1).
    public let epochs: Double
    /// Adam at a small learning rate: the pruned weights are close to a good solution already.
    public static let learningRate: Float = 5e-4
    public static let batchSize = 64

    public init(base: Technique, epochs: Double) {
        self.base = base
        self.epochs = epochs
    }

    /// "<pruning technique>+ft" or "+ft:E"; nil without the suffix.
    public static func parse(_ spec: String, base parseBase: (String) throws -> Technique) throws -> FineTuned? {
        guard let range = spec.range(of: "+ft") else { return nil }
        let baseSpec = String(spec[..<range.lowerBound]), rest = spec[range.upperBound...]
        var epochs = 2.0
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let e = Double(rest.dropFirst()), (0 < e && e < 1) || (1...100).contains(e) && e == e.rounded() else {
                throw TechniqueError(message: "technique \"\(spec)\": write +ft or +ft:E with 1 ≤ E ≤ 100 epochs, or a share of one epoch 0 < E < 1, e.g. \(baseSpec)+ft:3 or \(baseSpec)+ft:0.25.")
            }
            epochs = e
        }
        let base = try parseBase(baseSpec)
        guard base is PruneUnstructured || base is PruneStructured else {
            throw TechniqueError(message: "technique \"\(spec)\": +ft fine-tunes a pruned model; \"\(baseSpec)\" is not a pruning technique.")
        }
        return FineTuned(base: base, epochs: epochs)
    }

    public var name: String { "\(base.name)+ft" + (epochs == 2 ? "" : ":\(Self.format(epochs))") }

    /// "3" for whole epochs, "0.25" for a share of one: as written after "+ft:".
    public static func format(_ epochs: Double) -> String {
        epochs == epochs.rounded() ? String(Int(epochs)) : String(epochs)
    }

    /// Training examples of a share of one epoch (all of them for whole epochs).
    func trainingCount(_ spec: DatasetSpec) -> Int {
        epochs < 1 ? max(1, Int((epochs * Double(spec.train)).rounded())) : spec.train
    }

    /// What runs is the pruned model; how it was fine-tuned depends on the model (see `describe`).
    public var executes: String {
        "\(base.executes); then fine-tuned on the model's training split" + (base is PruneUnstructured ? ", pruned weights pinned at zero" : "")
    }

    public func describe(_ applied: InferenceModel, original: LoadedModel) -> String? {
        let recipe: String
        if original.config.dataset == nil, original.model is any CausalLanguageModel {
            let lm = LanguageModelFineTune.self
            let context = (original.model as? any CausalLanguageModel)?.maxPositions ?? 0
            recipe = "fine-tuned \(lm.steps(epochs)) steps × \(lm.batchSize) windows of \(context) tokens, next-token loss, AdamW lr \(lm.learningRate), seed \(lm.seed)"
        } else {
            let share = epochs < 1 ? original.config.dataset.map { "one pass over the first \(trainingCount($0)) of \($0.train) training examples" } : nil
            recipe = "fine-tuned \(share ?? "\(Self.format(epochs)) epoch(s)"), Adam lr \(Self.learningRate), batch \(Self.batchSize)"
        }
        return [base.describe(applied, original: original), recipe].compactMap { $0 }.joined(separator: "; ")
    }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        if loaded.config.dataset == nil, loaded.model is any CausalLanguageModel {
            return try applyToLanguageModel(loaded, train: LanguageModelFineTune.trainingStream(loaded, technique: name))
        }
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
        let options = TrainingOptions(epochs: max(1, Int(epochs)), batchSize: Self.batchSize, optimizer: .adam, learningRate: Self.learningRate, seed: 1)
        Trainer.train(trainable, data: spec.generate(.train, count: trainingCount(spec)), validation: spec.generate(.validation, count: 0), options: options)
        let tuned = try model.rebuilt(tensors: Dictionary(uniqueKeysWithValues: trainable.namedTensors()),
                                      label: "\(loaded.model.name) fine-tuned")
        // Store and multiply as the base technique does: CSR for unstructured pruning, dense otherwise.
        return base is PruneUnstructured ? tuned.transformingWeights { _, w in CSRWeights(w.dense()) } : tuned
    }
}

// MARK: Language models

/// How a pruned language model is fine-tuned, and where its training text comes from.
public enum LanguageModelFineTune {
    /// Steps per "+ft" round (+ft is 2 rounds, +ft:0.25 a quarter of one): 16 windows of the
    /// model's context each, so a round reads 50 × 16 × 64 = 51 k tokens of fortunes-lm's 605 k.
    public static let stepsPerRound = 50
    public static let batchSize = 16
    /// A third of the peak fortunes-lm was trained at (3e-3): the pruned weights start near a solution.
    public static let learningRate: Float = 1e-3
    public static let seed: UInt64 = 1

    /// Steps of `epochs` rounds (at least one).
    public static func steps(_ epochs: Double) -> Int { max(1, Int((epochs * Double(stepsPerRound)).rounded())) }

    /// Where the training split may be: beside the checkpoint, or where `make lm-data` (or
    /// `make lm-splits`) writes it for a bundled model, .build/lm-data of the source tree holding Models/<name>.
    public static func trainingTextCandidates(source: String) -> [String] {
        let tree = URL(fileURLWithPath: source).deletingLastPathComponent().deletingLastPathComponent()
        return ["\(source)/train.txt", tree.appendingPathComponent(".build/lm-data/train.txt").path]
    }

    nonisolated(unsafe) private static var streams: [String: TokenStream] = [:]
    private static let lock = NSLock()

    /// The training split of a language model trained on text, tokenised with its vocabulary (once
    /// per file and process); one sentence when the model has no text of its own or the split is missing.
    public static func trainingStream(_ loaded: LoadedModel, technique: String) throws -> TokenStream {
        guard let lm = loaded.model as? any CausalLanguageModel, lm.evaluationText != nil else {
            throw TechniqueError(message: "\(technique): \(loaded.model.name) is not a language model trained on text (no vocab.txt and test.txt beside it): nothing to fine-tune on.")
        }
        let candidates = trainingTextCandidates(source: loaded.source)
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw TechniqueError(message: "\(technique): \(loaded.model.name)'s training split is not there (looked for \(candidates.joined(separator: ", "))); `make lm-data` writes it.")
        }
        lock.lock()
        defer { lock.unlock() }
        if let cached = streams[path] { return cached }
        let stream = try TokenStream.load(path: path, tokenizer: try WordPieceTokenizer(directory: loaded.source))
        streams[path] = stream
        return stream
    }
}

extension FineTuned {
    /// Prunes `loaded` (a causal language model) as the base technique does, then trains it on
    /// random windows of `train` with the next-token loss. An unstructured-pruned decoder's output
    /// layer is a pruned copy of its (dense) embedding table: it trains untied, masked like every
    /// other pruned matrix, and goes back in as the "lm_head" matrix.
    func applyToLanguageModel(_ loaded: LoadedModel, train: TokenStream) throws -> InferenceModel {
        let pruned = try base.apply(to: loaded)
        guard let model = pruned as? any TrainableModel & RegisteredModel & CausalLanguageModel, let trainable = model.makeTrainable() else {
            throw TechniqueError(message: "\(name): \(loaded.model.name) is not a language model infbench can train.")
        }
        let unstructured = base is PruneUnstructured
        if unstructured {
            // The matrices the pruning reached, under their parameter names ("h.0.mlp.fc" → "h.0.mlp.fc.weight").
            var matrices = Set<String>()
            _ = pruned.transformingWeights { seam, w in matrices.insert("\(seam).weight"); return w }
            for p in trainable.parameters where matrices.contains(p.name) { p.mask = p.value.storage.map { $0 == 0 ? 0 : 1 } }
        }
        let lm = LanguageModelFineTune.self
        let context = model.maxPositions
        guard train.ids.count > context + 1 else {
            throw TechniqueError(message: "\(name): the training split (\(train.ids.count) tokens) is shorter than one window of \(context + 1).")
        }
        let options = LanguageModelTrainingOptions(steps: lm.steps(epochs), batchSize: lm.batchSize, contextLength: context,
                                                   learningRate: lm.learningRate, seed: lm.seed)
        LanguageModelTrainer.train(trainable, train: train, options: options, logEvery: options.steps, validate: { .nan })
        let named = Dictionary(uniqueKeysWithValues: trainable.namedTensors())
        let tuned = try model.rebuilt(tensors: named, label: "\(loaded.model.name) fine-tuned")
        guard unstructured else { return tuned }
        // CSR again; an untied head ("lm_head.weight") replaces the tied one the checkpoint layout gave.
        return tuned.transformingWeights { seam, w in CSRWeights(named["\(seam).weight"] ?? w.dense()) }
    }
}
