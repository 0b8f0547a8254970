// Full vs adaptive softmax on a decoder with a large vocabulary: output-layer
// time on the same hidden states (interleaved), end-to-end KV-cached generation
// tokens/s (alternating repeats), and top-1 agreement with the full softmax.
import Foundation
import InfCore
import InfMeasure
import InfModels

public enum SoftmaxBench {
    /// What a language model trained on text brings to the bench: its trained adaptive head
    /// (`infbench train-adaptive-softmax`), a test-split prompt, the final hidden states of test-split
    /// windows for the output-layer group, and the test perplexity of both heads. Empty for a model
    /// without text (random weights): the head is then derived and the inputs are seeded.
    public struct TextInputs {
        public var trained: AdaptiveSoftmaxHead?
        public var prompt: [Int32]?
        public var states: [Tensor]?
        public var perplexity: [String: Double] = [:]
    }

    /// Reads what `loaded` has beside its checkpoint (see TextInputs); the states come from the first
    /// `stateWindows` test windows, the perplexities from the whole test split when a trained head is there.
    public static func textInputs(_ loaded: LoadedModel, stateWindows: Int = 32, in context: ExecutionContext,
                                  progress: ((String) -> Void)? = nil) throws -> TextInputs {
        guard let decoder = loaded.model as? any CausalLanguageModel else { return TextInputs() }
        var out = TextInputs()
        out.trained = try AdaptiveSoftmaxHead.trained(directory: loaded.source)?.head
        if let trained = out.trained, trained.cutoffs.last != decoder.vocabularySize {
            throw HarnessError("\(loaded.source)/adaptive-softmax.json: cutoffs end at \(trained.cutoffs.last!), not at \(decoder.name)'s vocabulary size \(decoder.vocabularySize).")
        }
        guard let text = try LanguageModelText.load(directory: loaded.source) else { return out }
        out.prompt = text.prompts(count: 1, length: 16).first
        out.states = text.test.windows(length: decoder.maxPositions).prefix(stateWindows).flatMap { w -> [Tensor] in
            let h = decoder.finalHidden(.tokens(ids: w.input, mask: nil, batch: 1, length: w.input.count), in: context)
            return (0..<h.rows).map { r in Tensor(shape: [1, h.lastDim], storage: Array(h.storage[(r * h.lastDim)..<((r + 1) * h.lastDim)])) }
        }
        if let trained = out.trained {
            progress?("test perplexity of the full and the trained adaptive head")
            let windows = text.test.windows(length: decoder.maxPositions)
            out.perplexity["full softmax"] = Perplexity.evaluate(windows: windows, forward: { decoder.forward($0, in: context) }).perplexity
            out.perplexity["adaptive softmax"] = trained.perplexity(model: decoder, windows: windows, in: context).perplexity
        }
        return out
    }

    /// Two groups through the engine: the output layer alone on real hidden states (full
    /// softmax, its A/A copy, adaptive softmax), and whole KV-cached generations with each
    /// head (full, A/A, adaptive). Quality: top-1 agreement with the full softmax.
    public static func run(model: any CausalLanguageModel, cutoffs: [Int], newTokens: Int, threads: Int, engine: Engine,
                           seed: UInt64, weightsAreTrained: Bool, progress: ((String) -> Void)? = nil,
                           trained: AdaptiveSoftmaxHead? = nil, prompt fixedPrompt: [Int32]? = nil, states fixedStates: [Tensor]? = nil,
                           perplexity: [String: Double] = [:]) -> SuiteResult {
        // trained: an adaptive head trained for this model (used instead of one derived here);
        // fixedPrompt / fixedStates: a text model's test-split prompt and final hidden states;
        // perplexity: each head's test perplexity by variant name, reported in its quality.
        let context = ExecutionContext(threads: threads)
        progress?(trained == nil ? "deriving the adaptive head (eigen-decompositions of the tail clusters)" : "using the trained adaptive head")
        let full = FullSoftmaxHead(model.lmHead)
        // The full head and its A/A draw each run from a pool of deep copies of the head (see TwinPool).
        let twins = TwinPool([full] + (1..<TwinPool<OutputHead>.size).map { _ -> OutputHead in
            FullSoftmaxHead(Linear(weights: DenseWeights(Tensor(shape: model.lmHead.weights.dense().shape,
                                                                storage: model.lmHead.weights.dense().storage.map { $0 })),
                                   bias: model.lmHead.bias))
        }, seed: engine.policy.orderSeed ^ stableHash("softmax"))
        let adaptive = trained ?? AdaptiveSoftmaxHead(fullHead: model.lmHead.weights.dense(), cutoffs: cutoffs)
        var descent = adaptive
        descent.descendIntoWinningCluster = true
        let gen = Generator(model: model)
        var rng = SeededRNG(seed: seed)
        let prompt = fixedPrompt ?? (0..<16).map { _ in Int32(rng.nextInt(below: model.vocabularySize)) }
        precondition(prompt.count == 16, "the softmax bench decodes after a 16-token prompt")
        // Real final hidden states from a full-softmax generation: what the output layer sees.
        var states: [Tensor] = []
        progress?("collecting hidden states")
        _ = gen.generate(prompt: prompt, newTokens: newTokens, cache: true, head: full, in: context) { states.append($0) }
        let setName = fixedStates == nil ? "\(states.count) hidden states of a full-softmax generation" : "\(fixedStates!.count) hidden states of test-split text"
        if let fixedStates { states = fixedStates }
        let fullTokens = states.map { full.nextToken($0, in: context) }
        func quality(_ name: String, _ head: OutputHead) -> Quality {
            let agree = zip(states, fullTokens).filter { head.nextToken($0, in: context) == $1 }.count
            var q = Quality(maxAbsDiff: 0, meanCosine: 1, top1Agreement: Double(agree) / Double(max(states.count, 1)),
                            n: states.count, evaluationSet: setName)
            q.identical = agree == states.count
            q.perplexity = perplexity[name.hasPrefix("full softmax") ? "full softmax" : "adaptive softmax"]
            return q
        }
        // The full head's own row carries a quality only to report its perplexity.
        let fullQuality = perplexity["full softmax"].map {
            Quality(maxAbsDiff: 0, meanCosine: 1, top1Agreement: 1, n: states.count, evaluationSet: setName, perplexity: $0)
        }
        let heads: [(String, OutputHead, String)] = [
            ("full softmax", full, "the full (V, C) output layer: sgemv + arg max"),
            ("full softmax A/A", full, TwinPool<OutputHead>.aaNote),
            ("adaptive softmax", adaptive, trained == nil ? "head over the frequent tokens + clusters; low-rank tail projections derived from the full head"
                : "head over the frequent tokens + clusters; reduced tail projections, fine-tuned with the decoder body frozen"),
            ("adaptive softmax (head descent)", descent, "the same adaptive head, greedy by the shortcut: the head's arg max, and a winning cluster's best token"),
        ]
        var warnings: [String] = []
        if !weightsAreTrained {
            warnings.append("UNTRAINED (seeded random) weights: the adaptive head is derived from a random full head, so the agreement figure says how well the low-rank tails approximate random rows, not what a trained adaptive softmax achieves.")
        }
        var workload = WorkloadConfiguration()
        workload.cutoffs = cutoffs
        workload.newTokens = newTokens
        workload.promptLength = 16
        let layer = WorkloadPoint(model: model.name, workload: "output-layer", batch: 1, sequenceLength: nil, threads: threads,
                                  itemUnit: "state", itemsPerRun: states.count, point: "\(states.count) hidden states")
        let layerRows = engine.measureGroup(layer, heads.map { name, head, executes in
            EngineVariant(name: name, executes: executes, weightBytes: head.byteCount,
                          quality: name == "full softmax" ? fullQuality : quality(name, head)) {
                let head = name.hasPrefix("full softmax") ? twins.next() : head
                for h in states { _ = head.nextToken(h, in: context) }
            }
        }, warnings: &warnings, progress: progress)
        let generation = WorkloadPoint(model: model.name, workload: "generate", batch: 1, sequenceLength: 16 + newTokens,
                                       threads: threads, itemUnit: "tok", itemsPerRun: newTokens,
                                       point: "16-token prompt + \(newTokens) generated, KV cache")
        let generationRows = engine.measureGroup(generation, heads.map { name, head, executes in
            EngineVariant(name: name, executes: executes + ", inside KV-cached generation", weightBytes: head.byteCount,
                          quality: name == "full softmax" ? fullQuality : quality(name, head)) {
                _ = gen.generate(prompt: prompt, newTokens: newTokens, cache: true, head: name.hasPrefix("full softmax") ? twins.next() : head, in: context)
            }
        }, warnings: &warnings, progress: progress)
        return engine.result(kind: .softmax, name: "softmax", models: [model.name], variants: heads.map(\.0),
                             threads: [threads], batchSizes: [1], sequenceLengths: [16 + newTokens], seed: seed,
                             workload: workload, rows: layerRows + generationRows, warnings: warnings)
    }
}
