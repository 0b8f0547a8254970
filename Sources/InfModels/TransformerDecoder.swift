// A GPT-style transformer decoder: causal self-attention, pre-LayerNorm,
// learned positions, GELU FFN, LM head tied to the token embedding.
//   x = E_tok[ids] + E_pos[t]
//   per layer:  x = x + Attn(LN1(x), causal);  x = x + W2 · GELU(W1 · LN2(x))
//   logits = LN_f(x) · E_tokᵀ
import InfCore

public final class TransformerDecoder: InferenceModel {
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
    private var idsShape = (batch: 0, length: 0) // the (B, T) positionIds were built for
    private var attnWorkspace = MultiHeadAttention.Workspace()

    public init(name: String, config: TransformerConfig, weights: WeightSource) throws {
        self.name = name
        self.config = config
        let c = config.hiddenSize, a = config.attentionWidth, i = config.intermediateSize
        let params = TransformerParameters(weights: weights, config: config)
        tokenEmbedding = Embedding(table: try params.tensor("wte.weight", [config.vocabSize, c]))
        positionEmbedding = Embedding(table: try params.tensor("wpe.weight", [config.maxPositions, c]))
        blocks = try (0..<config.numLayers).map { l in
            let p = "h.\(l)"
            return Block(ln1: try params.norm("\(p).ln_1"),
                         attention: MultiHeadAttention(qkv: try params.linear("\(p).attn.qkv", out: 3 * a, in: c),
                                                       output: try params.linear("\(p).attn.proj", out: c, in: a),
                                                       heads: config.numHeads),
                         ln2: try params.norm("\(p).ln_2"),
                         fc1: try params.linear("\(p).mlp.fc", out: i, in: c),
                         fc2: try params.linear("\(p).mlp.proj", out: c, in: i))
        }
        finalNorm = try params.norm("ln_f")
        lmHead = Linear(weight: tokenEmbedding.table, bias: nil)
    }

    private init(copying other: TransformerDecoder) {
        name = other.name
        config = other.config
        tokenEmbedding = other.tokenEmbedding
        positionEmbedding = other.positionEmbedding
        blocks = other.blocks
        finalNorm = other.finalNorm
        lmHead = other.lmHead
        evaluationText = other.evaluationText
    }

    public func transformingWeights(_ transform: (String, any LinearWeights) throws -> any LinearWeights) rethrows -> InferenceModel {
        let copy = TransformerDecoder(copying: self)
        for l in copy.blocks.indices {
            let p = "h.\(l)"
            copy.blocks[l].attention.qkv.weights = try transform("\(p).attn.qkv", blocks[l].attention.qkv.weights)
            copy.blocks[l].attention.output.weights = try transform("\(p).attn.proj", blocks[l].attention.output.weights)
            copy.blocks[l].fc1.weights = try transform("\(p).mlp.fc", blocks[l].fc1.weights)
            copy.blocks[l].fc2.weights = try transform("\(p).mlp.proj", blocks[l].fc2.weights)
        }
        copy.lmHead.weights = try transform("lm_head", lmHead.weights)
        return copy
    }

    /// Whether the LM head still shares the token embedding's fp32 storage (tied, counted once).
    private var headIsTied: Bool {
        guard let dense = lmHead.weights as? DenseWeights else { return false }
        return dense.weight == tokenEmbedding.table
    }

    public var kind: ModelKind { .gpt }
    public var itemUnit: String { "seq" }
    public var maxSequenceLength: Int? { config.maxPositions }
    public var outputIsLogits: Bool { true }
    public var parameterCount: Int { namedTensors().reduce(0) { $0 + $1.tensor.count } }

    public var weightBytes: Int {
        // A tied head is the embedding table: counted once. A converted head (fp16, sparse…)
        // is a second copy beside the fp32 table the embedding lookup still reads.
        tokenEmbedding.table.byteCount + (headIsTied ? 0 : lmHead.byteCount)
            + positionEmbedding.table.byteCount + finalNorm.parameterCount * 4
            + blocks.reduce(0) { s, b in
                s + b.attention.qkv.byteCount + b.attention.output.byteCount + b.fc1.byteCount + b.fc2.byteCount
                    + 4 * (b.ln1.parameterCount + b.ln2.parameterCount)
            }
    }

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
    public func forward(_ input: ModelInput) -> Tensor {
        runBlocks(input)
        Profiler.measure("lm_head") { lmHead(h, into: &logits) }
        return logits
    }

    /// ids (B·T) → final layer-normalised hidden states (B, T, C), before the output layer.
    public func finalHidden(_ input: ModelInput) -> Tensor {
        runBlocks(input)
        return h
    }

    /// Embeddings, every block and the final LayerNorm: leaves LN_f(x) in `h`.
    private func runBlocks(_ input: ModelInput) {
        guard case let .tokens(ids, _, b, t) = input else { preconditionFailure("\(name) takes tokens") }
        precondition(t <= config.maxPositions, "sequence length \(t) exceeds max_position_embeddings \(config.maxPositions)")
        // Keyed on (B, T), not B·T: (1, 8) and (2, 4) need different position ids.
        if idsShape != (b, t) {
            positionIds = (0..<(b * t)).map { Int32($0 % t) }
            idsShape = (b, t)
        }
        Profiler.measure("embedding") {
            tokenEmbedding(ids, into: &x)
            positionEmbedding(positionIds, into: &x, accumulate: true)
            x.reshape([b, t, config.hiddenSize])
        }
        for block in blocks {
            Profiler.measure("layernorm") { block.ln1(x, into: &h) }
            block.attention(h, keyMask: nil, causal: true, into: &attnOut, workspace: &attnWorkspace)
            Profiler.measure("residual") { addInPlace(&x, attnOut) }   // x = x + attn(LN1(x))
            Profiler.measure("layernorm") { block.ln2(x, into: &h) }
            Profiler.measure("ffn.up") { block.fc1(h, into: &ffn) }
            Profiler.measure("gelu") { gelu(&ffn) }
            Profiler.measure("ffn.down") { block.fc2(ffn, into: &attnOut) }
            Profiler.measure("residual") { addInPlace(&x, attnOut) }   // x = x + mlp(LN2(x))
        }
        Profiler.measure("layernorm") { finalNorm(x, into: &h) }
    }

    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = [("wte.weight", tokenEmbedding.table), ("wpe.weight", positionEmbedding.table)]
        for (l, b) in blocks.enumerated() {
            let p = "h.\(l)"
            out += [
                ("\(p).ln_1.weight", b.ln1.weight), ("\(p).ln_1.bias", b.ln1.bias),
                ("\(p).attn.qkv.weight", b.attention.qkv.weights.dense()), ("\(p).attn.qkv.bias", b.attention.qkv.bias!),
                ("\(p).attn.proj.weight", b.attention.output.weights.dense()), ("\(p).attn.proj.bias", b.attention.output.bias!),
                ("\(p).ln_2.weight", b.ln2.weight), ("\(p).ln_2.bias", b.ln2.bias),
                ("\(p).mlp.fc.weight", b.fc1.weights.dense()), ("\(p).mlp.fc.bias", b.fc1.bias!),
                ("\(p).mlp.proj.weight", b.fc2.weights.dense()), ("\(p).mlp.proj.bias", b.fc2.bias!),
            ]
        }
        out += [("ln_f.weight", finalNorm.weight), ("ln_f.bias", finalNorm.bias)]
        return out
    }
}
