// A BERT-style transformer encoder: learned positions, post-LayerNorm, GELU FFN.
//   x = LN(E_tok[ids] + E_pos[t] + E_type[0])
//   per layer:  x = LN1(x + Attn(x, mask));  x = LN2(x + W2 · GELU(W1 · x))
// With a classification head (config id2label, BertForSequenceClassification):
//   logits = W_c · tanh(W_p · x[CLS] + b_p) + b_c
// Parameter names are Hugging Face's BertModel names, so a real checkpoint loads as is.
import Foundation
import InfCore

public final class TransformerEncoder: InferenceModel {
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

    public init(name: String, config: TransformerConfig, weights: WeightSource) throws {
        self.name = name
        self.config = config
        let c = config.hiddenSize, a = config.attentionWidth, i = config.intermediateSize
        let params = TransformerParameters(weights: weights, config: config)
        tokenEmbedding = Embedding(table: try params.tensor("embeddings.word_embeddings.weight", [config.vocabSize, c]))
        positionEmbedding = Embedding(table: try params.tensor("embeddings.position_embeddings.weight", [config.maxPositions, c]))
        typeEmbedding = Embedding(table: try params.tensor("embeddings.token_type_embeddings.weight", [config.typeVocabSize, c]))
        embeddingNorm = try params.norm("embeddings.LayerNorm")
        layers = try (0..<config.numLayers).map { l in
            let p = "encoder.layer.\(l)"
            let q = try params.linear("\(p).attention.self.query", out: a, in: c)
            let k = try params.linear("\(p).attention.self.key", out: a, in: c)
            let v = try params.linear("\(p).attention.self.value", out: a, in: c)
            // One (3A, C) GEMM instead of three (A, C) ones.
            let qkv = Linear(weight: Tensor(shape: [3 * a, c], storage: q.weights.dense().storage + k.weights.dense().storage + v.weights.dense().storage),
                             bias: Tensor(shape: [3 * a], storage: q.bias!.storage + k.bias!.storage + v.bias!.storage))
            return Layer(attention: MultiHeadAttention(qkv: qkv, output: try params.linear("\(p).attention.output.dense", out: c, in: a),
                                                       heads: config.numHeads),
                         ln1: try params.norm("\(p).attention.output.LayerNorm"),
                         fc1: try params.linear("\(p).intermediate.dense", out: i, in: c),
                         fc2: try params.linear("\(p).output.dense", out: c, in: i),
                         ln2: try params.norm("\(p).output.LayerNorm"))
        }
        if let labels = config.numLabels {
            pooler = try params.linear("pooler.dense", out: c, in: c)
            classifier = try params.linear("classifier", out: labels, in: c)
        }
    }

    private init(copying other: TransformerEncoder) {
        name = other.name
        config = other.config
        tokenEmbedding = other.tokenEmbedding
        positionEmbedding = other.positionEmbedding
        typeEmbedding = other.typeEmbedding
        embeddingNorm = other.embeddingNorm
        layers = other.layers
        pooler = other.pooler
        classifier = other.classifier
        text = other.text
        evaluation = other.evaluation
    }

    public func transformingWeights(_ transform: (String, any LinearWeights) throws -> any LinearWeights) rethrows -> InferenceModel {
        let copy = TransformerEncoder(copying: self)
        for l in copy.layers.indices {
            let p = "encoder.layer.\(l)"
            copy.layers[l].attention.qkv.weights = try transform("\(p).attention.self.qkv", layers[l].attention.qkv.weights)
            copy.layers[l].attention.output.weights = try transform("\(p).attention.output.dense", layers[l].attention.output.weights)
            copy.layers[l].fc1.weights = try transform("\(p).intermediate.dense", layers[l].fc1.weights)
            copy.layers[l].fc2.weights = try transform("\(p).output.dense", layers[l].fc2.weights)
        }
        if let pooler, let classifier {
            copy.pooler!.weights = try transform("pooler.dense", pooler.weights)
            copy.classifier!.weights = try transform("classifier", classifier.weights)
        }
        return copy
    }

    public var kind: ModelKind { .bert }
    public var itemUnit: String { "seq" }
    public var maxSequenceLength: Int? { config.maxPositions }
    public var outputIsLogits: Bool { classifier != nil }

    public var parameterCount: Int { namedTensors().reduce(0) { $0 + $1.tensor.count } }

    public var weightBytes: Int {
        let embeddings = tokenEmbedding.table.byteCount + positionEmbedding.table.byteCount + typeEmbedding.table.byteCount
        return embeddings + layers.reduce(0) { sum, l in
            sum + l.attention.qkv.byteCount + l.attention.output.byteCount + l.fc1.byteCount + l.fc2.byteCount
                + 4 * (l.ln1.parameterCount + l.ln2.parameterCount)
        } + 4 * embeddingNorm.parameterCount + (pooler?.byteCount ?? 0) + (classifier?.byteCount ?? 0)
    }

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
    public func forward(_ input: ModelInput) -> Tensor {
        guard case let .tokens(ids, mask, b, t) = input else { preconditionFailure("\(name) takes tokens") }
        precondition(t <= config.maxPositions, "sequence length \(t) exceeds max_position_embeddings \(config.maxPositions)")
        // Keyed on (B, T), not B·T: (1, 8) and (2, 4) need different position ids.
        if idsShape != (b, t) {
            positionIds = (0..<(b * t)).map { Int32($0 % t) }
            typeIds = [Int32](repeating: 0, count: b * t)
            idsShape = (b, t)
        }
        Profiler.measure("embedding") {
            tokenEmbedding(ids, into: &x)
            positionEmbedding(positionIds, into: &x, accumulate: true)
            typeEmbedding(typeIds, into: &x, accumulate: true)
            x.reshape([b, t, config.hiddenSize])
            embeddingNorm.inPlace(&x)
        }
        for layer in layers {
            layer.attention(x, keyMask: mask, causal: false, into: &attnOut, workspace: &attnWorkspace)
            Profiler.measure("layernorm") { layer.ln1.inPlace(&x, residual: attnOut) }   // x = LN(x + attn)
            Profiler.measure("ffn.up") { layer.fc1(x, into: &ffn) }
            Profiler.measure("gelu") { gelu(&ffn) }
            Profiler.measure("ffn.down") { layer.fc2(ffn, into: &attnOut) }
            Profiler.measure("layernorm") { layer.ln2.inPlace(&x, residual: attnOut) }   // x = LN(x + ffn)
        }
        guard let pooler, let classifier else { return x }
        Profiler.measure("classifier") {
            let c = config.hiddenSize
            pooled.resize([b, c])
            for bi in 0..<b { pooled.storage[(bi * c)..<((bi + 1) * c)] = x.storage[(bi * t * c)..<(bi * t * c + c)] }
            pooler(pooled, into: &pooledOut)
            for i in 0..<pooledOut.count { pooledOut.storage[i] = tanhf(pooledOut.storage[i]) }
            classifier(pooledOut, into: &logits)
        }
        return logits
    }

    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        let (c, a) = (config.hiddenSize, config.attentionWidth)
        var out: [(String, Tensor)] = [
            ("embeddings.word_embeddings.weight", tokenEmbedding.table),
            ("embeddings.position_embeddings.weight", positionEmbedding.table),
            ("embeddings.token_type_embeddings.weight", typeEmbedding.table),
            ("embeddings.LayerNorm.weight", embeddingNorm.weight),
            ("embeddings.LayerNorm.bias", embeddingNorm.bias),
        ]
        for (l, layer) in layers.enumerated() {
            let p = "encoder.layer.\(l)"
            let w = layer.attention.qkv.weights.dense().storage, bias = layer.attention.qkv.bias!.storage
            for (j, part) in ["query", "key", "value"].enumerated() {
                out.append(("\(p).attention.self.\(part).weight", Tensor(shape: [a, c], storage: Array(w[(j * a * c)..<((j + 1) * a * c)]))))
                out.append(("\(p).attention.self.\(part).bias", Tensor(shape: [a], storage: Array(bias[(j * a)..<((j + 1) * a)]))))
            }
            out += [
                ("\(p).attention.output.dense.weight", layer.attention.output.weights.dense()),
                ("\(p).attention.output.dense.bias", layer.attention.output.bias!),
                ("\(p).attention.output.LayerNorm.weight", layer.ln1.weight),
                ("\(p).attention.output.LayerNorm.bias", layer.ln1.bias),
                ("\(p).intermediate.dense.weight", layer.fc1.weights.dense()),
                ("\(p).intermediate.dense.bias", layer.fc1.bias!),
                ("\(p).output.dense.weight", layer.fc2.weights.dense()),
                ("\(p).output.dense.bias", layer.fc2.bias!),
                ("\(p).output.LayerNorm.weight", layer.ln2.weight),
                ("\(p).output.LayerNorm.bias", layer.ln2.bias),
            ]
        }
        if let pooler, let classifier {
            out += [("pooler.dense.weight", pooler.weights.dense()), ("pooler.dense.bias", pooler.bias!),
                    ("classifier.weight", classifier.weights.dense()), ("classifier.bias", classifier.bias!)]
        }
        return out
    }
}
