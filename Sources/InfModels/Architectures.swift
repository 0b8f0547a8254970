// The registry: which model a config.json's `model_type` means. An architecture is one file (its
// typed settings, its declared parameters, its forward pass) and one line in `ModelArchitecture.all`;
// loading, the memory estimate and every command reach a model through this table and through
// capability protocols (CausalLanguageModel, TokenModel, StructurallyPrunable, …), never its type.
import Foundation
import InfCore

/// An architecture's settings as config.json spells them, checked once at load.
public protocol ArchitectureConfig: Decodable, Sendable {
    /// Nil when consistent, else the sentence naming the field at fault (the loader adds the file).
    func problem() -> String?
}

/// A model the registry builds from a config.json.
public protocol RegisteredModel: DeclaredModel where Config: ArchitectureConfig {
    init(name: String, config: Config, weights: WeightSource) throws
    /// Reads what the model uses beside its checkpoint (a vocabulary, photographs), after the weights
    /// loaded; returns notes for the report.
    func attachFiles(directory: String?, configPath: String) throws -> [String]
    /// Takes the test split of the model's generated dataset as its inputs, or says in one sentence why it does not fit.
    func attachEvaluation(_ examples: LabelledExamples, dataset: String, configPath: String) throws
}

extension RegisteredModel {
    /// Loads (or generates) every declared parameter, each name and shape checked (and folded as
    /// the declaration says, e.g. EfficientNet's BN).
    public init(name: String, config: Config, weights: WeightSource) throws {
        try self.init(structureFor: config, name: name)
        try load(from: weights)
    }

    /// The same model with `tensors` under checkpoint names (each name and shape checked), fed the same inputs.
    public func rebuilt(tensors: [String: Tensor], label: String) throws -> InferenceModel {
        let model = try Self(name: name, config: config, weights: TensorDictionaryWeights(tensors, label: label))
        model.attachments = attachments
        return model
    }

    public func attachFiles(directory: String?, configPath: String) throws -> [String] { [] }
    public func attachEvaluation(_ examples: LabelledExamples, dataset: String, configPath: String) throws {
        throw ModelError("\(configPath): infbench_dataset \"\(dataset)\" does not fit a \(kind.rawValue) model.")
    }
}

/// One registry entry: a `model_type` and the model it builds.
public struct ModelArchitecture: Sendable {
    public let kind: ModelKind
    let decode: @Sendable (Data) throws -> any ArchitectureConfig
    let build: @Sendable (_ name: String, _ settings: any ArchitectureConfig, _ weights: WeightSource) throws -> any RegisteredModel
    let parameters: @Sendable (any ArchitectureConfig) -> [ParameterSpec]

    public init<M: RegisteredModel>(_ kind: ModelKind, _ model: M.Type) {
        self.kind = kind
        decode = { try JSONDecoder().decode(M.Config.self, from: $0) }
        build = { name, settings, weights in
            guard let config = settings as? M.Config else { throw ModelError("\(name): the settings are not a \(kind.rawValue) configuration.") }
            return try M(name: name, config: config, weights: weights)
        }
        parameters = { settings in (settings as? M.Config).map { M.parameters($0).flatMap(\.executedSpecs) } ?? [] }
    }

    /// Every architecture infbench runs: a new model is its file plus one line here.
    public static let all: [ModelArchitecture] = [
        ModelArchitecture(.bert, TransformerEncoder.self),
        ModelArchitecture(.gpt, TransformerDecoder.self),
        ModelArchitecture(.cnn, CNN.self),
        ModelArchitecture(.efficientnet, EfficientNet.self),
    ]

    public static func named(_ modelType: String) -> ModelArchitecture? { all.first { $0.kind.rawValue == modelType } }

    /// The tensors a model of this configuration holds as it executes, from its declaration alone
    /// (no weights loaded): what the memory estimate counts.
    public static func executedParameters(_ config: ModelConfig) -> [ParameterSpec] {
        named(config.kind.rawValue)?.parameters(config.settings) ?? []
    }

    /// Builds the model of `config` with `weights`; a model of any architecture, rebuilt with other
    /// settings (a pruned copy), goes through here too.
    public static func build(_ config: ModelConfig, name: String, weights: WeightSource) throws -> any RegisteredModel {
        guard let a = named(config.kind.rawValue) else { throw ModelError("\(name): model_type \"\(config.kind.rawValue)\" is not registered.") }
        return try a.build(name, config.settings, weights)
    }
}
