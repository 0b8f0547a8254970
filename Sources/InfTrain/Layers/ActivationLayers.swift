// Element-wise activations and their derivatives:
//   ReLU' = [x > 0],   GELU(x) = x Φ(x) → GELU' = Φ(x) + x φ(x),   tanh' = 1 − tanh².
import Foundation
import InfCore

public final class ReLULayer: Module {
    private var y = Tensor(zeros: [0])
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        var out = x
        relu(&out, in: .serial)   // the training engine threads through OpenBLAS only
        y = out
        return out
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = dy
        for i in 0..<dx.count where y.storage[i] <= 0 { dx.storage[i] = 0 }
        return dx
    }
}

/// The exact (erf) GELU, as BERT and the inference kernels use.
public final class GELULayer: Module {
    private var x = Tensor(zeros: [0])
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        self.x = x
        var out = x
        gelu(&out, in: .serial)   // as ReLULayer
        return out
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = dy
        let invSqrt2: Float = 0.70710678, invSqrt2Pi: Float = 0.39894228
        for i in 0..<dx.count {
            let v = x.storage[i]
            let cdf = 0.5 * (1 + erff(v * invSqrt2))
            let pdf = invSqrt2Pi * expf(-0.5 * v * v)
            dx.storage[i] *= cdf + v * pdf
        }
        return dx
    }
}

/// tanh, for BERT's pooler.
public final class TanhLayer: Module {
    private var y = Tensor(zeros: [0])
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        y = Tensor(shape: x.shape, storage: x.storage.map { tanhf($0) })
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = dy
        for i in 0..<dx.count { dx.storage[i] *= 1 - y.storage[i] * y.storage[i] }
        return dx
    }
}

/// (B, ...) → (B, rest): the CNN's feature maps into the classifier.
public final class FlattenLayer: Module {
    private var shape: [Int] = []
    public init() {}
    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        shape = x.shape
        return x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
    }

    public func backward(_ dy: Tensor) -> Tensor { dy.reshaped(shape) }
}
