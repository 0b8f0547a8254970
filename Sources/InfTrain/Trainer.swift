// Mini-batch training: shuffled batches, forward, loss (cross-entropy, or the
// distillation loss against a teacher's logits), backward, one optimiser step.
// Deterministic for a fixed seed and thread count: the shuffle comes from the
// seed, every reduction runs in a fixed order, and OpenBLAS splits a GEMM's
// output (never its inner sum) over threads.
import Foundation
import InfCore
import InfModels

public struct TrainingOptions: Sendable, Codable, Equatable {
    public enum OptimizerKind: String, Sendable, Codable { case sgd, adam }
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var weightDecay: Float
    /// SGD's momentum μ (Adam ignores it).
    public var momentum: Float
    /// Fraction of all steps spent warming the learning rate up before the cosine decay.
    public var warmup: Float
    public var seed: UInt64
    /// Distillation temperature τ and soft-target weight α (used only with a teacher).
    public var temperature: Float
    public var alpha: Float

    public init(epochs: Int, batchSize: Int, optimizer: OptimizerKind, learningRate: Float, weightDecay: Float = 0,
                momentum: Float = 0.9, warmup: Float = 0.05, seed: UInt64 = 1, temperature: Float = 4, alpha: Float = 0.9) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.warmup = warmup
        self.seed = seed
        self.temperature = temperature
        self.alpha = alpha
    }
}

public struct EpochLog: Sendable, Codable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationAccuracy: Double
    public var seconds: Double
}

public enum Trainer {
    /// Fits `model` to `data`. With `teacherLogits` (N, classes) for every training example,
    /// the loss is the distillation loss at `options.temperature` and `options.alpha`.
    /// `progress` receives one line per epoch.
    @discardableResult
    public static func train(_ model: TrainableClassifier, data: LabelledExamples, validation: LabelledExamples,
                             options: TrainingOptions, teacherLogits: Tensor? = nil,
                             progress: (EpochLog) -> Void = { _ in }) -> [EpochLog] {
        precondition(options.epochs >= 0 && options.batchSize >= 1, "epochs must be ≥ 0 and batch size ≥ 1")
        if let teacherLogits { precondition(teacherLogits.rows == data.count, "teacher logits for \(teacherLogits.rows) examples, data has \(data.count)") }
        let stepsPerEpoch = (data.count + options.batchSize - 1) / options.batchSize
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: Int(options.warmup * Float(stepsPerEpoch * options.epochs)),
                                      totalSteps: stepsPerEpoch * options.epochs)
        let optimizer: Optimizer = options.optimizer == .sgd
            ? SGD(momentum: options.momentum, weightDecay: options.weightDecay)
            : Adam(weightDecay: options.weightDecay)
        let parameters = model.parameters
        var rng = SeededRNG(seed: options.seed)
        var logs: [EpochLog] = []
        var step = 0
        for epoch in stride(from: 1, through: options.epochs, by: 1) {
            let start = monotonicNanoseconds()
            var order = Array(0..<data.count)
            order.shuffle(using: &rng)
            var lossSum = 0.0
            for s in 0..<stepsPerEpoch {
                let indices = Array(order[(s * options.batchSize)..<min((s + 1) * options.batchSize, data.count)])
                let labels = indices.map { data.labels[$0] }
                let logits = model.forward(data.input(indices))
                let teacher = teacherLogits.map { gatherRows($0, indices) }
                let loss = distillationLoss(student: logits, teacher: teacher, labels: labels,
                                            temperature: options.temperature, alpha: options.alpha)
                parameters.forEach { $0.zeroGrad() }
                model.backward(loss.gradient)
                optimizer.step(parameters, learningRate: schedule.learningRate(step: step))
                step += 1
                lossSum += loss.loss * Double(indices.count)
            }
            let log = EpochLog(epoch: epoch, trainLoss: lossSum / Double(data.count),
                               validationAccuracy: accuracy(of: predictions(model, validation), validation.labels),
                               seconds: Double(monotonicNanoseconds() - start) / 1e9)
            logs.append(log)
            progress(log)
        }
        return logs
    }

    /// Arg-max class of every example under the trainable model.
    public static func predictions(_ model: TrainableClassifier, _ data: LabelledExamples) -> [Int32] {
        argmax(collectLogits(model.forward, data))
    }
}

func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let k = t.lastDim
    var out = [Float]()
    out.reserveCapacity(rows.count * k)
    for r in rows { out += t.storage[(r * k)..<((r + 1) * k)] }
    return Tensor(shape: [rows.count, k], storage: out)
}
