// A BERT-style transformer encoder: learned positions, post-LayerNorm, GELU FFN.
//   x = LN(E_tok[ids] + E_pos[t] + E_type[0])
//   per layer:  x = LN1(x + Attn(x, mask));  x = LN2(x + W2 · GELU(W1 · x))
// With a classification head (config id2label, BertForSequenceClassification):
//   logits = W_c · tanh(W_p · x[CLS] + b_p) + b_c
// Parameter names are Hugging Face's BertModel names, so a real checkpoint loads as is; they are
// declared once (`parameters`), and loading, copies, counts and transforms walk that declaration.
import Foundation
import InfCore

extension ModelKind {
    public static let bert = ModelKind(rawValue: "bert")
}

public final class TransformerEncoder: RegisteredModel, TokenModel {
    public struct Layer: Sendable {
        public var attention: MultiHeadAttention // QKV (3C, C) fused from query/key/value at load
        public var ln1: LayerNorm                // attention.output.LayerNorm (C)
        public var fc1: Linear                   // intermediate.dense (I, C)
        public var fc2: Linear                   // output.dense (C, I)
        public var ln2: LayerNorm                // output.LayerNorm (C)
    }

    public let name: String
    public let config: TransformerConfig
    public var tokenEmbedding: Embedding    // (V, C)
    public var positionEmbedding: Embedding // (P, C)
    public var typeEmbedding: Embedding     // (types, C)
    public var embeddingNorm: LayerNorm     // (C)
    public var layers: [Layer]
    public var pooler: Linear?     // pooler.dense (C, C), with a classification head
    public var classifier: Linear? // classifier (labels, C)

    // Scratch reused across calls (the arena): sized on the first call per batch shape.
    private var x = Tensor(zeros: [0])        // (B, T, C) hidden state
    private var attnOut = Tensor(zeros: [0])  // (B, T, C)
    private var ffn = Tensor(zeros: [0])      // (B, T, I)
    private var positionIds: [Int32] = []
    private var typeIds: [Int32] = []
    private var idsShape = (batch: 0, length: 0) // the (B, T) positionIds were built for
    private var attnWorkspace = MultiHeadAttention.Workspace()
    private var pooled = Tensor(zeros: [0])   // (B, C): [CLS] rows, then the pooler output
    private var pooledOut = Tensor(zeros: [0])
    private var logits = Tensor(zeros: [0])   // (B, labels)

    public init(structureFor config: TransformerConfig, name: String) {
        self.name = name
        self.config = config
        let c = config.hiddenSize, a = config.attentionWidth, i = config.intermediateSize, eps = config.layerNormEps
        (tokenEmbedding, positionEmbedding, typeEmbedding) = (.unloaded, .unloaded, .unloaded)
        embeddingNorm = .unloaded(eps: eps)
        layers = (0..<config.numLayers).map { _ in
            Layer(attention: MultiHeadAttention(qkv: .unloaded(out: 3 * a, in: c), output: .unloaded(out: c, in: a), heads: config.numHeads),
                  ln1: .unloaded(eps: eps), fc1: .unloaded(out: i, in: c), fc2: .unloaded(out: c, in: i), ln2: .unloaded(eps: eps))
        }
        if let labels = config.numLabels {
            pooler = .unloaded(out: c, in: c)
            classifier = .unloaded(out: labels, in: c)
        }
    }

    /// The parameters under Hugging Face's BertModel names, with BERT's initialisation for generated
    /// weights (normal 0.02, LayerNorm γ = 1). Query, key and value load into one (3A, C) QKV matrix:
    /// one GEMM instead of three.
    public static func parameters(_ config: TransformerConfig) -> [ModelParameter<TransformerEncoder>] {
        typealias P = ModelParameter<TransformerEncoder>
        let (c, a, i, std) = (config.hiddenSize, config.attentionWidth, config.intermediateSize, Init.normal(std: 0.02))
        var out = [P("embeddings.word_embeddings.weight", [config.vocabSize, c], .embedding, .tensor(\.tokenEmbedding.table), std),
                   P("embeddings.position_embeddings.weight", [config.maxPositions, c], .embedding, .tensor(\.positionEmbedding.table), std),
                   P("embeddings.token_type_embeddings.weight", [config.typeVocabSize, c], .embedding, .tensor(\.typeEmbedding.table), std)]
            + P.norm("embeddings.LayerNorm", c, \.embeddingNorm, bias: std)
        for l in 0..<config.numLayers {
            let p = "encoder.layer.\(l)", s = "\(p).attention.self"
            func parts(_ suffix: String) -> [String] { ["query", "key", "value"].map { "\(s).\($0).\(suffix)" } }
            out += [P("\(s).qkv.weight", [3 * a, c], .matrix, .matrix(\.layers[l].attention.qkv.weights), std, layout: .fused(parts("weight"))),
                    P("\(s).qkv.bias", [3 * a], .bias, .bias(\.layers[l].attention.qkv.bias), std, layout: .fused(parts("bias")))]
            out += P.linear("\(p).attention.output.dense", out: c, in: a, \.layers[l].attention.output, weight: std, bias: std)
                + P.norm("\(p).attention.output.LayerNorm", c, \.layers[l].ln1, bias: std)
                + P.linear("\(p).intermediate.dense", out: i, in: c, \.layers[l].fc1, weight: std, bias: std)
                + P.linear("\(p).output.dense", out: c, in: i, \.layers[l].fc2, weight: std, bias: std)
                + P.norm("\(p).output.LayerNorm", c, \.layers[l].ln2, bias: std)
        }
        if let labels = config.numLabels {
            out += P.linear("pooler.dense", out: c, in: c, \.pooler!, weight: std, bias: std)
                + P.linear("classifier", out: labels, in: c, \.classifier!, weight: std, bias: std)
        }
        return out
    }

    public var attachments: (text: (tokens: [Int32], cls: Int32, sep: Int32)?, evaluation: LabelledSequences?) {
        get { (text, evaluation) }
        set { (text, evaluation) = newValue }
    }

    /// The bundled English text, tokenised, when the model directory has a vocab.txt.
    public func attachFiles(directory: String?, configPath: String) throws -> [String] {
        guard let directory, FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("vocab.txt")) else { return [] }
        return try ModelLoader.attachText(to: self, directory: directory)
    }

    /// The test sequences of the dataset the model was trained on.
    public func attachEvaluation(_ examples: LabelledExamples, dataset: String, configPath: String) throws {
        guard let sequences = examples as? LabelledSequences else {
            throw ModelError("\(configPath): infbench_dataset \"\(dataset)\" does not fit a \(kind.rawValue) model.")
        }
        guard sequences.length <= config.maxPositions, config.vocabSize >= SentimentDataset.vocabularySize,
              config.numLabels == sequences.classNames.count else {
            throw ModelError("\(configPath): infbench_dataset \"\(dataset)\" (length \(sequences.length), \(SentimentDataset.vocabularySize) tokens, \(sequences.classNames.count) classes) does not fit the encoder (max_position_embeddings, vocab_size, id2label).")
        }
        evaluation = sequences
    }

    public var kind: ModelKind { .bert }
    public var vocabularySize: Int { config.vocabSize }
    public var maxPositions: Int { config.maxPositions }
    public var itemUnit: String { "seq" }
    public var maxSequenceLength: Int? { config.maxPositions }
    public var outputIsLogits: Bool { classifier != nil }

    /// Real text for inputs, when the model has a tokenizer: a stream of WordPiece ids and the
    /// [CLS]/[SEP] ids. makeInput then fills each sequence with a window of that text.
    public var text: (tokens: [Int32], cls: Int32, sep: Int32)?

    /// Test sequences of the dataset the model was trained on (see `evaluationSet`); makeInput
    /// uses them when asked for their length.
    public var evaluation: LabelledSequences?
    public var evaluationSet: LabelledExamples? { evaluation }

    public func makeInput(batch: Int, sequenceLength: Int, rng: inout SeededRNG) -> ModelInput {
        if let evaluation, evaluation.count > 0, evaluation.length == sequenceLength {
            return evaluation.input((0..<batch).map { _ in rng.nextInt(below: evaluation.count) })
        }
        if let text, sequenceLength >= 3, text.tokens.count >= sequenceLength {
            // [CLS] + a seeded window of real text + [SEP]: quality figures then describe text, not token soup.
            var ids: [Int32] = []
            ids.reserveCapacity(batch * sequenceLength)
            for _ in 0..<batch {
                let start = rng.nextInt(below: text.tokens.count - (sequenceLength - 2) + 1)
                ids.append(text.cls)
                ids += text.tokens[start..<(start + sequenceLength - 2)]
                ids.append(text.sep)
            }
            return .tokens(ids: ids, mask: nil, batch: batch, length: sequenceLength)
        }
        // Ids above 999 avoid BERT's special and unused tokens in real vocabularies;
        // a small (synthetic) vocabulary uses all its ids rather than repeating one.
        let low = config.vocabSize >= 2000 ? 1000 : 0
        let ids = (0..<(batch * sequenceLength)).map { _ in Int32(low + rng.nextInt(below: config.vocabSize - low)) }
        return .tokens(ids: ids, mask: nil, batch: batch, length: sequenceLength)
    }

    public func flops(batch: Int, sequenceLength t: Int) -> Double {
        let c = Double(config.hiddenSize), a = Double(config.attentionWidth), i = Double(config.intermediateSize), tt = Double(t)
        let perLayer = 2 * tt * c * (3 * a) + 2 * tt * a * c + 2 * 2 * tt * c * i + 2 * 2 * tt * tt * a
        let head = Double((pooler?.parameterCount ?? 0) + (classifier?.parameterCount ?? 0)) * 2
        return Double(batch) * (Double(config.numLayers) * perLayer + head)
    }

    /// ids (B·T), mask (B, T) → last hidden state (B, T, C), or logits (B, labels) with a head.
    public func forward(_ input: ModelInput, in context: ExecutionContext) -> Tensor {
        guard case let .tokens(ids, mask, b, t) = input else { preconditionFailure("\(name) takes tokens") }
        precondition(t <= config.maxPositions, "sequence length \(t) exceeds max_position_embeddings \(config.maxPositions)")
        // Keyed on (B, T), not B·T: (1, 8) and (2, 4) need different position ids.
        if idsShape != (b, t) {
            positionIds = (0..<(b * t)).map { Int32($0 % t) }
            typeIds = [Int32](repeating: 0, count: b * t)
            idsShape = (b, t)
        }
        context.measure("embedding") {
            tokenEmbedding(ids, into: &x)
            positionEmbedding(positionIds, into: &x, accumulate: true)
            typeEmbedding(typeIds, into: &x, accumulate: true)
            x.reshape([b, t, config.hiddenSize])
            embeddingNorm.inPlace(&x, in: context)
        }
        for layer in layers {
            layer.attention(x, keyMask: mask, causal: false, into: &attnOut, workspace: &attnWorkspace, in: context)
            context.measure("layernorm") { layer.ln1.inPlace(&x, residual: attnOut, in: context) }   // x = LN(x + attn)
            context.measure("ffn.up") { layer.fc1(x, into: &ffn, activation: .gelu, in: context) }   // GELU in the GEMM's store
            context.measure("ffn.down") { layer.fc2(ffn, into: &attnOut, in: context) }
            context.measure("layernorm") { layer.ln2.inPlace(&x, residual: attnOut, in: context) }   // x = LN(x + ffn)
        }
        guard let pooler, let classifier else { return x }
        context.measure("classifier") {
            let c = config.hiddenSize
            pooled.resize([b, c])
            for bi in 0..<b { pooled.storage[(bi * c)..<((bi + 1) * c)] = x.storage[(bi * t * c)..<(bi * t * c + c)] }
            pooler(pooled, into: &pooledOut, in: context)
            for i in 0..<pooledOut.count { pooledOut.storage[i] = tanhf(pooledOut.storage[i]) }
            classifier(pooledOut, into: &logits, in: context)
        }
        return logits
    }
}
