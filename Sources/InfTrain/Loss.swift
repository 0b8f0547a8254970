// Classification losses, mean over the N rows of a (N, K) logits tensor:
//   cross-entropy   CE = −log softmax(s)_y,                 ∂/∂s = softmax(s) − onehot(y)
//   distillation    (Hinton et al. 2015) with temperature τ and weight α:
//     L = (1 − α) CE(s, y) + α τ² KL(softmax(t/τ) ‖ softmax(s/τ)),
//     ∂L/∂s = (1 − α)(softmax(s) − onehot(y)) + α τ (softmax(s/τ) − softmax(t/τ))
//   The τ² keeps the soft term's gradient on the scale of the hard one as τ grows.
import Foundation
import InfCore

public struct LossValue {
    /// Mean loss over the rows.
    public var loss: Double
    /// ∂loss/∂logits, same shape as the logits.
    public var gradient: Tensor
}

/// Softmax of one row at temperature τ, in Double (the loss must not overflow or lose small probabilities).
func softmaxRow(_ row: UnsafePointer<Float>, count k: Int, temperature: Double = 1) -> [Double] {
    var m = -Double.infinity
    for j in 0..<k { m = max(m, Double(row[j]) / temperature) }
    var out = (0..<k).map { exp(Double(row[$0]) / temperature - m) }
    let sum = out.reduce(0, +)
    for j in 0..<k { out[j] /= sum }
    return out
}

public func crossEntropyLoss(logits: Tensor, labels: [Int32]) -> LossValue {
    distillationLoss(student: logits, teacher: nil, labels: labels, temperature: 1, alpha: 0)
}

/// `teacher` nil (or α = 0) is plain cross-entropy; α = 1 is pure soft-target matching.
public func distillationLoss(student: Tensor, teacher: Tensor?, labels: [Int32], temperature: Float, alpha: Float) -> LossValue {
    let (n, k) = (student.rows, student.lastDim)
    precondition(labels.count == n, "\(labels.count) labels for \(n) rows of logits")
    if let teacher { precondition(teacher.shape == student.shape, "teacher logits \(teacher.shape) differ from the student's \(student.shape)") }
    let tau = Double(temperature), a = teacher == nil ? 0 : Double(alpha)
    var grad = Tensor(zeros: student.shape)
    var total = 0.0
    student.storage.withUnsafeBufferPointer { sp in
        for r in 0..<n {
            let label = Int(labels[r])
            precondition(label >= 0 && label < k, "label \(label) outside 0..<\(k)")
            let row = sp.baseAddress! + r * k
            let p = softmaxRow(row, count: k)
            var rowGrad = (0..<k).map { (1 - a) * (p[$0] - ($0 == label ? 1 : 0)) }
            total += (1 - a) * -log(max(p[label], 1e-300))
            if let teacher, a > 0 {
                let ps = softmaxRow(row, count: k, temperature: tau)
                let pt = teacher.storage.withUnsafeBufferPointer { softmaxRow($0.baseAddress! + r * k, count: k, temperature: tau) }
                var kl = 0.0
                for j in 0..<k where pt[j] > 0 { kl += pt[j] * (log(pt[j]) - log(max(ps[j], 1e-300))) }
                total += a * tau * tau * kl
                for j in 0..<k { rowGrad[j] += a * tau * (ps[j] - pt[j]) }
            }
            for j in 0..<k { grad.storage[r * k + j] = Float(rowGrad[j] / Double(n)) }
        }
    }
    return LossValue(loss: total / Double(n), gradient: grad)
}
