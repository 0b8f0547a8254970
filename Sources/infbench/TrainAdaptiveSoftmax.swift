// `infbench train-adaptive-softmax`: an adaptive-softmax output layer for fortunes-lm, trained (not
// only derived): it starts from the head derived from the full output layer (frequent tokens' rows,
// cluster means, low-rank tails) and is fine-tuned on the training split with the decoder's body
// and final LayerNorm frozen. Writes adaptive-softmax.safetensors + adaptive-softmax.json beside
// the checkpoint, with the test perplexity of the full and the adaptive output layer.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfMeasure
import InfModels
import InfTrain

struct TrainAdaptiveSoftmax: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-adaptive-softmax",
        abstract: "Fine-tune an adaptive-softmax output layer for a text decoder with its body frozen; report test perplexity of both heads.")

    @Option(help: "A decoder trained on text (vocab.txt and test.txt beside its checkpoint).")
    var model: String = "Models/fortunes-lm"

    @Option(help: "Folder with train.txt from `make lm-data`.")
    var data: String = ".build/lm-data"

    @Option(help: "Cluster boundaries, the last equal to the vocabulary size (ids are frequency-ordered).")
    var cutoffs: IntList = IntList([1024, 4096, 8192])

    @Option(name: .customLong("projections"), help: "Reduced projection size d_i of each tail cluster.")
    var projectionSizes: IntList = IntList([32, 8])

    @Option(name: .customLong("train-tokens"), help: "Training-split tokens whose hidden states the head is fine-tuned on.")
    var trainTokens: Int = 131_072

    @Option(help: "Epochs over those states.") var epochs: Int = 4
    @Option(help: "Rows per step.") var batch: Int = 512
    @Option(name: .customLong("lr"), help: "Peak learning rate (Adam).") var learningRate: Float = 2e-3
    @Option(help: "Seed for the row order.") var seed: UInt64 = 23
    @Option(help: "Threads (deterministic for a fixed count).") var threads: Int = 1

    func run() throws {
        // OpenBLAS (the training engine's threads, and every GEMM it runs) on --threads for this
        // command only; infbench's own loops get an execution context of the same count.
        try BLAS.withThreads(threads) { try execute(ExecutionContext(threads: threads)) }
    }

    private func execute(_ context: ExecutionContext) throws {
        let say: (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        let loaded = try ModelLoader.load(model)
        guard let decoder = loaded.model as? TransformerDecoder, let text = try LanguageModelText.load(directory: loaded.source) else {
            throw ValidationError("--model \(model): needs a GPT decoder with vocab.txt and test.txt beside it (Models/fortunes-lm).")
        }
        let (v, t) = (decoder.config.vocabSize, decoder.config.maxPositions)
        let cuts = cutoffs.values, dims = projectionSizes.values
        guard cuts.count >= 2, cuts.last == v, cuts.first! >= 1, zip(cuts, cuts.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ValidationError("--cutoffs must rise strictly and end at the vocabulary size \(v).")
        }
        guard dims.count == cuts.count - 1, dims.allSatisfy({ $0 >= 1 && $0 <= decoder.config.hiddenSize }) else {
            throw ValidationError("--projections needs one size in 1...\(decoder.config.hiddenSize) per tail cluster (\(cuts.count - 1)).")
        }
        let train = try TokenStream.load(path: "\(data)/train.txt", tokenizer: text.tokenizer)
        // The frozen body's final hidden states, computed once: (N, C) and the tokens that follow.
        func states(_ windows: [TextWindow]) -> (Tensor, [Int32]) {
            var rows: [Float] = [], targets: [Int32] = []
            for s in stride(from: 0, to: windows.count, by: 16) {
                let group = windows[s..<min(s + 16, windows.count)]
                rows += decoder.finalHidden(.tokens(ids: group.flatMap(\.input), mask: nil, batch: group.count, length: t), in: context).storage
                targets += group.flatMap(\.target)
            }
            return (Tensor(shape: [targets.count, decoder.config.hiddenSize], storage: rows), targets)
        }
        let (hTrain, yTrain) = states(Array(train.windows(length: t).prefix(max(1, trainTokens / t))))
        let testWindows = text.test.windows(length: t)
        let (hTest, yTest) = states(testWindows)
        say("hidden states: \(yTrain.count) training tokens, \(yTest.count) test tokens")

        let full = Perplexity.evaluate(windows: testWindows, forward: { decoder.forward($0, in: context) }).perplexity
        let derived = AdaptiveSoftmaxHead(fullHead: decoder.lmHead.weights.dense(), cutoffs: cuts, projectionSizes: dims)
        let adaptive = TrainableAdaptiveSoftmax(derived)
        func perplexity() -> Double { exp(adaptive.negativeLogLikelihood(h: hTest, targets: yTest, backward: false) / Double(yTest.count)) }
        let before = perplexity()
        say(String(format: "test perplexity: full softmax %.3f, derived adaptive head %.3f", full, before))
        let log = adaptive.train(h: hTrain, targets: yTrain, epochs: epochs, batchSize: batch, learningRate: learningRate, seed: seed) { e, nll in
            say(String(format: "epoch %d  train NLL %.4f", e, nll))
        }
        let after = perplexity()
        let head = adaptive.inferenceHead()
        let fullBytes = decoder.lmHead.byteCount
        try SafetensorsWriter.write(adaptive.namedTensors(), metadata: ["format": "pt", "producer": "infbench train-adaptive-softmax"],
                                    to: "\(loaded.source)/adaptive-softmax.safetensors")
        let summary: [String: Any] = [
            "cutoffs": cuts, "projection_sizes": dims,
            "trained": "fine-tuned from the head derived from the full output layer, decoder body and final LayerNorm frozen",
            "train_tokens": yTrain.count, "epochs": epochs, "batch": batch, "learning_rate": Double(learningRate), "seed": seed,
            "threads": threads, "train_nll": log,
            "test_perplexity_full": full, "test_perplexity_adaptive": after, "test_perplexity_derived_before_training": before,
            "test_tokens": yTest.count, "weight_bytes_full": fullBytes, "weight_bytes_adaptive": head.byteCount,
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: "\(loaded.source)/adaptive-softmax.json"), options: .atomic)
        print(String(format: "test perplexity (%d tokens): full softmax %.3f, adaptive softmax %.3f (%+.1f%%; derived before fine-tuning %.3f)",
                     yTest.count, full, after, 100 * (after / full - 1), before))
        print("wrote \(loaded.source)/adaptive-softmax.safetensors and adaptive-softmax.json (cutoffs \(cuts.map(String.init).joined(separator: ",")), projections \(dims.map(String.init).joined(separator: ",")))")
    }
}
