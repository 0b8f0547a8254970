// Finds and loads models: a bundled name ("encoder-small"), a model directory
// (config.json + optional model.safetensors) or a config.json path. Without a
// checkpoint, weights are generated from the config's `infbench_seed`.
import Foundation
import InfCore

public struct LoadedModel {
    public var model: InferenceModel
    public var config: ModelConfig
    /// The directory or file the model came from.
    public var source: String
    /// "model.safetensors" path or "generated (seed N)".
    public var weightsSource: String
    /// Things the user should know (e.g. checkpoint tensors the model did not use).
    public var notes: [String]

    public init(model: InferenceModel, config: ModelConfig, source: String, weightsSource: String, notes: [String] = []) {
        self.model = model
        self.config = config
        self.source = source
        self.weightsSource = weightsSource
        self.notes = notes
    }
}

public enum ModelLoader {
    /// Load checkpoints with NaN or ±inf weights (with a note) instead of refusing them:
    /// `run --allow-nonfinite`, or INFBENCH_ALLOW_NONFINITE=1 for any command.
    nonisolated(unsafe) public static var allowNonFiniteWeights =
        ProcessInfo.processInfo.environment["INFBENCH_ALLOW_NONFINITE"] == "1"

    /// Where bundled models live: $INFBENCH_MODELS, ./Models, or the Models folder of this source tree.
    public static var modelsDirectory: String {
        if let env = ProcessInfo.processInfo.environment["INFBENCH_MODELS"], !env.isEmpty { return env }
        let cwd = FileManager.default.currentDirectoryPath + "/Models"
        if FileManager.default.fileExists(atPath: cwd) { return cwd }
        // Sources/InfModels/ModelLoader.swift → repository root.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Models").path
    }

    /// Bundled models: (name, description), sorted by name.
    public static func bundled() -> [(name: String, description: String)] {
        let dir = modelsDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().compactMap { name in
            let config = "\(dir)/\(name)/config.json"
            guard let data = FileManager.default.contents(atPath: config),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            if let d = json["infbench_description"] as? String { return (name, d) }
            // A fetched checkpoint (e.g. all-MiniLM-L6-v2): describe it from its config.
            let type = json["model_type"] as? String ?? "model"
            let facts = [("num_hidden_layers", "layers"), ("hidden_size", "hidden"), ("num_attention_heads", "heads"), ("vocab_size", "vocab")]
                .compactMap { key, label in (json[key] as? Int).map { "\($0) \(label)" } }
            let weights = FileManager.default.fileExists(atPath: "\(dir)/\(name)/model.safetensors") ? "model.safetensors" : "no weights"
            return (name, "\(type) checkpoint: \(facts.joined(separator: ", ")) (\(weights))")
        }
    }

    /// Bundled models `infbench run` measures by default: all but those whose config says
    /// "infbench_in_default_suite": false (the distilled students; `infbench distill` compares them).
    public static func defaultSuite() -> [String] {
        bundled().map(\.name).filter { name in
            guard let data = FileManager.default.contents(atPath: "\(modelsDirectory)/\(name)/config.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return true }
            return json["infbench_in_default_suite"] as? Bool ?? true
        }
    }

    /// Resolves `spec` to (config.json path, directory or nil).
    static func resolve(_ spec: String) throws -> (config: String, directory: String?) {
        var isDir: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: spec, isDirectory: &isDir) {
            if isDir.boolValue {
                let config = (spec as NSString).appendingPathComponent("config.json")
                guard fm.fileExists(atPath: config) else {
                    throw ModelError("\(spec): model directory has no config.json.")
                }
                return (config, spec)
            }
            return (spec, nil)
        }
        if !spec.contains("/") {
            let dir = "\(modelsDirectory)/\(spec)"
            if fm.fileExists(atPath: "\(dir)/config.json") { return ("\(dir)/config.json", dir) }
            let known = bundled().map(\.name).joined(separator: ", ")
            throw ModelError("unknown model \"\(spec)\": not a path and not a bundled model (bundled: \(known.isEmpty ? "none found in \(modelsDirectory)" : known)).")
        }
        throw ModelError("\(spec): no such model file or directory.")
    }

    /// The configuration of a model by bundled name or path, without loading any weights.
    public static func config(for spec: String) throws -> ModelConfig {
        try ModelConfig.load(path: try resolve(spec).config)
    }

    /// Loads a model by bundled name or path; every failure is one sentence naming the file or tensor.
    public static func load(_ spec: String) throws -> LoadedModel {
        let (configPath, directory) = try resolve(spec)
        let config = try ModelConfig.load(path: configPath)
        // The checkpoint sits beside the config, whether the spec named the directory or the file.
        let checkpoint = ((directory ?? (configPath as NSString).deletingLastPathComponent) as NSString)
            .appendingPathComponent("model.safetensors")
        let weights: WeightSource
        if FileManager.default.fileExists(atPath: checkpoint) {
            weights = try CheckpointWeights(path: checkpoint, allowNonFinite: allowNonFiniteWeights)
        } else if let seed = config.seed {
            weights = SeededWeights(seed: seed)
        } else {
            throw ModelError("\(configPath): no model.safetensors beside it and no \"infbench_seed\" to generate weights from.")
        }
        let name = directory.map { URL(fileURLWithPath: $0).lastPathComponent }
            ?? URL(fileURLWithPath: configPath).deletingPathExtension().lastPathComponent
        let model: InferenceModel
        switch config.kind {
        case .bert: model = try TransformerEncoder(name: name, config: config.transformer!, weights: weights)
        case .gpt: model = try TransformerDecoder(name: name, config: config.transformer!, weights: weights)
        case .cnn: model = try CNN(name: name, config: config.cnn!, weights: weights)
        case .efficientnet: model = try EfficientNet(name: name, config: config.efficientnet!, weights: weights)
        }
        var notes: [String] = []
        if let net = model as? EfficientNet, let note = try net.attachImages(configPath: configPath) { notes.append(note) }
        if let encoder = model as? TransformerEncoder, let directory,
           FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("vocab.txt")) {
            notes += try attachText(to: encoder, directory: directory)
        }
        if let decoder = model as? TransformerDecoder, let directory, let text = try LanguageModelText.load(directory: directory) {
            try checkVocabulary(text.tokenizer, fits: decoder.config, directory: directory)
            decoder.evaluationText = text.test.windows(length: decoder.config.maxPositions)
            notes.append("\(decoder.name): quality includes perplexity on its test split (\(directory)/test.txt, \(text.test.ids.count) tokens).")
        }
        if let checkpoint = weights as? CheckpointWeights { notes += checkpoint.nonFiniteNotes }
        if let spec = config.dataset { notes += try attachEvaluation(spec, to: model, configPath: configPath) }
        let unused = weights.unusedNames
        if !unused.isEmpty {
            let shown = unused.prefix(5).joined(separator: ", ")
            notes.append("\(weights.description): \(unused.count) tensor(s) not used by the \(config.kind.rawValue) model: \(shown)\(unused.count > 5 ? ", …" : "").")
        }
        return LoadedModel(model: model, config: config, source: directory ?? configPath,
                           weightsSource: weights.description, notes: notes)
    }

    /// Regenerates the test split of the model's dataset and hands it to the model.
    static func attachEvaluation(_ spec: DatasetSpec, to model: InferenceModel, configPath: String) throws -> [String] {
        let test = spec.generate(.test)
        switch (model, test) {
        case (let cnn as CNN, let images as LabelledImages):
            guard images.imageShape == cnn.config.inputShape, images.classNames.count == cnn.config.numClasses else {
                throw ModelError("\(configPath): infbench_dataset \"\(spec.name)\" makes \(images.imageShape) images of \(images.classNames.count) classes; the CNN takes \(cnn.config.inputShape) and has \(cnn.config.numClasses) classes.")
            }
            cnn.evaluation = images
        case (let encoder as TransformerEncoder, let sequences as LabelledSequences):
            guard sequences.length <= encoder.config.maxPositions, encoder.config.vocabSize >= SentimentDataset.vocabularySize,
                  encoder.config.numLabels == sequences.classNames.count else {
                throw ModelError("\(configPath): infbench_dataset \"\(spec.name)\" (length \(sequences.length), \(SentimentDataset.vocabularySize) tokens, \(sequences.classNames.count) classes) does not fit the encoder (max_position_embeddings, vocab_size, id2label).")
            }
            encoder.evaluation = sequences
        default:
            throw ModelError("\(configPath): infbench_dataset \"\(spec.name)\" does not fit a \(model.kind.rawValue) model.")
        }
        return ["\(model.name): inputs are test examples of its dataset \(spec.name) (seed \(spec.seed), \(test.count) examples); accuracy is measured on all of them."]
    }

    /// Bundled English sentences that models with a tokenizer are fed (see `TransformerEncoder.text`).
    public static var textPath: String { "\(modelsDirectory)/text/sentences.txt" }

    /// Tokenizes the bundled sentences with the model's own tokenizer; returns a note for the report.
    /// A vocab.txt that does not load, or holds more tokens than the model's vocab_size (whose ids
    /// would index past the embedding table), fails the load: random ids would hide the fault.
    static func attachText(to encoder: TransformerEncoder, directory: String) throws -> [String] {
        let tokenizer = try WordPieceTokenizer(directory: directory)
        try checkVocabulary(tokenizer, fits: encoder.config, directory: directory)
        guard let cls = tokenizer.id(of: "[CLS]"), let sep = tokenizer.id(of: "[SEP]") else {
            throw ModelError("\(directory)/vocab.txt: the vocabulary has no [CLS] or no [SEP] token, which every input sequence needs.")
        }
        guard let data = FileManager.default.contents(atPath: textPath), let text = String(data: data, encoding: .utf8) else {
            return ["\(textPath) is missing; \(encoder.name)'s inputs are random token ids."]
        }
        let stream = text.split(whereSeparator: \.isNewline).flatMap { tokenizer.encode(String($0)).dropFirst().dropLast() }
        guard stream.contains(where: { $0 != cls && $0 != sep }) else { return [] }
        encoder.text = (Array(stream), cls, sep)
        return ["\(encoder.name): inputs are windows of tokenised English text (\(textPath), \(stream.count) tokens), not random ids."]
    }

    /// Throws one sentence when the tokenizer can produce ids the model has no embedding for.
    public static func checkVocabulary(_ tokenizer: WordPieceTokenizer, fits config: TransformerConfig, directory: String) throws {
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw ModelError("\(directory)/vocab.txt: \(tokenizer.vocabularySize) tokens, but the model's vocab_size is \(config.vocabSize); ids past \(config.vocabSize - 1) would have no embedding.")
        }
    }

    /// Writes `model`'s parameters to `directory/model.safetensors` and copies its config.json,
    /// so the directory loads as a checkpoint.
    public static func save(_ loaded: LoadedModel, to directory: String) throws {
        let fm = FileManager.default
        // Never over the checkpoint being read, and only over regular files: export replaces
        // (renames over) its two files, so a link or device there would be destroyed, not written.
        let sourceDirectory = loaded.source.hasSuffix(".json") ? (loaded.source as NSString).deletingLastPathComponent : loaded.source
        var a = stat(), b = stat()
        if stat(directory, &a) == 0, stat(sourceDirectory, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino {
            throw ModelError("\(directory): is the directory of the model being exported; write the export somewhere else.")
        }
        for name in ["model.safetensors", "config.json"] {
            let target = (directory as NSString).appendingPathComponent(name)
            var info = stat()
            if lstat(target, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
                throw ModelError("\(target): refusing to replace it: it is not a regular file (a symbolic link, device, FIFO or directory).")
            }
        }
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError("\(directory): cannot create the output directory (\(error.localizedDescription)).")
        }
        let configSource = loaded.source.hasSuffix(".json") ? loaded.source : "\(loaded.source)/config.json"
        let configTarget = "\(directory)/config.json"
        if URL(fileURLWithPath: configSource).standardizedFileURL != URL(fileURLWithPath: configTarget).standardizedFileURL {
            guard let data = fm.contents(atPath: configSource) else {
                throw ModelError("\(configSource): cannot read the configuration to copy.")
            }
            do { try data.write(to: URL(fileURLWithPath: configTarget), options: .atomic) } catch {
                throw ModelError("\(configTarget): cannot write (\(error.localizedDescription)).")
            }
        }
        try SafetensorsWriter.write(loaded.model.namedTensors(), metadata: ["format": "pt", "producer": "infbench"],
                                    to: "\(directory)/model.safetensors")
    }
}
