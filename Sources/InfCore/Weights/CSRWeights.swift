// Linear/conv weights stored as CSR (compressed sparse rows over the output features)
// and multiplied by infbench's own C kernels, which touch only the stored nonzeros:
// the format unstructured pruning needs for its zeros to save time as well as bytes.
import CKernels

/// W (N, K) in CSR: row n's nonzeros are `values[rowPointers[n] ..< rowPointers[n+1]]`,
/// in ascending column order, at `columns` of the same range.
public struct CSRWeights: LinearWeights {
    /// Column indices of the nonzeros. UInt16 whenever K ≤ 65536 (every matrix of the
    /// bundled models and MiniLM): a nonzero then costs 6 bytes instead of 8 (25% less to
    /// store and to stream from memory), and with the weights in cache it runs as fast as
    /// Int32 (W (1536, 384) at 90% zeros, batch 1: 11.0 vs 10.7 µs, within the noise).
    public enum ColumnIndices: Sendable, Equatable {
        case uint16([UInt16])
        case int32([Int32])

        public var count: Int {
            switch self {
            case .uint16(let a): return a.count
            case .int32(let a): return a.count
            }
        }

        public var byteCount: Int {
            switch self {
            case .uint16(let a): return a.count * MemoryLayout<UInt16>.stride
            case .int32(let a): return a.count * MemoryLayout<Int32>.stride
            }
        }
    }

    /// How a batch (M > 1 activation rows) is multiplied. Measured on this CPU (AMD Zen 5,
    /// 1 thread, W (1536, 384) and (384, 1536) at 90% zeros): the gather wins at M = 2
    /// (21.7 vs 30.2 µs, 19.1 vs 27.2), ties at M = 3, and loses from M = 4 (41.9 vs 28.4)
    /// to M = 16 (174 vs 29 µs): per nonzero it loads M scattered x values, where the
    /// transposed path loads one contiguous row of xᵀ and runs M/16 vector FMAs.
    public enum BatchPath: String, Sendable, CaseIterable {
        /// `gatherPerRow` for M ≤ 2, `transposed` above.
        case automatic
        /// xᵀ (K, M) into per-thread scratch, then per nonzero a contiguous AXPY over M,
        /// accumulated in registers; yᵀ (N, M) transposed back into y.
        case transposed
        /// The batch-1 kernel once per activation row: a gathered dot per output.
        case gatherPerRow
    }

    public let outFeatures: Int // N
    public let inFeatures: Int  // K
    /// (N + 1): row n spans rowPointers[n] ..< rowPointers[n + 1]. Int32: a matrix with
    /// 2³¹ nonzeros (8 GB of values) is beyond anything infbench loads.
    public let rowPointers: [Int32]
    /// (nnz) column of each nonzero.
    public let columns: ColumnIndices
    /// (nnz) the nonzero weights, fp32.
    public let values: [Float]
    /// How M > 1 is multiplied (`.automatic` unless a measurement asks otherwise).
    public var batchPath: BatchPath = .automatic
    /// Largest M the automatic choice sends to the gather kernel.
    static let maxGatherRows = 2

    /// Activation rows per block on the transposed path: bounds the scratch to
    /// 256·(K + N) floats and keeps a 64-column tile of xᵀ (K·256 B) in L2.
    static let batchBlock = 256
    /// Multiply–adds below which threads are not woken (waking one costs microseconds).
    /// Tests lower it so small matrices take the split path too.
    nonisolated(unsafe) static var minParallelWork = 1 << 15

    /// Stores the nonzeros of `weight` (N, K); exact zeros (±0) are dropped, everything
    /// else (NaN included) is kept. `narrowIndices` nil picks UInt16 when K ≤ 65536.
    public init(_ weight: Tensor, narrowIndices: Bool? = nil) {
        precondition(weight.rank == 2, "CSR weights are (out, in), got \(weight.shape)")
        let (n, k) = (weight.shape[0], weight.shape[1])
        let narrow = narrowIndices ?? (k <= 1 << 16)
        precondition(!narrow || k <= 1 << 16, "UInt16 column indices need K ≤ 65536, got \(k)")
        var rowPointers = [Int32](repeating: 0, count: n + 1)
        var cols16: [UInt16] = [], cols32: [Int32] = [], values: [Float] = []
        let nnz = weight.storage.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        precondition(nnz <= Int(Int32.max), "CSR row pointers are Int32; \(nnz) nonzeros do not fit")
        values.reserveCapacity(nnz)
        if narrow { cols16.reserveCapacity(nnz) } else { cols32.reserveCapacity(nnz) }
        weight.storage.withUnsafeBufferPointer { w in
            for r in 0..<n {
                for c in 0..<k where w[r * k + c] != 0 {
                    values.append(w[r * k + c])
                    if narrow { cols16.append(UInt16(c)) } else { cols32.append(Int32(c)) }
                }
                rowPointers[r + 1] = Int32(values.count)
            }
        }
        self.outFeatures = n
        self.inFeatures = k
        self.rowPointers = rowPointers
        self.columns = narrow ? .uint16(cols16) : .int32(cols32)
        self.values = values
    }

    public var nonzeroCount: Int { values.count }
    /// Fraction of W that is zero (1 for an empty matrix).
    public var sparsity: Double {
        let total = outFeatures * inFeatures
        return total == 0 ? 1 : 1 - Double(nonzeroCount) / Double(total)
    }
    /// The three arrays as stored: row pointers, column indices, values.
    public var byteCount: Int {
        rowPointers.count * MemoryLayout<Int32>.stride + columns.byteCount + values.count * MemoryLayout<Float>.stride
    }

    public func dense() -> Tensor {
        var out = Tensor(zeros: [outFeatures, inFeatures])
        guard nonzeroCount > 0 else { return out }
        let k = inFeatures
        withArrays { rp, col16, col32, v in
            out.storage.withUnsafeMutableBufferPointer { o in
                for r in 0..<outFeatures {
                    for j in Int(rp[r])..<Int(rp[r + 1]) {
                        let c = col16.map { Int($0[j]) } ?? Int(col32![j])
                        o[r * k + c] = v[j]
                    }
                }
            }
        }
        return out
    }

    /// y (M, N) = x (M, K) · Wᵀ.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        let (n, k) = (outFeatures, inFeatures)
        guard m > 0, n > 0 else { return }
        guard nonzeroCount > 0 else { y.update(repeating: 0, count: m * n); return }
        let gather = batchPath == .gatherPerRow || (batchPath == .automatic && m <= Self.maxGatherRows)
        if m == 1 || gather {
            // y row i (N) = W · x row i (K): one gathered dot per output, x read from cache.
            forRowChunks(work: m, context) { rows in
                for i in 0..<m { matvec(x + i * k, y + i * n, rows) }
            }
            return
        }
        // Per block of B ≤ 256 activation rows: xᵀ (K, B) and yᵀ (N, B) in scratch.
        let block = min(m, Self.batchBlock)
        guard let scratch = ib_thread_scratch(block * (k + n)) else {
            fatalError("CSR multiply: out of memory for \(block * (k + n)) floats of scratch")
        }
        let xt = scratch, yt = scratch + block * k
        var i0 = 0
        while i0 < m {
            let b = min(block, m - i0)
            ib_transpose(x + i0 * k, b, k, k, xt, b)
            forRowChunks(work: b, context) { rows in
                // yᵀ[rows] (R, B) = W[rows] · xᵀ, then back into y[i0 ..< i0+b, rows].
                matmul(xt, ldb: b, columns: b, yt, ldy: b, rows)
                ib_transpose(yt + rows.lowerBound * b, rows.count, b, b, y + i0 * n + rows.lowerBound, n)
            }
            i0 += b
        }
    }

    /// y (N, cols) = W · b, b (K, cols): per nonzero an AXPY over the contiguous row b[k, :].
    public func multiplyLeft(_ b: UnsafePointer<Float>, columns cols: Int, into y: UnsafeMutablePointer<Float>, in context: ExecutionContext) {
        guard cols > 0, outFeatures > 0 else { return }
        guard nonzeroCount > 0 else { y.update(repeating: 0, count: outFeatures * cols); return }
        forRowChunks(work: cols, context) { rows in
            if cols == 1 {
                matvec(b, y, rows)
            } else {
                matmul(b, ldb: cols, columns: cols, y, ldy: cols, rows)
            }
        }
    }

    // MARK: - Kernel calls

    /// Runs `body` over output rows split into nnz-balanced ranges, one per thread, when the
    /// work (nonzeros × `work` columns) outweighs waking threads; otherwise over all rows.
    private func forRowChunks(work: Int, _ context: ExecutionContext, _ body: (Range<Int>) -> Void) {
        let parts = context.threads
        let nnz = nonzeroCount
        guard parts > 1, nnz * work >= Self.minParallelWork else {
            body(0..<outFeatures)
            return
        }
        rowPointers.withUnsafeBufferPointer { rp in
            // First row whose nonzeros start at or after `target`: splitting at these rows
            // gives each thread about nnz/parts nonzeros (rows need not be equally full).
            func boundary(_ p: Int) -> Int {
                if p == 0 { return 0 }
                if p == parts { return outFeatures }
                let target = Int32(p * nnz / parts)
                var lo = 0, hi = outFeatures
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if rp[mid] < target { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
            context.forChunks(parts) { _, ps in
                for p in ps {
                    let r = boundary(p)..<boundary(p + 1)
                    if !r.isEmpty { body(r) }
                }
            }
        }
    }

    /// Hands the kernels raw pointers to the three arrays (exactly one of col16/col32 is set).
    /// Only called with nonzeros present, so every array has storage.
    private func withArrays<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<UInt16>?, UnsafePointer<Int32>?, UnsafePointer<Float>) -> R) -> R {
        rowPointers.withUnsafeBufferPointer { rp in
            values.withUnsafeBufferPointer { v in
                switch columns {
                case .uint16(let c):
                    return c.withUnsafeBufferPointer { body(rp.baseAddress!, $0.baseAddress!, nil, v.baseAddress!) }
                case .int32(let c):
                    return c.withUnsafeBufferPointer { body(rp.baseAddress!, nil, $0.baseAddress!, v.baseAddress!) }
                }
            }
        }
    }

    /// y[n] = W[n, :] · x for n in rows; x (K), y (N).
    private func matvec(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Range<Int>) {
        withArrays { rp, c16, c32, v in
            if let c16 {
                ib_csr_matvec_u16(rp, c16, v, x, y, rows.lowerBound, rows.upperBound)
            } else {
                ib_csr_matvec_i32(rp, c32!, v, x, y, rows.lowerBound, rows.upperBound)
            }
        }
    }

    /// y[n, 0..<columns] (stride ldy) = W[n, :] · b for n in rows; b (K, columns), stride ldb.
    private func matmul(_ b: UnsafePointer<Float>, ldb: Int, columns: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int, _ rows: Range<Int>) {
        withArrays { rp, c16, c32, v in
            if let c16 {
                ib_csr_matmul_u16(rp, c16, v, b, ldb, columns, y, ldy, rows.lowerBound, rows.upperBound)
            } else {
                ib_csr_matmul_i32(rp, c32!, v, b, ldb, columns, y, ldy, rows.lowerBound, rows.upperBound)
            }
        }
    }
}
