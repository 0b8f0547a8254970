// Accuracy on a labelled split: batched forward passes, arg-max, compare.
import InfCore

/// Logits (N, classes) of `forward` over all of `data`, in batches (the output is copied
/// out of the model's buffer after each batch).
public func collectLogits(_ forward: (ModelInput) -> Tensor, _ data: LabelledExamples, batchSize: Int = 256) -> Tensor {
    var out: [Float] = []
    var classes = 0
    for start in stride(from: 0, to: data.count, by: batchSize) {
        let y = forward(data.input(Array(start..<min(start + batchSize, data.count))))
        classes = y.lastDim
        out += y.storage
    }
    return Tensor(shape: [data.count, classes], storage: out)
}

/// Arg-max of each row (the first on ties).
public func argmax(_ logits: Tensor) -> [Int32] {
    let k = logits.lastDim
    return (0..<logits.rows).map { r in
        var best = 0
        for j in 1..<max(k, 1) where logits.storage[r * k + j] > logits.storage[r * k + best] { best = j }
        return Int32(best)
    }
}

/// Fraction of equal entries: accuracy against labels, or agreement between two models.
public func accuracy(of predicted: [Int32], _ reference: [Int32]) -> Double {
    precondition(predicted.count == reference.count, "\(predicted.count) predictions for \(reference.count) references")
    guard !predicted.isEmpty else { return 0 }
    return Double(zip(predicted, reference).filter { $0 == $1 }.count) / Double(predicted.count)
}

/// The class an inference model predicts for every example.
public func predictions(_ model: InferenceModel, _ data: LabelledExamples) -> [Int32] {
    argmax(collectLogits(model.forward, data))
}
