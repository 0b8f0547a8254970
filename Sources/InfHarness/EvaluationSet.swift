// The fixed inputs quality is measured on: once per variant, independent of the
// timed batch, so a batch-1 row of a classifier does not report top-1 from one
// example. Trained models use their whole test split; every other model gets
// 256 seeded inputs (real text windows where the model carries a text sample).
import InfCore
import InfMeasure
import InfModels

public struct EvaluationSet {
    /// The inputs, in batches.
    public let batches: [ModelInput]
    /// Items (sequences, images) in all batches.
    public let count: Int
    /// What the set is, printed beside the figures.
    public let description: String
    /// Labels of a test split, for task accuracy; nil for seeded inputs.
    public let labels: [Int32]?
    /// Next-token targets of each batch, for a language model with held-out text: its perplexity.
    public let targets: [[Int32]]?

    /// Windows of held-out text a language model's quality is measured on: 128 × T tokens
    /// (8,192 predicted tokens at T = 64) keeps the once-per-variant pass to seconds.
    public static let textWindows = 128

    /// Seeded inputs when synthetic: this many items…
    public static let seededItems = 256
    /// …of this many tokens (or the model's longest, if shorter), in batches of 32.
    public static let seededLength = 32

    public init(for model: InferenceModel, seed: UInt64) {
        if let test = model.evaluationSet {
            batches = stride(from: 0, to: test.count, by: 256).map { test.input(Array($0..<min($0 + 256, test.count))) }
            count = test.count
            labels = test.labels
            targets = nil
            description = "test split"
            return
        }
        if let decoder = model as? any CausalLanguageModel, let text = decoder.evaluationText, !text.isEmpty {
            let windows = Array(text.prefix(Self.textWindows)), t = windows[0].input.count
            let groups = stride(from: 0, to: windows.count, by: 16).map { windows[$0..<min($0 + 16, windows.count)] }
            batches = groups.map { .tokens(ids: $0.flatMap(\.input), mask: nil, batch: $0.count, length: t) }
            targets = groups.map { $0.flatMap(\.target) }
            count = windows.count
            labels = nil
            description = "test split, \(windows.count) windows × \(t) tokens"
            return
        }
        var rng = SeededRNG(seed: seed)
        let length = min(Self.seededLength, model.maxSequenceLength ?? Self.seededLength)
        batches = (0..<(Self.seededItems / 32)).map { _ in model.makeInput(batch: 32, sequenceLength: length, rng: &rng) }
        count = Self.seededItems
        labels = nil
        targets = nil
        description = model.kind == .cnn ? "\(count) seeded inputs" : "\(count) seeded inputs × \(length) tokens"
    }

    /// Quality of each model against `reference` (the fp32 baseline), and task accuracy where
    /// the set has labels. Batch by batch: the reference output is copied, then every variant runs.
    public func evaluate(reference: InferenceModel, variants: [InferenceModel],
                         in context: ExecutionContext) -> [(quality: Quality, accuracy: Double?)] {
        var acc = variants.map { _ in QualityAccumulator(logits: reference.outputIsLogits) }
        var predicted = variants.map { _ in [Int32]() }
        for (b, input) in batches.enumerated() {
            let ref = reference.forward(input, in: context) // copied: a variant sharing the model object overwrites its buffer
            for (i, v) in variants.enumerated() {
                // The baseline itself (the suite's first variant) is the reference: not run twice.
                let out = v === reference ? ref : v.forward(input, in: context)
                acc[i].add(reference: ref, output: out)
                if let targets { acc[i].addNegativeLogLikelihood(output: out, targets: targets[b]) }
                if labels != nil { predicted[i] += argmax(out) }
            }
        }
        return variants.indices.map { i in
            (acc[i].quality(n: count, set: description), labels.map { accuracy(of: predicted[i], $0) })
        }
    }
}
