// The training engine's building blocks: a parameter with its gradient, and a
// module that runs forward (keeping what its backward pass needs) and backward
// (accumulating parameter gradients, returning the input gradient).
// Every product goes through the same BLAS.sgemm the inference layers use.
import InfCore

/// A trainable tensor under its checkpoint name, with the gradient accumulated
/// by backward passes since the last `zeroGrad`.
public final class Parameter {
    public let name: String
    public var value: Tensor
    public var grad: Tensor
    /// 1 where the weight may change, 0 where it is pinned at zero (pruned weights
    /// stay pruned while fine-tuning). Nil: every entry trains.
    public var mask: [Float]?
    /// Whether weight decay applies (matrices yes; biases and LayerNorm no, as usual).
    public let decays: Bool

    public init(_ name: String, _ value: Tensor, decays: Bool) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.decays = decays
    }

    public func zeroGrad() {
        grad.storage.withUnsafeMutableBufferPointer { g in g.update(repeating: 0) }
    }
}

/// One differentiable step of a model.
public protocol Module: AnyObject {
    var parameters: [Parameter] { get }
    /// y = f(x); keeps what backward needs (one forward per backward).
    func forward(_ x: Tensor) -> Tensor
    /// dL/dx from dL/dy; adds dL/dθ to each parameter's grad.
    func backward(_ dy: Tensor) -> Tensor
}

/// Modules applied in order.
public final class Sequential: Module {
    public var modules: [Module]
    public init(_ modules: [Module]) { self.modules = modules }
    public var parameters: [Parameter] { modules.flatMap(\.parameters) }

    public func forward(_ x: Tensor) -> Tensor {
        modules.reduce(x) { $1.forward($0) }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        modules.reversed().reduce(dy) { $1.backward($0) }
    }
}
