// Finite-difference gradient checks: for L = Σ r ⊙ f(x) with a fixed random r,
// ∂L/∂θ from the backward pass must match the central difference
// (L(θ + ε) − L(θ − ε)) / 2ε on sampled coordinates of the input and of every parameter.
import InfCore
import InfTrain
import XCTest

struct GradientMismatch: CustomStringConvertible {
    let what: String, index: Int, analytic: Double, numeric: Double
    var description: String { "\(what)[\(index)]: backward \(analytic), finite difference \(numeric)" }
}

/// Relative tolerance 2 % plus an absolute 2e-3 floor: fp32 central differences with ε = 1e-2
/// on O(1) values carry errors near 1e-3; a wrong gradient (a missing term, a transposed
/// product) is off by far more. `GradientCheckerTests` shows a 5 % error is caught.
let relativeTolerance = 0.02, absoluteTolerance = 2e-3

/// Compares analytic and numeric gradients for `samples` coordinates of each tensor.
/// `loss` runs a fresh forward pass and returns Σ r ⊙ y; `analytic` returns the gradients
/// (input first, then parameters) from one forward + backward.
func gradientMismatches(tensors: [(name: String, get: () -> Tensor, set: (Tensor) -> Void)],
                        analytic: [Tensor], loss: () -> Double, samples: Int = 12, epsilon: Float = 1e-2,
                        seed: UInt64 = 7) -> [GradientMismatch] {
    var rng = SeededRNG(seed: seed)
    var bad: [GradientMismatch] = []
    for (k, t) in tensors.enumerated() {
        let original = t.get()
        let picks = original.count <= samples ? Array(0..<original.count) : (0..<samples).map { _ in rng.nextInt(below: original.count) }
        for i in picks {
            var plus = original, minus = original
            plus.storage[i] += epsilon
            minus.storage[i] -= epsilon
            t.set(plus); let lp = loss()
            t.set(minus); let lm = loss()
            t.set(original)
            let numeric = (lp - lm) / (2 * Double(epsilon)), a = Double(analytic[k].storage[i])
            if abs(numeric - a) > relativeTolerance * max(abs(numeric), abs(a)) + absoluteTolerance {
                bad.append(GradientMismatch(what: t.name, index: i, analytic: a, numeric: numeric))
            }
        }
    }
    return bad
}

/// Gradient check of a module: its input and all of its parameters.
func checkModule(_ module: Module, input: Tensor, seed: UInt64 = 11, samples: Int = 12,
                 corrupt: Float = 1, file: StaticString = #filePath, line: UInt = #line) -> [GradientMismatch] {
    var rng = SeededRNG(seed: seed)
    let y0 = module.forward(input)
    let r = Tensor.randomUniform(y0.shape, in: -1...1, rng: &rng)
    module.parameters.forEach { $0.zeroGrad() }
    var dx = module.backward(r)
    var grads = module.parameters.map(\.grad)
    if corrupt != 1 { // the meta-check: a slightly wrong gradient must be caught
        dx.storage = dx.storage.map { $0 * corrupt }
        grads = grads.map { Tensor(shape: $0.shape, storage: $0.storage.map { $0 * corrupt }) }
    }
    var x = input
    let loss: () -> Double = {
        let y = module.forward(x)
        var s = 0.0
        for i in 0..<y.count { s += Double(y.storage[i]) * Double(r.storage[i]) }
        return s
    }
    var tensors: [(name: String, get: () -> Tensor, set: (Tensor) -> Void)] = [("input", { x }, { x = $0 })]
    for p in module.parameters { tensors.append((p.name, { p.value }, { p.value = $0 })) }
    return gradientMismatches(tensors: tensors, analytic: [dx] + grads, loss: loss, samples: samples)
}
