// Optimisers. Both keep their state per parameter (velocity, moments), honour a
// parameter's mask after every step (pruned weights stay exactly zero) and apply
// weight decay only to parameters that decay (weight matrices).
//   SGD:  v = μ v + (g + λ θ);  θ −= η v
//   Adam (AdamW, decoupled decay): m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²;
//         θ −= η (m̂ / (√v̂ + ε) + λ θ),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
import Foundation
import InfCore

public protocol Optimizer: AnyObject {
    /// One update of every parameter from its accumulated gradient, at learning rate η.
    func step(_ parameters: [Parameter], learningRate: Float)
}

public final class SGD: Optimizer {
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [ObjectIdentifier: [Float]] = [:]

    public init(momentum: Float = 0.9, weightDecay: Float = 0) {
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter], learningRate lr: Float) {
        for p in parameters {
            var v = velocity[ObjectIdentifier(p)] ?? [Float](repeating: 0, count: p.value.count)
            let decay = p.decays ? weightDecay : 0
            for i in 0..<v.count {
                v[i] = momentum * v[i] + p.grad.storage[i] + decay * p.value.storage[i]
                p.value.storage[i] -= lr * v[i]
            }
            velocity[ObjectIdentifier(p)] = v
            applyMask(p)
        }
    }
}

public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var moments: [ObjectIdentifier: (m: [Float], v: [Float])] = [:]
    private var t = 0

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter], learningRate lr: Float) {
        t += 1
        let c1 = 1 - Float(pow(Double(beta1), Double(t))), c2 = 1 - Float(pow(Double(beta2), Double(t)))
        for p in parameters {
            let n = p.value.count
            var (m, v) = moments[ObjectIdentifier(p)] ?? ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
            let decay = p.decays ? weightDecay : 0
            for i in 0..<n {
                let g = p.grad.storage[i]
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                p.value.storage[i] -= lr * ((m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon) + decay * p.value.storage[i])
            }
            moments[ObjectIdentifier(p)] = (m, v)
            applyMask(p)
        }
    }
}

private func applyMask(_ p: Parameter) {
    guard let mask = p.mask else { return }
    for i in 0..<mask.count where mask[i] == 0 { p.value.storage[i] = 0 }
}

/// Linear warm-up then cosine decay to zero over `totalSteps`.
public struct CosineSchedule: Sendable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = max(totalSteps, 1)
    }

    public func learningRate(step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let progress = Double(step - warmupSteps) / Double(max(totalSteps - warmupSteps, 1))
        return peak * Float(0.5 * (1 + cos(Double.pi * min(progress, 1))))
    }
}
