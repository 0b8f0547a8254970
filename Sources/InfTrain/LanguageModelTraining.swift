// Causal language-model training for a decoder (TrainableDecoder, or any trainable model whose
// logits are (B, T, V) next-token predictions): random windows of T+1 tokens from the
// training stream (seeded), next-token cross-entropy at every position, AdamW with warm-up and
// cosine decay. Deterministic for a fixed seed and thread count (as Trainer.swift).
//   L = mean over the B·T positions of −log softmax(logits)[next token],
//   ∂L/∂logits = (softmax − onehot) / (B·T)
import Foundation
import InfCore
import InfModels

public struct LanguageModelTrainingOptions: Sendable, Codable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var contextLength: Int
    public var learningRate: Float
    public var weightDecay: Float
    /// Fraction of the steps spent warming the learning rate up.
    public var warmup: Float
    public var seed: UInt64

    public init(steps: Int, batchSize: Int, contextLength: Int, learningRate: Float, weightDecay: Float = 0.01,
                warmup: Float = 0.05, seed: UInt64 = 19) {
        self.steps = steps
        self.batchSize = batchSize
        self.contextLength = contextLength
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.warmup = warmup
        self.seed = seed
    }
}

public struct LanguageModelLog: Sendable, Codable {
    public var step: Int
    /// Mean training loss (nats per token) over the steps since the previous log line.
    public var trainLoss: Double
    public var validationPerplexity: Double
    public var seconds: Double
}

/// Next-token cross-entropy over (N, V) logits, mean over rows, in Float with a max shift
/// (the loss sum itself in Double); the gradient written in place of nothing: a new tensor.
public func languageModelLoss(logits: Tensor, targets: [Int32]) -> LossValue {
    let (n, v) = (logits.rows, logits.lastDim)
    precondition(targets.count == n, "\(targets.count) targets for \(n) rows of logits")
    var grad = Tensor(zeros: logits.shape)
    var total = 0.0
    logits.storage.withUnsafeBufferPointer { lp in
        grad.storage.withUnsafeMutableBufferPointer { gp in
            let inv = 1 / Float(n)
            for r in 0..<n {
                let row = lp.baseAddress! + r * v, g = gp.baseAddress! + r * v
                var m = -Float.infinity
                for j in 0..<v { m = max(m, row[j]) }
                var sum: Float = 0
                for j in 0..<v { let e = expf(row[j] - m); g[j] = e; sum += e }
                let scale = inv / sum
                for j in 0..<v { g[j] *= scale }
                let y = Int(targets[r])
                precondition(y >= 0 && y < v, "target \(y) outside 0..<\(v)")
                g[y] -= inv
                total += Double(logf(sum) + m - row[y])
            }
        }
    }
    return LossValue(loss: total / Double(n), gradient: grad)
}

public enum LanguageModelTrainer {
    /// Trains `parameters` of `model` (all of them by default) on random windows of `train`; the
    /// model's forward maps token ids (B·T) to logits (B, T, V). Masked parameters keep their zeros.
    /// `validate` is called every `logEvery` steps and at the end; `progress` gets each log line.
    @discardableResult
    public static func train(_ model: TrainableClassifier, train: TokenStream, options: LanguageModelTrainingOptions,
                             parameters: [Parameter]? = nil, logEvery: Int = 200,
                             validate: () -> Double, progress: (LanguageModelLog) -> Void = { _ in }) -> [LanguageModelLog] {
        let t = options.contextLength
        precondition(train.ids.count > t + 1, "the training stream (\(train.ids.count) tokens) is shorter than one window")
        let trained = parameters ?? model.parameters
        let optimizer = Adam(beta1: 0.9, beta2: 0.95, weightDecay: options.weightDecay)
        let schedule = CosineSchedule(peak: options.learningRate, warmupSteps: Int(options.warmup * Float(options.steps)),
                                      totalSteps: options.steps)
        var rng = SeededRNG(seed: options.seed)
        var logs: [LanguageModelLog] = []
        var lossSum = 0.0, lossCount = 0
        var start = monotonicNanoseconds()
        for step in 0..<options.steps {
            var inputs: [Int32] = [], targets: [Int32] = []
            inputs.reserveCapacity(options.batchSize * t)
            for _ in 0..<options.batchSize {
                let s = rng.nextInt(below: train.ids.count - t - 1)
                inputs += train.ids[s..<(s + t)]
                targets += train.ids[(s + 1)...(s + t)]
            }
            let logits = model.forward(.tokens(ids: inputs, mask: nil, batch: options.batchSize, length: t))
            let loss = languageModelLoss(logits: logits.reshaped([targets.count, logits.lastDim]), targets: targets)
            model.parameters.forEach { $0.zeroGrad() }
            model.backward(loss.gradient)
            optimizer.step(trained, learningRate: schedule.learningRate(step: step))
            lossSum += loss.loss
            lossCount += 1
            if (step + 1) % logEvery == 0 || step + 1 == options.steps {
                let log = LanguageModelLog(step: step + 1, trainLoss: lossSum / Double(lossCount), validationPerplexity: validate(),
                                           seconds: Double(monotonicNanoseconds() - start) / 1e9)
                logs.append(log)
                progress(log)
                (lossSum, lossCount, start) = (0, 0, monotonicNanoseconds())
            }
        }
        return logs
    }
}
