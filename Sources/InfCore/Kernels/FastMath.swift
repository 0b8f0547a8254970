// The exp and erf approximations the C elementwise kernels use, exposed so
// tests can check their stated accuracy against Double.
import CKernels

/// eˣ, relative error ≤ 2⁻²²; x < −87.34 → 0, x > 88.38 → +∞ (see CKernels/elementwise.c).
@inlinable public func fastExp(_ x: Float) -> Float { ib_expf(x) }

/// erf(x), absolute error ≤ 3·10⁻⁷ (see CKernels/elementwise.c).
@inlinable public func fastErf(_ x: Float) -> Float { ib_erff(x) }
