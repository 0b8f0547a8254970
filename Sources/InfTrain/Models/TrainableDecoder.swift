// The GPT decoder of InfModels/TransformerDecoder.swift as a trainable network, with the same
// parameter names, so a trained one is written as a checkpoint the inference decoder loads:
//   x = E_tok[ids] + E_pos[t]
//   per layer:  x = x + Attn(LN1(x), causal);  x = x + W2 · GELU(W1 · LN2(x))
//   logits = LN_f(x) · E_tokᵀ        (the head is tied: E_tok gets gradient from both ends)
// A decoder whose head no longer equals its embedding (unstructured pruning prunes the head, a
// matrix, and leaves the embedding table dense) trains the two apart: logits = LN_f(x) · W_headᵀ.
import InfCore
import InfModels

/// A decoder is trainable on text (next-token prediction: a classifier at every position).
extension TransformerDecoder: TrainableModel {
    public func makeTrainable() -> TrainableClassifier? { TrainableDecoder(self) }
}

public final class TrainableDecoder: TrainableClassifier {
    final class Block {
        let ln1: LayerNormLayer, attention: AttentionLayer, ln2: LayerNormLayer
        let fc1: LinearLayer, gelu = GELULayer(), fc2: LinearLayer
        init(ln1: LayerNormLayer, attention: AttentionLayer, ln2: LayerNormLayer, fc1: LinearLayer, fc2: LinearLayer) {
            (self.ln1, self.attention, self.ln2, self.fc1, self.fc2) = (ln1, attention, ln2, fc1, fc2)
        }
        var parameters: [Parameter] { ln1.parameters + attention.parameters + ln2.parameters + fc1.parameters + fc2.parameters }
    }

    public let config: TransformerConfig
    private let tokenEmbeddings: Parameter    // wte (V, C), also the output layer when tied
    private let positionEmbeddings: Parameter // wpe (P, C)
    /// The output layer (V, C): `tokenEmbeddings` itself when tied, else its own "lm_head.weight".
    private let headWeights: Parameter
    /// Whether the output layer is the token embedding (one tensor, gradient from both ends).
    public var isTied: Bool { headWeights === tokenEmbeddings }
    private let blocks: [Block]
    private let finalNorm: LayerNormLayer     // ln_f (C)
    private var ids: [Int32] = []
    private var hidden = Tensor(zeros: [0])   // (B·T, C) LN_f(x), the head's input
    private var shape = (b: 0, t: 0)

    /// Starts from an inference decoder (seeded or loaded weights).
    public init(_ model: TransformerDecoder) {
        config = model.config
        tokenEmbeddings = Parameter("wte.weight", model.tokenEmbedding.table, decays: false)
        positionEmbeddings = Parameter("wpe.weight", model.positionEmbedding.table, decays: false)
        let head = model.lmHead.weights.dense()
        headWeights = head == model.tokenEmbedding.table ? tokenEmbeddings : Parameter("lm_head.weight", head, decays: false)
        func linear(_ name: String, _ fc: Linear) -> LinearLayer { LinearLayer(name: name, weight: fc.weights.dense(), bias: fc.bias!) }
        func norm(_ name: String, _ ln: LayerNorm) -> LayerNormLayer { LayerNormLayer(name: name, gamma: ln.weight, beta: ln.bias, eps: ln.eps) }
        blocks = model.blocks.enumerated().map { l, b in
            let p = "h.\(l)"
            let attention = AttentionLayer(qkv: linear("\(p).attn.qkv", b.attention.qkv), output: linear("\(p).attn.proj", b.attention.output),
                                           heads: b.attention.heads)
            attention.causal = true
            return Block(ln1: norm("\(p).ln_1", b.ln1), attention: attention, ln2: norm("\(p).ln_2", b.ln2),
                         fc1: linear("\(p).mlp.fc", b.fc1), fc2: linear("\(p).mlp.proj", b.fc2))
        }
        finalNorm = norm("ln_f", model.finalNorm)
    }

    public var parameters: [Parameter] {
        [tokenEmbeddings, positionEmbeddings] + blocks.flatMap(\.parameters) + finalNorm.parameters + (isTied ? [] : [headWeights])
    }

    /// The body: every parameter but the token embedding / output layer and the final LayerNorm
    /// (what stays frozen when only an output layer is fine-tuned).
    public var bodyParameters: [Parameter] { [positionEmbeddings] + blocks.flatMap(\.parameters) }

    /// ids (B·T) → logits (B, T, V) at every position.
    public func forward(_ input: ModelInput) -> Tensor {
        let h = forwardHidden(input)
        let (n, c, v) = (h.rows, config.hiddenSize, config.vocabSize)
        var logits = Tensor(zeros: [shape.b, shape.t, v])
        // Most of the running time is spent here and in its two backward products: V ≫ C.
        h.storage.withUnsafeBufferPointer { hp in
            headWeights.value.storage.withUnsafeBufferPointer { w in
                logits.storage.withUnsafeMutableBufferPointer { lp in
                    BLAS.sgemm(transB: true, m: n, n: v, k: c, a: hp.baseAddress!, lda: c, b: w.baseAddress!, ldb: c, c: lp.baseAddress!, ldc: v)
                }
            }
        }
        return logits
    }

    /// ids (B·T) → LN_f(x) (B·T, C), the output layer's input; kept for `backward`.
    public func forwardHidden(_ input: ModelInput) -> Tensor {
        guard case let .tokens(ids, _, b, t) = input else { preconditionFailure("the decoder takes tokens") }
        precondition(t <= config.maxPositions, "sequence length \(t) exceeds max_position_embeddings \(config.maxPositions)")
        let c = config.hiddenSize
        self.ids = ids
        shape = (b, t)
        var x = Tensor(zeros: [b, t, c])
        x.storage.withUnsafeMutableBufferPointer { xp in
            tokenEmbeddings.value.storage.withUnsafeBufferPointer { te in
                positionEmbeddings.value.storage.withUnsafeBufferPointer { pe in
                    for n in 0..<(b * t) {
                        let id = Int(ids[n]), pos = n % t
                        precondition(id >= 0 && id < config.vocabSize, "token id \(id) outside vocabulary of \(config.vocabSize)")
                        for j in 0..<c { xp[n * c + j] = te[id * c + j] + pe[pos * c + j] }
                    }
                }
            }
        }
        for block in blocks {
            x = add(x, block.attention.forward(block.ln1.forward(x)))
            x = add(x, block.fc2.forward(block.gelu.forward(block.fc1.forward(block.ln2.forward(x)))))
        }
        hidden = finalNorm.forward(x).reshaped([b * t, c])
        return hidden
    }

    /// ∂L/∂logits (B·T, V) → every parameter's gradient (a tied table's from both its uses).
    public func backward(_ dLogits: Tensor) {
        let (n, c, v) = (hidden.rows, config.hiddenSize, config.vocabSize)
        precondition(dLogits.count == n * v, "gradient \(dLogits.shape) does not match the logits (\(n), \(v))")
        var dh = Tensor(zeros: [n, c])
        dLogits.storage.withUnsafeBufferPointer { g in
            hidden.storage.withUnsafeBufferPointer { hp in
                headWeights.grad.storage.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(transA: true, m: v, n: c, k: n, a: g.baseAddress!, lda: v, b: hp.baseAddress!, ldb: c, beta: 1, c: dw.baseAddress!, ldc: c)
                }
            }
            headWeights.value.storage.withUnsafeBufferPointer { w in
                dh.storage.withUnsafeMutableBufferPointer { dp in
                    BLAS.sgemm(m: n, n: c, k: v, a: g.baseAddress!, lda: v, b: w.baseAddress!, ldb: c, c: dp.baseAddress!, ldc: c)
                }
            }
        }
        backwardHidden(dh)
    }

    /// ∂L/∂LN_f(x) (B·T, C) → gradients of everything below the output layer.
    public func backwardHidden(_ dHidden: Tensor) {
        let (b, t, c) = (shape.b, shape.t, config.hiddenSize)
        var dx = finalNorm.backward(dHidden.reshaped([b, t, c]))
        for block in blocks.reversed() {
            // x + FFN(LN2(x)) and x + Attn(LN1(x)): the residual passes dx straight through.
            dx = add(dx, block.ln2.backward(block.fc1.backward(block.gelu.backward(block.fc2.backward(dx)))))
            dx = add(dx, block.ln1.backward(block.attention.backward(dx)))
        }
        dx.storage.withUnsafeBufferPointer { g in
            tokenEmbeddings.grad.storage.withUnsafeMutableBufferPointer { dte in
                positionEmbeddings.grad.storage.withUnsafeMutableBufferPointer { dpe in
                    for n in 0..<(b * t) {
                        let id = Int(ids[n]), pos = n % t
                        for j in 0..<c {
                            dte[id * c + j] += g[n * c + j]
                            dpe[pos * c + j] += g[n * c + j]
                        }
                    }
                }
            }
        }
    }

    /// The inference decoder's names; an lm_head tensor only when untied (tied, it is wte, and the
    /// checkpoint does not store it: an untied one reaches the inference model through its "lm_head" matrix).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        parameters.map { ($0.name, $0.value) }
    }
}
