// fp32 through OpenBLAS for every product: the linear layers' path before infbench packed its
// fp32 weights (sgemm packs W anew on each call; sgemv for a single row). Not an optimisation to
// apply but the comparison that shows what the packed kernel buys on this server, interleaved
// with the baseline like any technique.
import InfCore
import InfModels

public struct FP32OpenBLAS: WeightFormatTechnique {
    public static let name = "fp32-openblas"
    public init() {}
    public var executes: String {
        "fp32 weights row-major, every linear layer through OpenBLAS sgemm (W packed by OpenBLAS on each call; sgemv for one row; one OpenBLAS thread a call, split over infbench's threads); the rest as fp32"
    }

    public static func stored(_ dense: Tensor) -> any LinearWeights { RowMajorOpenBLAS(dense) }
}

/// Row-major fp32 weights that a `Linear` keeps as they are (it packs plain `DenseWeights`).
struct RowMajorOpenBLAS: LinearWeights {
    let rowMajor: DenseWeights
    init(_ weight: Tensor) { rowMajor = DenseWeights(weight) }
    var outFeatures: Int { rowMajor.outFeatures }
    var inFeatures: Int { rowMajor.inFeatures }
    var byteCount: Int { rowMajor.byteCount }
    func dense() -> Tensor { rowMajor.weight }
    func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) { rowMajor.multiply(x, rows: rows, into: y, in: context) }
    func multiplyLeft(_ b: UnsafePointer<Float>, columns n: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) { rowMajor.multiplyLeft(b, columns: n, into: y, in: context) }
}
