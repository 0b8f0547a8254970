// Adaptive softmax (Grave et al. 2017) as a trainable output layer, fine-tuned on the final hidden
// states of a frozen decoder (its body and final LayerNorm do not change, so the states are computed
// once). With cutoffs K = c₀ < c₁ < … < V, a token y has
//   log p(y) = log softmax(W_h h)[y]                                     if y < K (the head)
//   log p(y) = log softmax(W_h h)[K + i] + log softmax(O_i P_i h)[y − cᵢ]   if y in tail cluster i,
// W_h (K + clusters, C) with bias, P_i (d_i, C) a reduced projection, O_i (size_i, d_i).
// Both terms are the next-token cross-entropy of languageModelLoss; a tail's term is scaled by
// its share of the rows so the whole is the mean over all N rows.
import Foundation
import InfCore
import InfModels

public final class TrainableAdaptiveSoftmax {
    public let cutoffs: [Int]
    let head: LinearLayer           // (K + clusters, C)
    let projections: [LinearLayer]  // (d_i, C)
    let outputs: [LinearLayer]      // (size_i, d_i)

    /// Starts from an inference adaptive head (e.g. derived from the full output layer).
    public init(_ start: AdaptiveSoftmaxHead) {
        cutoffs = start.cutoffs
        func layer(_ name: String, _ l: Linear) -> LinearLayer {
            let w = l.weights.dense()
            return LinearLayer(name: name, weight: w, bias: l.bias ?? Tensor(zeros: [w.shape[0]]))
        }
        head = layer("head", start.head)
        projections = start.tails.enumerated().map { layer("tail.\($0.offset).proj", $0.element.projection) }
        outputs = start.tails.enumerated().map { layer("tail.\($0.offset).out", $0.element.output) }
    }

    public var parameters: [Parameter] {
        head.parameters + zip(projections, outputs).flatMap { $0.parameters + $1.parameters }
    }

    /// The inference head with these weights.
    public func inferenceHead() -> AdaptiveSoftmaxHead {
        func linear(_ l: LinearLayer) -> Linear { Linear(weight: l.weight.value, bias: l.bias.value) }
        return AdaptiveSoftmaxHead(cutoffs: cutoffs, head: linear(head),
                                   tails: zip(projections, outputs).map { (linear($0), linear($1)) })
    }

    public func namedTensors() -> [(name: String, tensor: Tensor)] { parameters.map { ($0.name, $0.value) } }

    /// Σ −log p(target) over the N rows of h (N, C); with `backward`, adds ∂(mean)/∂θ to the gradients.
    public func negativeLogLikelihood(h: Tensor, targets: [Int32], backward: Bool) -> Double {
        let (n, c) = (h.rows, h.lastDim)
        let (headTargets, members) = AdaptiveSoftmaxHead.route(targets, rows: n, cutoffs: cutoffs)
        let headLoss = languageModelLoss(logits: head.forward(h), targets: headTargets)
        var total = headLoss.loss * Double(n)
        if backward { _ = head.backward(headLoss.gradient) }
        for (i, rows) in members.enumerated() where !rows.isEmpty {
            var hc = Tensor(zeros: [rows.count, c])
            for (j, r) in rows.enumerated() { hc.storage[(j * c)..<((j + 1) * c)] = h.storage[(r * c)..<((r + 1) * c)] }
            let logits = outputs[i].forward(projections[i].forward(hc))
            var tail = languageModelLoss(logits: logits, targets: rows.map { targets[$0] - Int32(cutoffs[i]) })
            total += tail.loss * Double(rows.count)
            if backward {
                let share = Float(rows.count) / Float(n)
                for q in 0..<tail.gradient.count { tail.gradient.storage[q] *= share }
                _ = projections[i].backward(outputs[i].backward(tail.gradient))
            }
        }
        return total
    }

    /// Fine-tunes on (h, target) rows in shuffled mini-batches (AdamW, warm-up + cosine); returns
    /// the mean training NLL of each epoch.
    public func train(h: Tensor, targets: [Int32], epochs: Int, batchSize: Int, learningRate: Float, seed: UInt64,
                      progress: (Int, Double) -> Void = { _, _ in }) -> [Double] {
        let (n, c) = (h.rows, h.lastDim)
        let steps = epochs * ((n + batchSize - 1) / batchSize)
        let schedule = CosineSchedule(peak: learningRate, warmupSteps: steps / 20, totalSteps: steps)
        let optimizer = Adam(beta1: 0.9, beta2: 0.98, weightDecay: 0)
        var rng = SeededRNG(seed: seed)
        var step = 0, out: [Double] = []
        for epoch in 1...max(epochs, 1) {
            var order = Array(0..<n)
            order.shuffle(using: &rng)
            var sum = 0.0
            for s in stride(from: 0, to: n, by: batchSize) {
                let rows = Array(order[s..<min(s + batchSize, n)])
                var hb = Tensor(zeros: [rows.count, c])
                for (j, r) in rows.enumerated() { hb.storage[(j * c)..<((j + 1) * c)] = h.storage[(r * c)..<((r + 1) * c)] }
                parameters.forEach { $0.zeroGrad() }
                sum += negativeLogLikelihood(h: hb, targets: rows.map { targets[$0] }, backward: true)
                optimizer.step(parameters, learningRate: schedule.learningRate(step: step))
                step += 1
            }
            out.append(sum / Double(n))
            progress(epoch, sum / Double(n))
        }
        return out
    }
}
