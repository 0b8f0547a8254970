// Greedy autoregressive generation for the GPT-style decoder, with and without
// a KV cache. Without it, every new token re-runs the whole sequence (cost grows
// with position); with it, each layer keeps the keys and values of past tokens
// and a new token costs one row through every GEMM plus attention over the cache.
import InfCore

/// Keys and values of the tokens seen so far, per layer.
public struct KVCache {
    public var keys: [Tensor]   // per layer (capacity, A)
    public var values: [Tensor] // per layer (capacity, A)
    public private(set) var count = 0
    public let capacity: Int

    /// `width`: the attention width A = heads × head size (the hidden size unless heads were pruned).
    public init(layers: Int, capacity: Int, width: Int) {
        keys = (0..<layers).map { _ in Tensor(zeros: [capacity, width]) }
        values = keys
        self.capacity = capacity
    }

    /// Bytes the cache holds (allocated capacity, both K and V).
    public var byteCount: Int { keys.reduce(0) { $0 + $1.byteCount } * 2 }

    mutating func advance() { count += 1 }
}

/// What one generation produced: the tokens and how long each step took.
public struct Generation {
    /// Prompt followed by the generated tokens.
    public var tokens: [Int32]
    /// Wall time of each generated token's step, nanoseconds (index i: the token at position prompt + i).
    public var stepNs: [UInt64]
    /// Bytes of the KV cache (0 without one).
    public var cacheBytes: Int
}

public final class Generator {
    public let model: TransformerDecoder
    // Scratch for one token: (1, C), (1, 3C), (1, I), (1, V).
    private var x = Tensor(zeros: [0]), h = Tensor(zeros: [0]), qkv = Tensor(zeros: [0])
    private var context = Tensor(zeros: [0]), attnOut = Tensor(zeros: [0]), ffn = Tensor(zeros: [0])
    private var scores = Tensor(zeros: [0])

    public init(model: TransformerDecoder) {
        self.model = model
    }

    /// Greedy decoding of `newTokens` tokens after `prompt` (ids in the vocabulary, total within
    /// max_position_embeddings). With `cache`, the prompt is fed token by token through the cached path too.
    /// `head` picks each token from the final hidden state (default: full softmax's arg max);
    /// `observe`, when given, sees every step's final hidden state (1, C).
    public func generate(prompt: [Int32], newTokens: Int, cache useCache: Bool, head: OutputHead? = nil,
                         observe: ((Tensor) -> Void)? = nil) -> Generation {
        let head = head ?? FullSoftmaxHead(model.lmHead)
        let total = prompt.count + newTokens
        precondition(!prompt.isEmpty, "generation needs a prompt of at least one token")
        precondition(total <= model.config.maxPositions, "\(total) tokens exceed max_position_embeddings \(model.config.maxPositions)")
        var tokens = prompt
        var steps: [UInt64] = []
        steps.reserveCapacity(newTokens)
        var cache = useCache ? KVCache(layers: model.config.numLayers, capacity: total, width: model.config.attentionWidth) : nil
        if var c = cache {
            // Prefill: the prompt's keys and values go into the cache; the last step's logits pick token 1.
            for (p, id) in prompt.dropLast().enumerated() { _ = step(id, position: p, cache: &c) }
            cache = c
        }
        for _ in 0..<newTokens {
            let start = monotonicNanoseconds()
            let next: Int32
            if var c = cache {
                let h = step(tokens.last!, position: tokens.count - 1, cache: &c)
                observe?(h)
                next = head.nextToken(h)
                cache = c
            } else {
                // No cache: the whole sequence again, keeping only the last position's state.
                let h = model.finalHidden(.tokens(ids: tokens, mask: nil, batch: 1, length: tokens.count))
                let c = model.config.hiddenSize
                let last = Tensor(shape: [1, c], storage: Array(h.storage[((tokens.count - 1) * c)..<(tokens.count * c)]))
                observe?(last)
                next = head.nextToken(last)
            }
            steps.append(monotonicNanoseconds() - start)
            tokens.append(next)
        }
        return Generation(tokens: tokens, stepNs: steps, cacheBytes: cache?.byteCount ?? 0)
    }

    /// One token at `position` through every layer, reading and extending the cache; returns
    /// its final (layer-normalised) hidden state (1, C), which an output head turns into a token.
    func step(_ id: Int32, position p: Int, cache: inout KVCache) -> Tensor {
        let a = model.config.attentionWidth, heads = model.config.numHeads, d = model.config.headSize
        model.tokenEmbedding([id], into: &x)                       // (1, C)
        model.positionEmbedding([Int32(p)], into: &x, accumulate: true)
        for (l, block) in model.blocks.enumerated() {
            block.ln1(x, into: &h)
            block.attention.qkv(h, into: &qkv)                      // (1, 3A): [q | k | v]
            // Append this token's key and value at row p of the layer's cache.
            for j in 0..<a {
                cache.keys[l].storage[p * a + j] = qkv.storage[a + j]
                cache.values[l].storage[p * a + j] = qkv.storage[2 * a + j]
            }
            context.resize([1, a])
            scores.resize([1, p + 1])
            qkv.storage.withUnsafeBufferPointer { q in
                cache.keys[l].storage.withUnsafeBufferPointer { k in
                    cache.values[l].storage.withUnsafeBufferPointer { v in
                        context.storage.withUnsafeMutableBufferPointer { ctx in
                            scores.storage.withUnsafeMutableBufferPointer { s in
                                for hd in 0..<heads {
                                    // The new query against every cached key 0...p (all earlier: no mask needed).
                                    attentionHeadKernel(out: ctx.baseAddress! + hd * d, ldo: a,
                                                        q: q.baseAddress! + hd * d, ldq: 3 * a,
                                                        k: k.baseAddress! + hd * d, ldk: a,
                                                        v: v.baseAddress! + hd * d, ldv: a,
                                                        tq: 1, tk: p + 1, headSize: d,
                                                        keyMask: nil, causalOffset: nil, scratch: s.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            block.attention.output(context, into: &attnOut)
            addInPlace(&x, attnOut)                                  // x = x + attn(LN1(x))
            block.ln2(x, into: &h)
            block.fc1(h, into: &ffn)
            gelu(&ffn)
            block.fc2(ffn, into: &attnOut)
            addInPlace(&x, attnOut)                                  // x = x + mlp(LN2(x))
        }
        if p == cache.count { cache.advance() }
        model.finalNorm(x, into: &h)
        return h
    }
}

/// Index of the largest value (the first on ties).
func argmax(_ v: [Float]) -> Int32 {
    var best = 0
    for i in 1..<v.count where v[i] > v[best] { best = i }
    return Int32(best)
}
