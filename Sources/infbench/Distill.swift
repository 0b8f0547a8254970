// `infbench distill`: retrain the bundled teachers and students, then compare them.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfMeasure
import InfModels
import InfTrain

struct Distill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train teachers, scratch students and distilled students; compare size, speed and accuracy.",
        discussion: """
        For each task (shapes: a CNN on generated images; sentiment: a BERT encoder on generated sentences),
        trains the teacher, a smaller student from scratch, and the same student by knowledge distillation,
        writes the checkpoints to --models-dir (default: the bundled Models/ folder), then measures all three.
        Same seed and thread count → the same weights and accuracies. --no-train measures the existing checkpoints.
        """)

    @Option(help: "Tasks to run, comma-separated: shapes, sentiment. (default: both)")
    var task: String = "shapes,sentiment"

    @Option(name: .customLong("models-dir"), help: "Where the checkpoints are written and read. (default: the bundled Models/ folder)")
    var modelsDirectory: String?

    @Flag(name: .customLong("no-train"), help: "Measure the existing checkpoints without retraining.")
    var noTrain = false

    @Option(help: "Which checkpoints to retrain, comma-separated: teacher, student, distilled; without the teacher, the distilled student learns from the teacher checkpoint in --models-dir. (default: all three)")
    var roles: String = "teacher,student,distilled"

    @Option(help: "Override every recipe's epoch count (quick trials; the committed checkpoints use the recipes').")
    var epochs: Int?

    @Option(help: "Override the distillation temperature τ of every recipe.")
    var temperature: Float?

    @Option(help: "Override the soft-target weight α of every recipe (0: labels only, 1: teacher only).")
    var alpha: Float?

    @Option(name: .customLong("student-optimizer"), help: "Override the students' optimiser: sgd or adam.")
    var studentOptimizer: String?

    @Option(name: .customLong("student-lr"), help: "Override the students' peak learning rate.")
    var studentLearningRate: Float?

    @Option(name: .customLong("train-limit"), help: "Train on only the first N training examples (quick trials).")
    var trainLimit: Int?

    @Option(help: "Threads for training and measuring (training is deterministic for a fixed count).")
    var threads: Int = 1

    @Option(name: .customLong("large-batch"), help: "Batch size for the throughput column.")
    var largeBatch: Int = 256

    @Option(help: "Seed for the timed inputs and the bootstrap.")
    var seed: UInt64 = 42

    @Option(help: "Write the comparison as JSON to this file (atomically).")
    var output: String?

    @OptionGroup var measurement: MeasurementOptions

    func validate() throws {
        if let epochs { try checkRange("--epochs", epochs, 1...1000) }
        if let trainLimit { try checkRange("--train-limit", trainLimit, 1...1_000_000) }
        if let temperature { try checkRange("--temperature", Double(temperature), 0.1...100) }
        if let alpha { try checkRange("--alpha", Double(alpha), 0...1) }
        if let studentLearningRate { try checkRange("--student-lr", Double(studentLearningRate), 1e-6...10) }
        if let studentOptimizer, TrainingOptions.OptimizerKind(rawValue: studentOptimizer) == nil {
            throw ValidationError("--student-optimizer must be sgd or adam, got \"\(studentOptimizer)\".")
        }
        try checkRange("--threads", threads, 1...256)
        warnAboutOversubscription([threads])
        try checkRange("--large-batch", largeBatch, 2...4096)
        _ = try tasks()
        _ = try parsedRoles()
    }

    func parsedRoles() throws -> [DistillationTask.Role] {
        try roles.split(separator: ",", omittingEmptySubsequences: false).map { name in
            guard let role = DistillationTask.Role.allCases.first(where: { $0.suffix == name.trimmingCharacters(in: .whitespaces) }) else {
                throw ValidationError("--roles \"\(name)\" is not one of teacher, student, distilled.")
            }
            return role
        }
    }

    func tasks() throws -> [DistillationTask] {
        try task.split(separator: ",", omittingEmptySubsequences: false).map { name in
            guard let t = DistillationTask.all.first(where: { $0.name == name.trimmingCharacters(in: .whitespaces) }) else {
                throw ValidationError("--task \"\(name)\" is not a distillation task (\(DistillationTask.all.map(\.name).joined(separator: ", "))).")
            }
            return t
        }
    }

    func run() throws {
        // OpenBLAS (the training engine's threads, and every GEMM it runs) on --threads for this
        // command only; infbench's own loops get an execution context of the same count.
        try BLAS.withThreads(threads) { try execute(ExecutionContext(threads: threads)) }
    }

    private func execute(_ context: ExecutionContext) throws {
        let directory = modelsDirectory ?? ModelLoader.modelsDirectory
        if let output { try checkWritable(output) }
        if !noTrain { try checkWritableDirectory(directory, option: "--models-dir") }
        let say: (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        var models: [(task: String, role: String, loaded: LoadedModel)] = []
        for var task in try tasks() {
            if let epochs { task.teacherTraining.epochs = epochs; task.studentTraining.epochs = epochs }
            if let trainLimit { task.dataset.train = min(task.dataset.train, trainLimit) }
            if let temperature { task.studentTraining.temperature = temperature }
            if let alpha { task.studentTraining.alpha = alpha }
            if let studentLearningRate { task.studentTraining.learningRate = studentLearningRate }
            if let kind = studentOptimizer.flatMap(TrainingOptions.OptimizerKind.init) { task.studentTraining.optimizer = kind }
            if !noTrain {
                let roles = try parsedRoles()
                var teacher: [String: Tensor]?
                if !roles.contains(.teacher) && roles.contains(.distilled) {
                    let path = "\(directory)/\(task.checkpointName(.teacher))"
                    guard FileManager.default.fileExists(atPath: "\(path)/model.safetensors") else {
                        throw ValidationError("\(path): no teacher checkpoint to distil from; include teacher in --roles.")
                    }
                    teacher = Dictionary(uniqueKeysWithValues: try ModelLoader.load(path).model.namedTensors().map { ($0.name, $0.tensor) })
                }
                for checkpoint in try Distillation.run(task, roles: roles, teacherCheckpoint: teacher, say: say) {
                    let recorded = recordedTestAccuracy("\(directory)/\(checkpoint.name)/config.json")
                    try Distillation.save(checkpoint, in: directory)
                    var line = String(format: "wrote %@/%@: test accuracy %.2f%%", directory, checkpoint.name, 100 * checkpoint.testAccuracy)
                    if let recorded {
                        line += String(format: "; the checkpoint it replaced recorded %.2f%% (%@)", 100 * recorded,
                                       recorded == checkpoint.testAccuracy ? "reproduced" : "different: another seed, recipe, thread count or machine")
                    }
                    say(line)
                }
            }
            for role in DistillationTask.Role.allCases {
                let path = "\(directory)/\(task.checkpointName(role))"
                guard FileManager.default.fileExists(atPath: "\(path)/model.safetensors") else {
                    throw ValidationError("\(path): no trained checkpoint; run `infbench distill --task \(task.name)` without --no-train first.")
                }
                models.append((task.name, role.rawValue, try ModelLoader.load(path)))
            }
        }
        let progress = ScenarioOptions.progressLine()
        let result = try DistillBench.run(models, threads: threads, largeBatch: largeBatch, policy: measurement.policy(seed: seed), seed: seed,
                                          progress: progress.say)
        progress.done()
        print(DistillBench.render(result), terminator: "")
        if let output, let envelope = result.envelope {
            try writeAtomically(printer(for: .json).render(envelope), to: output)
            FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
        }
    }

    /// The test accuracy a checkpoint's config.json recorded when it was trained, if any.
    func recordedTestAccuracy(_ configPath: String) -> Double? {
        guard let data = FileManager.default.contents(atPath: configPath),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let training = json["infbench_training"] as? [String: Any] else { return nil }
        return training["test_accuracy"] as? Double
    }
}

/// Creates `directory` if needed; throws one sentence naming the option when it cannot be written.
func checkWritableDirectory(_ directory: String, option: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
        guard isDir.boolValue else { throw ValidationError("\(option) \(directory) is a file, not a directory.") }
    } else {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ValidationError("\(option) \(directory): cannot create the directory (\(error.localizedDescription)).")
        }
    }
    guard FileManager.default.isWritableFile(atPath: directory) else {
        throw ValidationError("\(option) \(directory) is not writable.")
    }
}
