// Token and position embeddings: a table lookup per token, summed.

public struct Embedding: Sendable {
    public var table: Tensor // (V, C)

    public init(table: Tensor) {
        precondition(table.rank == 2, "an embedding table is (vocab, dim), got \(table.shape)")
        self.table = table
    }

    public var count: Int { table.shape[0] }
    public var dim: Int { table.shape[1] }

    /// ids (N) → y (N, C) when `accumulate` is false; y += table[ids] when true.
    /// Ids must lie in 0..<count (the models check inputs before calling).
    public func callAsFunction(_ ids: [Int32], into y: inout Tensor, accumulate: Bool = false) {
        let c = dim
        if !accumulate { y.resize([ids.count, c]) }
        precondition(y.count == ids.count * c, "embedding output \(y.shape) does not fit \(ids.count) ids × \(c)")
        table.storage.withUnsafeBufferPointer { t in
            y.storage.withUnsafeMutableBufferPointer { yp in
                for (n, id) in ids.enumerated() {
                    precondition(id >= 0 && Int(id) < count, "token id \(id) outside vocabulary of \(count)")
                    let src = t.baseAddress! + Int(id) * c
                    let dst = yp.baseAddress! + n * c
                    if accumulate {
                        for j in 0..<c { dst[j] += src[j] }
                    } else {
                        dst.update(from: src, count: c)
                    }
                }
            }
        }
    }
}
