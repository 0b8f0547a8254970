// Knowledge distillation, end to end, for one task (a generated dataset and a
// teacher/student pair of architectures):
//   1. train the teacher on the hard labels;
//   2. train the student from scratch on the hard labels (the baseline a student must beat);
//   3. train the same student on the teacher's softened outputs mixed with the labels
//      (Hinton et al.: temperature τ, weight α), optionally starting from alternate
//      teacher layers (DistilBERT);
// and save each as a checkpoint directory (config.json + model.safetensors) that the
// ordinary loader reads. Same seed and thread count → the same weights, bit for bit.
import Foundation
import InfCore
import InfModels

public enum Architecture: Sendable {
    case cnn(CNNConfig)
    case encoder(TransformerConfig)

    /// What a config.json of this model says: the registry builds the model from it.
    public var modelConfig: ModelConfig {
        switch self {
        case .cnn(let c): return ModelConfig(kind: .cnn, settings: c)
        case .encoder(let c): return ModelConfig(kind: .bert, settings: c)
        }
    }
}

public struct DistillationTask: Sendable {
    /// "shapes" or "sentiment"; the checkpoints are <name>-teacher, <name>-student, <name>-distilled.
    public var name: String
    public var dataset: DatasetSpec
    public var teacher: Architecture
    public var student: Architecture
    public var teacherTraining: TrainingOptions
    public var studentTraining: TrainingOptions
    /// Teacher layers a distilled encoder student starts from (DistilBERT took every other one); nil: seeded start.
    public var studentLayersFromTeacher: [Int]?
    public var describeTeacher: String
    public var describeStudent: String

    public enum Role: String, Sendable, Codable, CaseIterable {
        case teacher, student = "scratch student", distilled = "distilled student"
        public var suffix: String { ["teacher", "student", "distilled"][Role.allCases.firstIndex(of: self)!] }
    }

    public func checkpointName(_ role: Role) -> String { "\(name)-\(role.suffix)" }
}

/// What training produced for one role.
public struct TrainedCheckpoint {
    public var role: DistillationTask.Role
    public var name: String
    public var tensors: [(name: String, tensor: Tensor)]
    public var config: [String: Any]
    public var log: [EpochLog]
    public var testAccuracy: Double
}

public enum Distillation {
    /// Trains teacher, scratch student and distilled student; `say` gets progress lines.
    public static func run(_ task: DistillationTask, roles: [DistillationTask.Role] = DistillationTask.Role.allCases,
                           teacherCheckpoint: [String: Tensor]? = nil, say: (String) -> Void) throws -> [TrainedCheckpoint] {
        let train = task.dataset.generate(.train), validation = task.dataset.generate(.validation), test = task.dataset.generate(.test)
        say("\(task.name): \(train.count) training, \(validation.count) validation, \(test.count) test examples (dataset \(task.dataset.name), seed \(task.dataset.seed))")
        var out: [TrainedCheckpoint] = []

        func fit(_ role: DistillationTask.Role, _ architecture: Architecture, start: [String: Tensor]?, options: TrainingOptions,
                 teacherLogits: Tensor?) throws -> TrainedCheckpoint {
            let model = try trainable(architecture, start: start, seed: options.seed)
            let count = model.parameters.reduce(0) { $0 + $1.value.count }
            say("\(task.checkpointName(role)): training the \(role.rawValue) (\(count) parameters, \(options.epochs) epochs, \(options.optimizer.rawValue))")
            let log = Trainer.train(model, data: train, validation: validation, options: options, teacherLogits: teacherLogits) { e in
                say(String(format: "  epoch %2d  loss %.4f  validation accuracy %.2f%%  (%.1f s)", e.epoch, e.trainLoss, 100 * e.validationAccuracy, e.seconds))
            }
            let testAccuracy = accuracy(of: Trainer.predictions(model, test), test.labels)
            say(String(format: "  test accuracy %.2f%%", 100 * testAccuracy))
            return TrainedCheckpoint(role: role, name: task.checkpointName(role), tensors: model.namedTensors(),
                                     config: configJSON(task, role, architecture, options: options, log: log, testAccuracy: testAccuracy),
                                     log: log, testAccuracy: testAccuracy)
        }

        var teacherTensors = teacherCheckpoint
        if roles.contains(.teacher) {
            let t = try fit(.teacher, task.teacher, start: nil, options: task.teacherTraining, teacherLogits: nil)
            teacherTensors = Dictionary(uniqueKeysWithValues: t.tensors)
            out.append(t)
        }
        if roles.contains(.student) {
            out.append(try fit(.student, task.student, start: nil, options: task.studentTraining, teacherLogits: nil))
        }
        if roles.contains(.distilled) {
            guard let teacherTensors else { throw ModelError("\(task.name): distilling needs the teacher; train it too or keep \(task.checkpointName(.teacher)).") }
            let teacher = try inferenceModel(task.teacher, tensors: teacherTensors, name: task.checkpointName(.teacher))
            let logits = collectLogits(teacher.forward, train)
            let start = task.studentLayersFromTeacher.map { selectLayers(teacherTensors, $0) }
            out.append(try fit(.distilled, task.student, start: start, options: task.studentTraining, teacherLogits: logits))
        }
        return out
    }

    static func trainable(_ architecture: Architecture, start: [String: Tensor]?, seed: UInt64) throws -> TrainableClassifier {
        let weights: WeightSource = start.map { TensorDictionaryWeights($0, label: "teacher layers") } ?? SeededWeights(seed: seed)
        let model = try ModelArchitecture.build(architecture.modelConfig, name: architecture.modelConfig.kind.rawValue, weights: weights)
        guard let trainable = (model as? any TrainableModel)?.makeTrainable() else {
            throw ModelError("\(model.name): not a classifier the trainer can fit.")
        }
        return trainable
    }

    public static func inferenceModel(_ architecture: Architecture, tensors: [String: Tensor], name: String) throws -> InferenceModel {
        try ModelArchitecture.build(architecture.modelConfig, name: name, weights: TensorDictionaryWeights(tensors, label: name))
    }

    /// The teacher's tensors with encoder layer `layers[i]` renamed to layer i (embeddings, pooler
    /// and classifier kept): DistilBERT's initialisation of a shallower student.
    public static func selectLayers(_ tensors: [String: Tensor], _ layers: [Int]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in tensors {
            guard name.hasPrefix("encoder.layer.") else { out[name] = t; continue }
            let rest = name.dropFirst("encoder.layer.".count)
            guard let dot = rest.firstIndex(of: "."), let source = Int(rest[..<dot]), let target = layers.firstIndex(of: source) else { continue }
            out["encoder.layer.\(target)\(rest[dot...])"] = t
        }
        return out
    }

    static func configJSON(_ task: DistillationTask, _ role: DistillationTask.Role, _ architecture: Architecture,
                           options: TrainingOptions, log: [EpochLog], testAccuracy: Double) -> [String: Any] {
        func object<T: Encodable>(_ value: T) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(value))) as? [String: Any] ?? [:]
        }
        var json: [String: Any]
        switch architecture {
        case .cnn(let c): json = object(c); json["model_type"] = "cnn"
        case .encoder(let c): json = object(c); json["model_type"] = "bert"
        }
        let how: String
        switch role {
        case .teacher: how = "trained on the labels"
        case .student: how = "trained from scratch on the labels"
        case .distilled: how = String(format: "distilled from %@ (τ %g, α %g)%@", task.checkpointName(.teacher), options.temperature, options.alpha,
                                      task.studentLayersFromTeacher.map { ", initialised from its layers \($0.map(String.init).joined(separator: ", "))" } ?? "")
        }
        json["infbench_description"] = "\(role == .teacher ? task.describeTeacher : task.describeStudent); \(how) "
            + String(format: "by `infbench distill` (test accuracy %.2f%%)", 100 * testAccuracy)
        json["infbench_dataset"] = object(task.dataset)
        // The students are compared by `infbench distill`; the default run grid measures the teachers.
        if role != .teacher { json["infbench_in_default_suite"] = false }
        var training = object(options)
        if role != .distilled { training["temperature"] = nil; training["alpha"] = nil }
        json["infbench_training"] = [
            "role": role.rawValue, "options": training, "threads": BLAS.threads, "openblas_core": BLAS.coreName,
            "epochs": log.map { ["epoch": $0.epoch, "train_loss": $0.trainLoss, "validation_accuracy": $0.validationAccuracy, "seconds": $0.seconds] as [String: Any] },
            "test_accuracy": testAccuracy,
        ] as [String: Any]
        return json
    }

    /// Writes `checkpoint` as `directory/<name>/{config.json, model.safetensors}`, replacing an
    /// existing one only once both files are complete.
    public static func save(_ checkpoint: TrainedCheckpoint, in directory: String) throws {
        let fm = FileManager.default
        let target = "\(directory)/\(checkpoint.name)", staging = "\(target).partial-\(getpid())"
        do {
            try? fm.removeItem(atPath: staging)
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: checkpoint.config, options: [.prettyPrinted, .sortedKeys])
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: "\(staging)/config.json"))
        } catch {
            try? fm.removeItem(atPath: staging)
            throw ModelError("\(target): cannot write the checkpoint (\(error.localizedDescription)).")
        }
        do {
            try SafetensorsWriter.write(checkpoint.tensors, metadata: ["format": "pt", "producer": "infbench distill"], to: "\(staging)/model.safetensors")
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        try? fm.removeItem(atPath: target)
        do { try fm.moveItem(atPath: staging, toPath: target) } catch {
            throw ModelError("\(target): cannot move the finished checkpoint into place (\(error.localizedDescription)).")
        }
    }
}
