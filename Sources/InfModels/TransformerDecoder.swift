// A GPT-style transformer decoder: causal self-attention, pre-LayerNorm,
// learned positions, GELU FFN, LM head tied to the token embedding.
//   x = E_tok[ids] + E_pos[t]
//   per layer:  x = x + Attn(LN1(x), causal);  x = x + W2 · GELU(W1 · LN2(x))
//   logits = LN_f(x) · E_tokᵀ
// One `block` serves a whole-sequence pass and decoding with a KV cache (`step`).
// The parameters are declared once (`parameters`); loading, copies, counts and transforms walk it.
import InfCore

extension ModelKind {
    public static let gpt = ModelKind(rawValue: "gpt")
}

public final class TransformerDecoder: RegisteredModel, CausalLanguageModel {
    public struct Block: Sendable {
        public var ln1: LayerNorm                // ln_1 (C)
        public var attention: MultiHeadAttention // attn.qkv (3C, C), attn.proj (C, C)
        public var ln2: LayerNorm                // ln_2 (C)
        public var fc1: Linear                   // mlp.fc (I, C)
        public var fc2: Linear                   // mlp.proj (C, I)
    }

    public let name: String
    public let config: TransformerConfig
    public var tokenEmbedding: Embedding    // wte (V, C)
    public var positionEmbedding: Embedding // wpe (P, C)
    public var blocks: [Block]
    public var finalNorm: LayerNorm         // ln_f (C)
    public var lmHead: Linear               // (V, C), shares wte's storage (copy-on-write, no copy)
    /// Held-out text windows (a model trained on text, see LanguageModelText): quality is perplexity on them.
    public var evaluationText: [TextWindow]?

    private var x = Tensor(zeros: [0])       // (B, T, C) residual stream
    private var h = Tensor(zeros: [0])       // (B, T, C) normalised
    private var attnOut = Tensor(zeros: [0]) // (B, T, C)
    private var ffn = Tensor(zeros: [0])     // (B, T, I)
    private var logits = Tensor(zeros: [0])  // (B, T, V)
    private var positionIds: [Int32] = []
    private var idsShape = (batch: 0, length: 0, position: 0) // the (B, T, p) positionIds were built for
    private var attnWorkspace = MultiHeadAttention.Workspace()

    public init(structureFor config: TransformerConfig, name: String) {
        self.name = name
        self.config = config
        let c = config.hiddenSize, a = config.attentionWidth, i = config.intermediateSize, eps = config.layerNormEps
        (tokenEmbedding, positionEmbedding) = (.unloaded, .unloaded)
        blocks = (0..<config.numLayers).map { _ in
            Block(ln1: .unloaded(eps: eps),
                  attention: MultiHeadAttention(qkv: .unloaded(out: 3 * a, in: c), output: .unloaded(out: c, in: a), heads: config.numHeads),
                  ln2: .unloaded(eps: eps), fc1: .unloaded(out: i, in: c), fc2: .unloaded(out: c, in: i))
        }
        finalNorm = .unloaded(eps: eps)
        lmHead = .unloaded(out: config.vocabSize, in: c)
    }

    /// The parameters under GPT-2-style names, with GPT's initialisation for generated weights
    /// (normal 0.02, LayerNorm γ = 1). The LM head is the token embedding (tied): one tensor in the
    /// checkpoint; it executes from its own packed copy, which weightBytes counts.
    public static func parameters(_ config: TransformerConfig) -> [ModelParameter<TransformerDecoder>] {
        typealias P = ModelParameter<TransformerDecoder>
        let (c, a, i, std) = (config.hiddenSize, config.attentionWidth, config.intermediateSize, Init.normal(std: 0.02))
        var out = [P("wte.weight", [config.vocabSize, c], .embedding, .tensor(\.tokenEmbedding.table), std),
                   P("wpe.weight", [config.maxPositions, c], .embedding, .tensor(\.positionEmbedding.table), std)]
        for l in 0..<config.numLayers {
            let p = "h.\(l)"
            out += P.norm("\(p).ln_1", c, \.blocks[l].ln1, bias: std)
                + P.linear("\(p).attn.qkv", out: 3 * a, in: c, \.blocks[l].attention.qkv, weight: std, bias: std)
                + P.linear("\(p).attn.proj", out: c, in: a, \.blocks[l].attention.output, weight: std, bias: std)
                + P.norm("\(p).ln_2", c, \.blocks[l].ln2, bias: std)
                + P.linear("\(p).mlp.fc", out: i, in: c, \.blocks[l].fc1, weight: std, bias: std)
                + P.linear("\(p).mlp.proj", out: c, in: i, \.blocks[l].fc2, weight: std, bias: std)
        }
        out += P.norm("ln_f", c, \.finalNorm, bias: std)
        out.append(P("lm_head.weight", [config.vocabSize, c], .matrix, .matrix(\.lmHead.weights), std, layout: .tied(to: "wte.weight")))
        return out
    }

    /// What copies share: the held-out text windows.
    public var attachments: [TextWindow]? {
        get { evaluationText }
        set { evaluationText = newValue }
    }

    /// A model trained on text has its vocabulary and test split beside it (see LanguageModelText):
    /// quality then includes perplexity on the test split.
    public func attachFiles(directory: String?, configPath: String) throws -> [String] {
        guard let directory, let text = try LanguageModelText.load(directory: directory) else { return [] }
        try ModelLoader.checkVocabulary(text.tokenizer, fits: config, directory: directory)
        evaluationText = text.test.windows(length: config.maxPositions)
        return ["\(name): quality includes perplexity on its test split (\(directory)/test.txt, \(text.test.ids.count) tokens)."]
    }

    public var kind: ModelKind { .gpt }
    public var itemUnit: String { "seq" }
    public var maxSequenceLength: Int? { config.maxPositions }
    public var outputIsLogits: Bool { true }

    public func makeInput(batch: Int, sequenceLength: Int, rng: inout SeededRNG) -> ModelInput {
        let ids = (0..<(batch * sequenceLength)).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }
        return .tokens(ids: ids, mask: nil, batch: batch, length: sequenceLength)
    }

    public func flops(batch: Int, sequenceLength t: Int) -> Double {
        let c = Double(config.hiddenSize), a = Double(config.attentionWidth), i = Double(config.intermediateSize), tt = Double(t)
        // Causal attention still computes the full T×T products here (BLAS does not skip the masked half).
        let perLayer = 2 * tt * c * (3 * a) + 2 * tt * a * c + 2 * 2 * tt * c * i + 2 * 2 * tt * tt * a
        let head = 2 * tt * c * Double(config.vocabSize)
        return Double(batch) * (Double(config.numLayers) * perLayer + head)
    }

    /// ids (B·T) → logits (B, T, V) for every position (a prefill pass).
    public func forward(_ input: ModelInput, in context: ExecutionContext) -> Tensor {
        runBlocks(input, position: 0, cache: nil, context)
        context.measure("lm_head") { lmHead(h, into: &logits, in: context) }
        return logits
    }

    /// ids (B·T) → final layer-normalised hidden states (B, T, C), before the output layer.
    public func finalHidden(_ input: ModelInput, in context: ExecutionContext) -> Tensor {
        runBlocks(input, position: 0, cache: nil, context)
        return h
    }

    public var vocabularySize: Int { config.vocabSize }
    public var maxPositions: Int { config.maxPositions }

    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: config.numLayers, capacity: capacity, width: config.attentionWidth)
    }

    /// One token at `position` through the same blocks as a whole-sequence pass, reading and extending
    /// `cache`; returns its final (layer-normalised) hidden state (1, C).
    public func step(_ id: Int32, position p: Int, cache: KVCache, in context: ExecutionContext) -> Tensor {
        runBlocks(.tokens(ids: [id], mask: nil, batch: 1, length: 1), position: p, cache: cache, context)
        h.reshape([1, config.hiddenSize])
        return h
    }

    /// Embeddings at positions p..<p+T, every block and the final LayerNorm: leaves LN_f(x) in `h`.
    /// With a cache (B = 1), the blocks attend to the cached tokens too and append these.
    private func runBlocks(_ input: ModelInput, position p: Int, cache: KVCache?, _ context: ExecutionContext) {
        guard case let .tokens(ids, _, b, t) = input else { preconditionFailure("\(name) takes tokens") }
        precondition(p + t <= config.maxPositions, "position \(p + t) exceeds max_position_embeddings \(config.maxPositions)")
        precondition(cache == nil || b == 1, "a KV cache holds one sequence")
        // Keyed on (B, T, p), not B·T: (1, 8) and (2, 4) need different position ids.
        if idsShape != (b, t, p) {
            positionIds = (0..<(b * t)).map { Int32(p + $0 % t) }
            idsShape = (b, t, p)
        }
        context.measure("embedding") {
            tokenEmbedding(ids, into: &x)
            positionEmbedding(positionIds, into: &x, accumulate: true)
            x.reshape([b, t, config.hiddenSize])
        }
        for l in blocks.indices { block(l, position: p, cache: cache, context) }
        context.measure("layernorm") { finalNorm(x, into: &h, in: context) }
        cache?.filled(to: p + t)
    }

    /// Block l on the residual stream x (B, T, C):
    ///   x = x + Attn(LN1(x), causal);  x = x + W2 · GELU(W1 · LN2(x))
    /// Attention is over the T positions alone, or, with a cache, over the cached ones too.
    private func block(_ l: Int, position p: Int, cache: KVCache?, _ context: ExecutionContext) {
        let block = blocks[l]
        context.measure("layernorm") { block.ln1(x, into: &h, in: context) }
        if let cache {
            block.attention(h, keys: &cache.keys[l], values: &cache.values[l], position: p, into: &attnOut, workspace: &attnWorkspace, in: context)
        } else {
            block.attention(h, keyMask: nil, causal: true, into: &attnOut, workspace: &attnWorkspace, in: context)
        }
        context.measure("residual") { addInPlace(&x, attnOut) }   // x = x + attn(LN1(x))
        context.measure("layernorm") { block.ln2(x, into: &h, in: context) }
        context.measure("ffn.up") { block.fc1(h, into: &ffn, activation: .gelu, in: context) }   // GELU in the GEMM's store
        context.measure("ffn.down") { block.fc2(ffn, into: &attnOut, in: context) }
        context.measure("residual") { addInPlace(&x, attnOut) }   // x = x + mlp(LN2(x))
    }
}
