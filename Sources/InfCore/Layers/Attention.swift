// Multi-head self-attention with one fused QKV projection:
//   [Q K V] = x W_qkvᵀ + b;  head_h = softmax(Q_h K_hᵀ/√d + mask) V_h;  y = concat(heads) W_oᵀ + b
// Heads are strided views into the (B, T, 3C) QKV buffer; no per-head copies.

public struct MultiHeadAttention: Sendable {
    public var qkv: Linear   // (3C, C): rows [query; key; value], head h at rows h·d..<(h+1)·d of each
    public var output: Linear // (C, C)
    public var heads: Int

    public init(qkv: Linear, output: Linear, heads: Int) {
        precondition(qkv.outFeatures == 3 * qkv.inFeatures, "fused QKV must be (3C, C), got (\(qkv.outFeatures), \(qkv.inFeatures))")
        precondition(qkv.inFeatures % heads == 0, "hidden size \(qkv.inFeatures) is not divisible by \(heads) heads")
        self.qkv = qkv
        self.output = output
        self.heads = heads
    }

    public var hidden: Int { qkv.inFeatures }
    public var headSize: Int { hidden / heads }

    /// Scratch reused across calls; sized on first use for a batch shape.
    public struct Workspace: Sendable {
        public var qkv = Tensor(zeros: [0])      // (B, T, 3C)
        public var context = Tensor(zeros: [0])  // (B, T, C)
        public var scores = Tensor(zeros: [0])   // (threads, T, T): one head at a time per thread
        public init() {}
    }

    /// x (B, T, C) → y (B, T, C).
    /// keyMask (B, T): 1 for real tokens, 0 for padding (nil = none); causal: token t sees 0...t.
    public func callAsFunction(_ x: Tensor, keyMask: Tensor?, causal: Bool,
                               into y: inout Tensor, workspace ws: inout Workspace) {
        precondition(x.rank == 3 && x.shape[2] == hidden, "attention expects (B, T, \(hidden)), got \(x.shape)")
        let b = x.shape[0], t = x.shape[1], c = hidden, d = headSize
        if let keyMask { precondition(keyMask.shape == [b, t], "key mask \(keyMask.shape) must be (\(b), \(t))") }
        Profiler.measure("attention.qkv") { qkv(x, into: &ws.qkv) }
        ws.context.resize([b, t, c])
        let threads = Parallel.threads
        ws.scores.resize([threads, t, t])
        Profiler.measure("attention.heads") {
            ws.qkv.storage.withUnsafeBufferPointer { qkvp in
                ws.context.storage.withUnsafeMutableBufferPointer { ctx in
                    ws.scores.storage.withUnsafeMutableBufferPointer { s in
                        withOptionalPointer(keyMask) { mask in
                            // The (batch, head) pairs are independent: split them over the threads, each
                            // with its own (T, T) scratch and OpenBLAS on one thread for these small GEMMs.
                            let (qkvBase, ctxBase, sBase) = (qkvp.baseAddress!, ctx.baseAddress!, s.baseAddress!)
                            Parallel.withSingleThreadedBLAS {
                                Parallel.forChunks(b * heads) { chunk, pairs in
                                    let scratch = sBase + chunk * t * t
                                    for pair in pairs {
                                        let (bi, h) = pair.quotientAndRemainder(dividingBy: heads)
                                        let base = qkvBase + bi * t * 3 * c
                                        attentionHeadKernel(out: ctxBase + bi * t * c + h * d, ldo: c,
                                                            q: base + h * d, ldq: 3 * c,
                                                            k: base + c + h * d, ldk: 3 * c,
                                                            v: base + 2 * c + h * d, ldv: 3 * c,
                                                            tq: t, tk: t, headSize: d,
                                                            keyMask: mask.map { $0 + bi * t }, causalOffset: causal ? 0 : nil,
                                                            scratch: scratch)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Profiler.measure("attention.output") { output(ws.context, into: &y) }
    }
}

/// Calls body with the tensor's storage pointer, or nil.
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.storage.withUnsafeBufferPointer { body($0.baseAddress!) }
}
