// Model configurations, read from JSON: infbench's own keys, then the architecture's typed settings,
// decoded and checked once by its registry entry (Architectures.swift). Transformer keys follow
// Hugging Face's config.json spelling (`hidden_size`, `num_hidden_layers`, …) so a real
// BERT-family checkpoint's config reads as is.
import Foundation
import InfCore

/// A config.json's `model_type`; each model file names its own (`extension ModelKind`), and the
/// registry (Architectures.swift) maps it to the model. Also a model's workload class (`InferenceModel.kind`).
public struct ModelKind: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

public struct TransformerConfig: ArchitectureConfig, Codable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var hiddenAct: String
    /// Width of one attention head; absent means hidden_size / heads. Set by structured pruning,
    /// which removes heads but keeps the hidden size (infbench's own key; Hugging Face has none).
    public var attentionHeadSize: Int?
    /// Class names by index ("0", "1", …), as Hugging Face's sequence classifiers store them.
    /// Present: the encoder ends in BERT's pooler and a classifier and outputs (B, labels) logits.
    public var id2label: [String: String]?

    /// Classes of the classification head, nil for a plain encoder.
    public var numLabels: Int? { id2label.map(\.count) }

    /// Head width d, and the attention width A = heads · d.
    public var headSize: Int { attentionHeadSize ?? hiddenSize / numHeads }
    public var attentionWidth: Int { numHeads * headSize }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case numLayers = "num_hidden_layers"
        case numHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps"
        case hiddenAct = "hidden_act"
        case attentionHeadSize = "infbench_attention_head_size"
        case id2label
    }

    public init(vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int, intermediateSize: Int,
                maxPositions: Int, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12, hiddenAct: String = "gelu",
                attentionHeadSize: Int? = nil, id2label: [String: String]? = nil) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
        self.attentionHeadSize = attentionHeadSize
        self.id2label = id2label
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numLayers = try c.decode(Int.self, forKey: .numLayers)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        maxPositions = try c.decode(Int.self, forKey: .maxPositions)
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        attentionHeadSize = try c.decodeIfPresent(Int.self, forKey: .attentionHeadSize)
        id2label = try c.decodeIfPresent([String: String].self, forKey: .id2label)
    }

    /// Nil when consistent, else the sentence saying what is wrong.
    public func problem() -> String? {
        for (key, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numLayers),
                         ("num_attention_heads", numHeads), ("intermediate_size", intermediateSize),
                         ("max_position_embeddings", maxPositions), ("type_vocab_size", typeVocabSize)] {
            if v < 1 { return "\(key) must be at least 1, got \(v)" }
            if v > 1 << 20 { return "\(key) = \(v) is implausibly large" }
        }
        if let d = attentionHeadSize {
            if d < 1 || d > hiddenSize { return "infbench_attention_head_size must lie in 1...\(hiddenSize), got \(d)" }
        } else if hiddenSize % numHeads != 0 {
            return "hidden_size \(hiddenSize) is not divisible by num_attention_heads \(numHeads)"
        }
        if !(layerNormEps > 0 && layerNormEps < 1) { return "layer_norm_eps must lie in (0, 1), got \(layerNormEps)" }
        if let id2label, Set(id2label.keys) != Set((0..<id2label.count).map(String.init)) || id2label.isEmpty {
            return "id2label must map \"0\"…\"n-1\" to class names, got keys \(id2label.keys.sorted())"
        }
        if hiddenAct != "gelu" { return "hidden_act \"\(hiddenAct)\" is not supported (only \"gelu\", the erf form)" }
        return nil
    }
}

public struct CNNConfig: ArchitectureConfig, Codable, Equatable {
    public struct Stage: Codable, Sendable, Equatable {
        public var outChannels: Int
        public var kernelSize: Int
        public var stride: Int
        public var padding: Int
        /// "max", "avg" or absent for no pooling.
        public var pool: Pool2D.Kind?
        public var poolSize: Int

        enum CodingKeys: String, CodingKey {
            case outChannels = "out_channels", kernelSize = "kernel_size", stride, padding, pool, poolSize = "pool_size"
        }

        public init(outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, pool: Pool2D.Kind? = nil, poolSize: Int = 2) {
            self.outChannels = outChannels
            self.kernelSize = kernelSize
            self.stride = stride
            self.padding = padding
            self.pool = pool
            self.poolSize = poolSize
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            outChannels = try c.decode(Int.self, forKey: .outChannels)
            kernelSize = try c.decode(Int.self, forKey: .kernelSize)
            stride = try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1
            padding = try c.decodeIfPresent(Int.self, forKey: .padding) ?? 0
            pool = try c.decodeIfPresent(Pool2D.Kind.self, forKey: .pool)
            poolSize = try c.decodeIfPresent(Int.self, forKey: .poolSize) ?? 2
        }
    }

    /// (C, H, W) of one image.
    public var inputShape: [Int]
    public var stages: [Stage]
    /// Widths of the hidden fully connected layers before the head.
    public var hidden: [Int]
    public var numClasses: Int

    enum CodingKeys: String, CodingKey {
        case inputShape = "input_shape", stages, hidden, numClasses = "num_classes"
    }

    public init(inputShape: [Int], stages: [Stage], hidden: [Int], numClasses: Int) {
        self.inputShape = inputShape
        self.stages = stages
        self.hidden = hidden
        self.numClasses = numClasses
    }

    public func problem() -> String? {
        if case .failure(let p) = featureShapes() { return p.message }
        return nil
    }

    /// Channels × height × width after every stage, or the sentence saying why the stack does not fit the input.
    public func featureShapes() -> Result<[[Int]], ConfigProblem> {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 && $0 <= 8192 }) else {
            return .failure(ConfigProblem("input_shape must be [channels, height, width] of positive sizes, got \(inputShape)"))
        }
        var (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        var shapes: [[Int]] = []
        for (i, s) in stages.enumerated() {
            // Upper bounds as for input_shape: beyond them `h + 2 * padding` and the weight sizes
            // the builder multiplies could overflow (a trap, not an error) long before memory runs out.
            guard s.outChannels >= 1, s.outChannels <= 65536, s.kernelSize >= 1, s.kernelSize <= 8192,
                  s.stride >= 1, s.padding >= 0, s.padding <= 8192, s.poolSize >= 1 else {
                return .failure(ConfigProblem("stage \(i) needs out_channels in 1...65536, kernel_size in 1...8192, "
                    + "padding in 0...8192, and stride and pool_size ≥ 1"))
            }
            // Checked before dividing: integer division truncates toward zero, so a kernel
            // larger than the padded map would otherwise yield a bogus output size of 1.
            guard h + 2 * s.padding >= s.kernelSize, w + 2 * s.padding >= s.kernelSize else {
                return .failure(ConfigProblem("stage \(i) shrinks the \(inputShape) input to nothing "
                    + "(its \(s.kernelSize)×\(s.kernelSize) kernel is larger than the padded \(h)×\(w) map)"))
            }
            h = (h + 2 * s.padding - s.kernelSize) / s.stride + 1
            w = (w + 2 * s.padding - s.kernelSize) / s.stride + 1
            c = s.outChannels
            if s.pool != nil {
                guard h >= s.poolSize, w >= s.poolSize else {
                    return .failure(ConfigProblem("stage \(i) pools a \(h)×\(w) map with a \(s.poolSize)×\(s.poolSize) window"))
                }
                h = (h - s.poolSize) / s.poolSize + 1
                w = (w - s.poolSize) / s.poolSize + 1
            }
            guard h >= 1, w >= 1 else {
                return .failure(ConfigProblem("stage \(i) shrinks the \(inputShape) input to nothing"))
            }
            guard h <= 8192, w <= 8192 else {  // padding can grow a map stage after stage
                return .failure(ConfigProblem("stage \(i) grows the \(inputShape) input to a \(h)×\(w) map, more than 8192 per side"))
            }
            shapes.append([c, h, w])
        }
        if hidden.contains(where: { $0 < 1 || $0 > 1 << 20 }) {
            return .failure(ConfigProblem("hidden widths must lie in 1...\(1 << 20), got \(hidden)"))
        }
        if numClasses < 1 || numClasses > 1 << 20 {
            return .failure(ConfigProblem("num_classes must lie in 1...\(1 << 20), got \(numClasses)"))
        }
        return .success(shapes)
    }
}

public struct ConfigProblem: Error { public let message: String; init(_ m: String) { message = m } }

/// A model directory's config.json: the kind, that kind's typed settings (checked once, at load),
/// and infbench's own keys.
public struct ModelConfig: Sendable {
    public var kind: ModelKind
    /// Seed for generated weights when the directory has no model.safetensors.
    public var seed: UInt64?
    /// The architecture's own settings, of the type its registry entry decodes (TransformerConfig, CNNConfig, …).
    public var settings: any ArchitectureConfig
    /// The generated dataset a trained model belongs to ("infbench_dataset"): its test split
    /// becomes the model's inputs and the harness reports accuracy on it.
    public var dataset: DatasetSpec?
    /// False keeps the model out of `infbench run`'s default model list ("infbench_in_default_suite").
    public var inDefaultSuite = true
    /// "infbench_description", if the config has one.
    public var description: String?

    public init(kind: ModelKind, seed: UInt64? = nil, settings: any ArchitectureConfig) {
        self.kind = kind
        self.seed = seed
        self.settings = settings
    }

    /// The settings as `T`, when the architecture's settings are of that type.
    public func settings<T: ArchitectureConfig>(as _: T.Type) -> T? { settings as? T }
    public var transformer: TransformerConfig? { settings(as: TransformerConfig.self) }
    public var cnn: CNNConfig? { settings(as: CNNConfig.self) }

    struct Header: Decodable {
        let modelType: String
        let seed: UInt64?
        let dataset: DatasetSpec?
        let inDefaultSuite: Bool?
        let description: String?
        enum CodingKeys: String, CodingKey {
            case modelType = "model_type", seed = "infbench_seed", dataset = "infbench_dataset", inDefaultSuite = "infbench_in_default_suite"
            case description = "infbench_description"
        }
    }

    /// Parses and checks a config.json; every failure is one sentence naming the file.
    public static func load(path: String) throws -> ModelConfig {
        if let problem = regularFileProblem(path) { throw ModelError("\(path): \(problem).") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError("\(path): cannot read the model configuration (missing or unreadable).")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> ModelConfig {
        try parse(data, path: path, locating: true)
    }

    /// `locating`: on a path-less "not valid JSON" from the decoder, find the field (no nested search).
    static func parse(_ data: Data, path: String, locating: Bool) throws -> ModelConfig {
        let decoder = JSONDecoder()
        do {
            let header = try decoder.decode(Header.self, from: data)
            guard let architecture = ModelArchitecture.named(header.modelType) else {
                throw ModelError("\(path): model_type \"\(header.modelType)\" is not one infbench runs (\(ModelArchitecture.all.map(\.kind.rawValue).joined(separator: ", "))).")
            }
            let settings = try architecture.decode(data)
            if let p = settings.problem() { throw ModelError("\(path): \(p).") }
            var config = ModelConfig(kind: architecture.kind, seed: header.seed, settings: settings)
            if let d = header.dataset, let p = d.problem() { throw ModelError("\(path): \(p).") }
            config.dataset = header.dataset
            config.inDefaultSuite = header.inDefaultSuite ?? true
            config.description = header.description
            return config
        } catch let e as ModelError {
            throw e
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ModelError("\(path): missing key \"\(keyPath(ctx.codingPath + [key]))\".")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let what = ctx.codingPath.isEmpty ? "the top level (a JSON object of settings)" : "\"\(keyPath(ctx.codingPath))\""
            throw ModelError("\(path): \(what) has the wrong type (\(ctx.debugDescription)).")
        } catch let DecodingError.dataCorrupted(ctx) {
            // An empty coding path means the bytes are not JSON; otherwise a value is out of range (e.g. pool "median").
            if ctx.codingPath.isEmpty {
                do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
                    throw ModelError("\(path): not valid JSON (\(jsonSyntaxLocation(in: data, error: error) ?? ctx.debugDescription)).")
                }
                // Valid JSON the decoder still calls invalid: a number that does not fit its field.
                if locating, let bad = locateUndecodableNumber(in: data, fails: { d in
                    do { _ = try parse(d, path: path, locating: false); return false } catch let e as ModelError {
                        return e.message.contains(Self.undecodableValue)
                    } catch { return false }
                }) {
                    throw ModelError("\(path): \"\(bad.field)\" is \(bad.value), which does not fit the field (a whole number is expected there, or the number is out of range).")
                }
                throw ModelError("\(path): \(Self.undecodableValue) (\(ctx.debugDescription)).")
            }
            throw ModelError("\(path): \"\(keyPath(ctx.codingPath))\" has an invalid value (\(ctx.debugDescription)).")
        } catch {
            throw ModelError("\(path): cannot parse the model configuration (\(error)).")
        }
    }

    /// The message of a path-less decoder failure (what `locateUndecodableNumber` bisects on).
    static let undecodableValue = "a value does not fit its field"

    private static func keyPath(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// One clear sentence naming the file, tensor or option at fault.
public struct ModelError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
