// Multi-head self-attention with one fused QKV projection:
//   [Q K V] = x W_qkvᵀ + b;  head_h = softmax(Q_h K_hᵀ/√d + mask) V_h;  y = concat(heads) W_oᵀ + b
// Heads are strided views into the (B, T, 3A) QKV buffer; no per-head copies.
// A = heads × head size is the attention width: C for a standard model, less
// once heads are pruned away.

public struct MultiHeadAttention: Sendable {
    public var qkv: Linear   // (3A, C): rows [query; key; value], head h at rows h·d..<(h+1)·d of each
    public var output: Linear // (C, A)
    public var heads: Int

    public init(qkv: Linear, output: Linear, heads: Int) {
        precondition(heads >= 1 && qkv.outFeatures % (3 * heads) == 0,
                     "fused QKV must be (3·heads·d, C) for \(heads) heads, got (\(qkv.outFeatures), \(qkv.inFeatures))")
        precondition(output.inFeatures == qkv.outFeatures / 3 && output.outFeatures == qkv.inFeatures,
                     "output projection (\(output.outFeatures), \(output.inFeatures)) does not fit QKV (\(qkv.outFeatures), \(qkv.inFeatures))")
        self.qkv = qkv
        self.output = output
        self.heads = heads
    }

    public var hidden: Int { qkv.inFeatures }
    /// A = heads × headSize.
    public var width: Int { qkv.outFeatures / 3 }
    public var headSize: Int { width / heads }

    /// Scratch reused across calls; sized on first use for a batch shape.
    public struct Workspace: Sendable {
        public var qkv = Tensor(zeros: [0])      // (B, T, 3A)
        public var context = Tensor(zeros: [0])  // (B, T, A)
        public var scores = Tensor(zeros: [0])   // (threads, T, T): one head at a time per thread
        public init() {}
    }

    /// x (B, T, C) → y (B, T, C).
    /// keyMask (B, T): 1 for real tokens, 0 for padding (nil = none); causal: token t sees 0...t.
    public func callAsFunction(_ x: Tensor, keyMask: Tensor?, causal: Bool,
                               into y: inout Tensor, workspace ws: inout Workspace, in context: ExecutionContext) {
        precondition(x.rank == 3 && x.shape[2] == hidden, "attention expects (B, T, \(hidden)), got \(x.shape)")
        let b = x.shape[0], t = x.shape[1], a = width, d = headSize
        if let keyMask { precondition(keyMask.shape == [b, t], "key mask \(keyMask.shape) must be (\(b), \(t))") }
        context.measure("attention.qkv") { qkv(x, into: &ws.qkv, in: context) }
        ws.context.resize([b, t, a])
        let threads = context.threads
        ws.scores.resize([threads, t, t])
        context.measure("attention.heads") {
            ws.qkv.storage.withUnsafeBufferPointer { qkvp in
                ws.context.storage.withUnsafeMutableBufferPointer { ctx in
                    ws.scores.storage.withUnsafeMutableBufferPointer { s in
                        withOptionalPointer(keyMask) { mask in
                            // The (batch, head) pairs are independent: split them over the threads, each
                            // with its own (T, T) scratch and OpenBLAS on one thread for these small GEMMs,
                            // once a chunk holds enough work to pay for waking a worker (~5 µs here).
                            let (qkvBase, ctxBase, sBase) = (qkvp.baseAddress!, ctx.baseAddress!, s.baseAddress!)
                            context.withSingleThreadedBLAS {
                                context.forChunks(b * heads, minChunk: Self.minPairsPerThread(tokens: t, headSize: d)) { chunk, pairs in
                                    let scratch = sBase + chunk * t * t
                                    for pair in pairs {
                                        let (bi, h) = pair.quotientAndRemainder(dividingBy: heads)
                                        let base = qkvBase + bi * t * 3 * a
                                        attentionHeadKernel(out: ctxBase + bi * t * a + h * d, ldo: a,
                                                            q: base + h * d, ldq: 3 * a,
                                                            k: base + a + h * d, ldk: 3 * a,
                                                            v: base + 2 * a + h * d, ldv: 3 * a,
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
        context.measure("attention.output") { output(ws.context, into: &y, in: context) }
    }
}

extension MultiHeadAttention {
    /// Multiply–adds a thread must get before attention heads are split: 2²⁰, about 20 µs of these
    /// small GEMMs on one core, against the few µs a worker's wake-up and hand-off cost. A (batch,
    /// head) pair does 2·T²·d: at T = 128, d = 32 one pair is enough; at T = 32, d = 16 (the small
    /// trained encoders at batch 1) 32 pairs are, so their 4 heads stay on one thread.
    static func minPairsPerThread(tokens t: Int, headSize d: Int) -> Int {
        max(1, (1 << 20) / max(1, 2 * t * t * d))
    }

    /// Attention of one sequence's new positions p..<p+T against a KV cache: x (T, C) or (1, T, C) → y, shaped as x.
    /// Their keys and values go into rows p..<p+T of `keys` and `values` (capacity, A); query i
    /// attends to cached rows 0...p+i (earlier tokens and itself). With p = 0 and T tokens this is
    /// the causal pass over the prompt; with T = 1 it is one decoding step.
    public func callAsFunction(_ x: Tensor, keys: inout Tensor, values: inout Tensor, position p: Int,
                               into y: inout Tensor, workspace ws: inout Workspace, in context: ExecutionContext) {
        let t = x.rows, a = width, d = headSize, heads = self.heads
        precondition(x.lastDim == hidden && p + t <= keys.shape[0], "cached attention: \(t) rows at position \(p) exceed the cache's \(keys.shape[0])")
        context.measure("attention.qkv") { qkv(x, into: &ws.qkv, in: context) }            // (T, 3A): [q | k | v]
        for i in 0..<t {
            keys.storage.replaceSubrange(((p + i) * a)..<((p + i + 1) * a), with: ws.qkv.storage[(i * 3 * a + a)..<(i * 3 * a + 2 * a)])
            values.storage.replaceSubrange(((p + i) * a)..<((p + i + 1) * a), with: ws.qkv.storage[(i * 3 * a + 2 * a)..<((i + 1) * 3 * a)])
        }
        ws.context.resize([t, a])
        ws.scores.resize([t, p + t])
        context.measure("attention.heads") {
            ws.qkv.storage.withUnsafeBufferPointer { q in
                keys.storage.withUnsafeBufferPointer { k in
                    values.storage.withUnsafeBufferPointer { v in
                        ws.context.storage.withUnsafeMutableBufferPointer { ctx in
                            ws.scores.storage.withUnsafeMutableBufferPointer { s in
                                context.withSingleThreadedBLAS {
                                    for h in 0..<heads {
                                        attentionHeadKernel(out: ctx.baseAddress! + h * d, ldo: a, q: q.baseAddress! + h * d, ldq: 3 * a,
                                                            k: k.baseAddress! + h * d, ldk: a, v: v.baseAddress! + h * d, ldv: a,
                                                            tq: t, tk: p + t, headSize: d, keyMask: nil, causalOffset: p,
                                                            scratch: s.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        context.measure("attention.output") { output(ws.context, into: &y, in: context) }
        y.reshape(x.shape)
    }
}

/// Calls body with the tensor's storage pointer, or nil.
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.storage.withUnsafeBufferPointer { body($0.baseAddress!) }
}
