// `infbench train-lm`: trains the bundled language model fortunes-lm (a GPT decoder) on the
// training split of Debian's fortunes (`make lm-data`), measures test perplexity with the training
// engine's forward, with the inference decoder loaded from the written checkpoint, and of a
// unigram model, and says whether the result matches the perplexity the replaced checkpoint recorded.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfMeasure
import InfModels
import InfTrain

struct TrainLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-lm",
        abstract: "Train the fortunes-lm decoder on Debian's fortunes text and report its test perplexity.",
        discussion: """
        Reads the splits written by `make lm-data` (--data) and the committed vocabulary and test split in
        Models/fortunes-lm, trains a GPT decoder with infbench's own training engine (seeded; deterministic
        for a fixed thread count), and writes config.json + model.safetensors to --output. The perplexity
        it recorded before is compared with the new one.
        """)

    @Option(help: "Folder with train.txt and validation.txt from `make lm-data`.")
    var data: String = ".build/lm-data"

    @Option(help: "Where the checkpoint is written (config.json, model.safetensors; vocab.txt and test.txt are copied beside them).")
    var output: String = "Models/fortunes-lm"

    @Option(help: "The committed model folder: vocab.txt, test.txt and the recorded perplexity to compare with.")
    var reference: String = "Models/fortunes-lm"

    @Option(help: "Optimiser steps.") var steps: Int = 700
    @Option(help: "Windows per step.") var batch: Int = 16
    @Option(help: "Context length T (also max_position_embeddings).") var context: Int = 64
    @Option(help: "Hidden size C.") var hidden: Int = 128
    @Option(help: "Decoder layers.") var layers: Int = 2
    @Option(help: "Attention heads.") var heads: Int = 4
    @Option(name: .customLong("lr"), help: "Peak learning rate (AdamW, warm-up then cosine).") var learningRate: Float = 3e-3
    @Option(help: "Seed for the initial weights and the window order.") var seed: UInt64 = 19
    @Option(help: "Threads (training is deterministic for a fixed count).") var threads: Int = 1

    func validate() throws {
        try checkRange("--steps", steps, 1...1_000_000)
        try checkRange("--batch", batch, 1...4096)
        try checkRange("--context", context, 2...1024)
        try checkRange("--hidden", hidden, 8...4096)
        try checkRange("--layers", layers, 1...64)
        try checkRange("--threads", threads, 1...256)
        guard hidden % heads == 0 else { throw ValidationError("--hidden \(hidden) must be a multiple of --heads \(heads).") }
    }

    func run() throws {
        // OpenBLAS (the training engine's threads, and every GEMM it runs) on --threads for this
        // command only; infbench's own loops get an execution context of the same count.
        try BLAS.withThreads(threads) { try execute(ExecutionContext(threads: threads)) } // (--context is the model's)
    }

    private func execute(_ execution: ExecutionContext) throws {
        let say: (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        let tokenizer = try WordPieceTokenizer(directory: reference)
        let train = try TokenStream.load(path: "\(data)/train.txt", tokenizer: tokenizer)
        let validation = try TokenStream.load(path: "\(data)/validation.txt", tokenizer: tokenizer)
        let test = try TokenStream.load(path: "\(reference)/test.txt", tokenizer: tokenizer)
        say("train \(train.documents) fortunes / \(train.ids.count) tokens, validation \(validation.ids.count), test \(test.ids.count) tokens; vocabulary \(tokenizer.vocabularySize)")

        let config = TransformerConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: hidden, numLayers: layers, numHeads: heads,
                                       intermediateSize: 4 * hidden, maxPositions: context, layerNormEps: 1e-5)
        let model = TrainableDecoder(try TransformerDecoder(name: "fortunes-lm", config: config, weights: SeededWeights(seed: seed)))
        let options = LanguageModelTrainingOptions(steps: steps, batchSize: batch, contextLength: context, learningRate: learningRate, seed: seed)
        // Validation on its first 64 windows (4096 predicted tokens) keeps each check a few seconds.
        let validationWindows = Array(validation.windows(length: context).prefix(64))
        let log = LanguageModelTrainer.train(model, train: train, options: options, validate: {
            Perplexity.evaluate(windows: validationWindows, forward: model.forward).perplexity
        }, progress: { l in
            say(String(format: "step %5d  train loss %.3f  validation perplexity %.1f  (%.0f s)", l.step, l.trainLoss, l.validationPerplexity, l.seconds))
        })

        let windows = test.windows(length: context)
        let trained = Perplexity.evaluate(windows: windows, forward: model.forward)
        let unigram = Perplexity.unigram(trainCounts: train.counts(vocabularySize: tokenizer.vocabularySize), windows: windows)
        let recorded = Self.recordedPerplexity("\(reference)/config.json")

        try write(model: model, config: config, options: options, log: log, trained: trained, unigram: unigram,
                  sizes: (train.ids.count, validation.ids.count, test.ids.count))
        let reloaded = try ModelLoader.load(output).model
        let inference = Perplexity.evaluate(windows: windows, forward: { reloaded.forward($0, in: execution) })

        print(String(format: "test perplexity (%d tokens, windows of %d): trained %.3f, unigram %.3f", trained.tokens, context,
                     trained.perplexity, unigram.perplexity))
        print(String(format: "inference decoder from %@: %.3f (relative difference %.2e)", output, inference.perplexity,
                     abs(inference.perplexity - trained.perplexity) / trained.perplexity))
        if let recorded {
            let same = abs(recorded - trained.perplexity) <= 1e-3 * recorded
            print(String(format: "%@ recorded %.3f: %@", reference, recorded,
                         same ? "reproduced" : "DIFFERENT (another seed, recipe, thread count, OpenBLAS core or machine)"))
        }
    }

    static func recordedPerplexity(_ configPath: String) -> Double? {
        guard let data = FileManager.default.contents(atPath: configPath),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let training = json["infbench_training"] as? [String: Any] else { return nil }
        return training["test_perplexity"] as? Double
    }

    private func write(model: TrainableDecoder, config: TransformerConfig, options: LanguageModelTrainingOptions, log: [LanguageModelLog],
                       trained: PerplexityResult, unigram: PerplexityResult, sizes: (train: Int, validation: Int, test: Int)) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        let same = URL(fileURLWithPath: output).standardizedFileURL == URL(fileURLWithPath: reference).standardizedFileURL
        if !same {
            for file in ["vocab.txt", "test.txt"] {
                try? fm.removeItem(atPath: "\(output)/\(file)")
                try fm.copyItem(atPath: "\(reference)/\(file)", toPath: "\(output)/\(file)")
            }
        }
        func object<T: Encodable>(_ value: T) -> Any { (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(value))) ?? [:] }
        var json = object(config) as? [String: Any] ?? [:]
        json["model_type"] = "gpt"
        json["infbench_description"] = String(
            format: "GPT decoder trained on Debian's fortunes text (%d training tokens, WordPiece vocab %d by training frequency): %d layers, hidden %d, %d heads, FFN %d, context %d, causal, pre-LN, tied head; trained by `infbench train-lm` (%d steps × %d windows, AdamW, 1 thread); test perplexity %.1f (unigram %.1f)",
            sizes.train, config.vocabSize, config.numLayers, config.hiddenSize, config.numHeads, config.intermediateSize, config.maxPositions,
            options.steps, options.batchSize, trained.perplexity, unigram.perplexity)
        json["infbench_training"] = [
            "options": object(options), "threads": BLAS.threads, "openblas_core": BLAS.coreName,
            "corpus": ["package": "fortunes (Debian)", "train_tokens": sizes.train, "validation_tokens": sizes.validation, "test_tokens": sizes.test],
            "log": log.map { ["step": $0.step, "train_loss": $0.trainLoss, "validation_perplexity": $0.validationPerplexity, "seconds": $0.seconds] as [String: Any] },
            "test_perplexity": trained.perplexity, "test_tokens_scored": trained.tokens, "unigram_test_perplexity": unigram.perplexity,
        ] as [String: Any]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try SafetensorsWriter.write(model.namedTensors(), metadata: ["format": "pt", "producer": "infbench train-lm"],
                                    to: "\(output)/model.safetensors")
        try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: "\(output)/config.json"), options: .atomic)
    }
}
