// The BERT encoder of InfModels/TransformerEncoder.swift with its classification head,
// as a trainable network with the same (Hugging Face) parameter names:
//   x = LN(E_tok[ids] + E_pos[t] + E_type[0])
//   per layer:  x = LN1(x + Attn(x, mask));  x = LN2(x + W2 · GELU(W1 · x))
//   logits = W_c · tanh(W_p · x[CLS] + b_p) + b_c
import InfCore
import InfModels

extension TransformerEncoder: TrainableModel {
    public func makeTrainable() -> TrainableClassifier? { classifier == nil ? nil : TrainableEncoder(self) }
}

public final class TrainableEncoder: TrainableClassifier {
    final class Block {
        let attention: AttentionLayer
        let ln1: LayerNormLayer, fc1: LinearLayer, gelu = GELULayer(), fc2: LinearLayer, ln2: LayerNormLayer
        init(attention: AttentionLayer, ln1: LayerNormLayer, fc1: LinearLayer, fc2: LinearLayer, ln2: LayerNormLayer) {
            (self.attention, self.ln1, self.fc1, self.fc2, self.ln2) = (attention, ln1, fc1, fc2, ln2)
        }
        var parameters: [Parameter] { attention.parameters + ln1.parameters + fc1.parameters + fc2.parameters + ln2.parameters }
    }

    public let config: TransformerConfig
    /// The inference encoder trained: its declaration names every parameter and writes them back.
    private let base: TransformerEncoder
    private let wordEmbeddings: Parameter     // (V, C)
    private let positionEmbeddings: Parameter // (P, C)
    private let typeEmbeddings: Parameter     // (types, C); every token is type 0
    private let embeddingNorm: LayerNormLayer
    private let blocks: [Block]
    private let pooler: LinearLayer, tanh = TanhLayer(), classifier: LinearLayer
    private var ids: [Int32] = []
    private var shape = (b: 0, t: 0)

    /// Starts from an inference encoder that has a classification head (config id2label); each
    /// parameter keeps the name the encoder declares for it (the QKV fused, as the encoder runs it).
    public init(_ model: TransformerEncoder) {
        precondition(model.pooler != nil && model.classifier != nil, "\(model.name) has no classification head (id2label) to train")
        config = model.config
        base = model
        func linear(_ path: ReferenceWritableKeyPath<TransformerEncoder, Linear>) -> LinearLayer {
            let fc = model[keyPath: path]
            return LinearLayer(name: model.declared(path.appending(path: \.weights)).seamName, weight: fc.weights.dense(), bias: fc.bias!)
        }
        func norm(_ path: ReferenceWritableKeyPath<TransformerEncoder, LayerNorm>) -> LayerNormLayer {
            let ln = model[keyPath: path]
            return LayerNormLayer(name: model.declared(path.appending(path: \.weight)).seamName, gamma: ln.weight, beta: ln.bias, eps: ln.eps)
        }
        func embedding(_ path: ReferenceWritableKeyPath<TransformerEncoder, Embedding>) -> Parameter {
            let table = path.appending(path: \.table)
            return Parameter(model.declared(table).name, model[keyPath: table], decays: false)
        }
        wordEmbeddings = embedding(\.tokenEmbedding)
        positionEmbeddings = embedding(\.positionEmbedding)
        typeEmbeddings = embedding(\.typeEmbedding)
        embeddingNorm = norm(\.embeddingNorm)
        blocks = model.layers.indices.map { l in
            Block(attention: AttentionLayer(qkv: linear(\.layers[l].attention.qkv), output: linear(\.layers[l].attention.output),
                                            heads: model.layers[l].attention.heads),
                  ln1: norm(\.layers[l].ln1), fc1: linear(\.layers[l].fc1), fc2: linear(\.layers[l].fc2), ln2: norm(\.layers[l].ln2))
        }
        pooler = linear(\.pooler!)
        classifier = linear(\.classifier!)
    }

    public var parameters: [Parameter] {
        [wordEmbeddings, positionEmbeddings, typeEmbeddings] + embeddingNorm.parameters + blocks.flatMap(\.parameters)
            + pooler.parameters + classifier.parameters
    }

    /// ids (B·T) with mask (B, T) → logits (B, labels)
    public func forward(_ input: ModelInput) -> Tensor {
        guard case let .tokens(ids, mask, b, t) = input else { preconditionFailure("the encoder takes tokens") }
        precondition(t <= config.maxPositions, "sequence length \(t) exceeds max_position_embeddings \(config.maxPositions)")
        let c = config.hiddenSize
        self.ids = ids
        shape = (b, t)
        var x = Tensor(zeros: [b, t, c])
        for n in 0..<(b * t) {
            let id = Int(ids[n]), pos = n % t
            precondition(id >= 0 && id < config.vocabSize, "token id \(id) outside vocabulary of \(config.vocabSize)")
            for j in 0..<c {
                x.storage[n * c + j] = wordEmbeddings.value.storage[id * c + j] + positionEmbeddings.value.storage[pos * c + j]
                    + typeEmbeddings.value.storage[j]
            }
        }
        x = embeddingNorm.forward(x)
        let keyMask = mask?.storage
        for block in blocks {
            block.attention.keyMask = keyMask
            x = block.ln1.forward(add(x, block.attention.forward(x)))
            x = block.ln2.forward(add(x, block.fc2.forward(block.gelu.forward(block.fc1.forward(x)))))
        }
        var cls = Tensor(zeros: [b, c])
        for bi in 0..<b { cls.storage[(bi * c)..<((bi + 1) * c)] = x.storage[(bi * t * c)..<(bi * t * c + c)] }
        return classifier.forward(tanh.forward(pooler.forward(cls)))
    }

    public func backward(_ dLogits: Tensor) {
        let (b, t, c) = (shape.b, shape.t, config.hiddenSize)
        let dcls = pooler.backward(tanh.backward(classifier.backward(dLogits)))
        var dx = Tensor(zeros: [b, t, c]) // only the [CLS] rows feed the head
        for bi in 0..<b { dx.storage[(bi * t * c)..<(bi * t * c + c)] = dcls.storage[(bi * c)..<((bi + 1) * c)] }
        for block in blocks.reversed() {
            let dSum2 = block.ln2.backward(dx)                       // ∂(x + ffn)
            let dMid = add(dSum2, block.fc1.backward(block.gelu.backward(block.fc2.backward(dSum2))))
            let dSum1 = block.ln1.backward(dMid)                     // ∂(x + attn)
            dx = add(dSum1, block.attention.backward(dSum1))
        }
        let dEmb = embeddingNorm.backward(dx)
        for n in 0..<(b * t) {
            let id = Int(ids[n]), pos = n % t
            for j in 0..<c {
                let g = dEmb.storage[n * c + j]
                wordEmbeddings.grad.storage[id * c + j] += g
                positionEmbeddings.grad.storage[pos * c + j] += g
                typeEmbeddings.grad.storage[j] += g
            }
        }
    }

    /// Hugging Face names, through the encoder's declaration (the fused QKV splits back into query, key and value).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        let model = base.copy()
        model.setExecuted(Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) }))
        return model.namedTensors()
    }
}

/// a + b, element-wise (residual connections and their gradients).
func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "cannot add \(a.shape) and \(b.shape)")
    var out = a
    for i in 0..<out.count { out.storage[i] += b.storage[i] }
    return out
}
