// Greedy autoregressive generation for a causal language model (the GPT-style decoder), with and
// without a KV cache. Without it, every new token re-runs the whole sequence (cost grows with
// position); with it, each layer keeps the keys and values of past tokens and a new token costs one
// row through every GEMM plus attention over the cache. The model runs the same blocks either way.
import InfCore

/// Keys and values of the tokens seen so far, per layer. A reference: the decoder's blocks fill it
/// in place, step after step, without copying what is already there.
public final class KVCache {
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

    /// Marks positions up to `end` (exclusive) as filled.
    public func filled(to end: Int) { count = max(count, end) }
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

/// What generation needs from a model: next-token prediction over a vocabulary, a whole-sequence
/// pass, and one token at a time against a KV cache (the GPT-style decoder, TransformerDecoder).
public protocol CausalLanguageModel: InferenceModel {
    var vocabularySize: Int { get }
    /// Longest sequence (prompt plus generated tokens).
    var maxPositions: Int { get }
    /// The output layer: final hidden states (rows, C) → logits (rows, V).
    var lmHead: Linear { get }
    /// ids (B·T) → final hidden states (B, T, C), before the output layer (a prefill pass, no cache).
    func finalHidden(_ input: ModelInput, in context: ExecutionContext) -> Tensor
    /// An empty cache for `capacity` tokens.
    func makeCache(capacity: Int) -> KVCache
    /// One token at `position` through every layer, reading and extending `cache`; returns its final
    /// (layer-normalised) hidden state (1, C), which an output head turns into a token.
    func step(_ id: Int32, position: Int, cache: KVCache, in context: ExecutionContext) -> Tensor
    /// Held-out text windows when the model was trained on text: quality is then perplexity on them.
    var evaluationText: [TextWindow]? { get }
}

public final class Generator {
    public let model: any CausalLanguageModel

    public init(model: any CausalLanguageModel) {
        self.model = model
    }

    /// Greedy decoding of `newTokens` tokens after `prompt` (ids in the vocabulary, total within
    /// max_position_embeddings). With `cache`, the prompt is fed token by token through the cached path too.
    /// `head` picks each token from the final hidden state (default: full softmax's arg max);
    /// `observe`, when given, sees every step's final hidden state (1, C). Runs on `context`'s threads.
    public func generate(prompt: [Int32], newTokens: Int, cache useCache: Bool, head: OutputHead? = nil,
                         in context: ExecutionContext, observe: ((Tensor) -> Void)? = nil) -> Generation {
        let head = head ?? FullSoftmaxHead(model.lmHead)
        let total = prompt.count + newTokens
        precondition(!prompt.isEmpty, "generation needs a prompt of at least one token")
        precondition(total <= model.maxPositions, "\(total) tokens exceed max_position_embeddings \(model.maxPositions)")
        var tokens = prompt
        var steps: [UInt64] = []
        steps.reserveCapacity(newTokens)
        let cache = useCache ? model.makeCache(capacity: total) : nil
        if let cache {
            // Prefill: the prompt's keys and values go into the cache; the last step's logits pick token 1.
            for (p, id) in prompt.dropLast().enumerated() { _ = model.step(id, position: p, cache: cache, in: context) }
        }
        for _ in 0..<newTokens {
            let start = monotonicNanoseconds()
            let next: Int32
            if let cache {
                let h = model.step(tokens.last!, position: tokens.count - 1, cache: cache, in: context)
                observe?(h)
                next = head.nextToken(h, in: context)
            } else {
                // No cache: the whole sequence again, keeping only the last position's state.
                let h = model.finalHidden(.tokens(ids: tokens, mask: nil, batch: 1, length: tokens.count), in: context)
                let c = h.lastDim
                let last = Tensor(shape: [1, c], storage: Array(h.storage[((tokens.count - 1) * c)..<(tokens.count * c)]))
                observe?(last)
                next = head.nextToken(last, in: context)
            }
            steps.append(monotonicNanoseconds() - start)
            tokens.append(next)
        }
        return Generation(tokens: tokens, stepNs: steps, cacheBytes: cache?.byteCount ?? 0)
    }
}

/// Index of the largest value (the first on ties).
func argmax(_ v: [Float]) -> Int32 {
    var best = 0
    for i in 1..<v.count where v[i] > v[best] { best = i }
    return Int32(best)
}
