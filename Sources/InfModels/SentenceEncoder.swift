// Sentence embeddings as sentence-transformers computes them for BERT-family
// encoders such as all-MiniLM-L6-v2: WordPiece tokens → encoder → mean over the
// non-padding tokens → L2 normalisation (when the model lists a Normalize module).
import Foundation
import InfCore

public final class SentenceEncoder {
    public let model: TransformerEncoder
    public let tokenizer: WordPieceTokenizer
    /// Whether embeddings are L2-normalised (modules.json lists sentence_transformers.models.Normalize).
    public let normalize: Bool
    /// Loader notes (e.g. checkpoint tensors the encoder does not use).
    public let notes: [String]

    /// Loads `directory`: config.json + model.safetensors + vocab.txt (+ tokenizer.json,
    /// 1_Pooling/config.json, modules.json when present).
    public init(directory spec: String) throws {
        let loaded = try ModelLoader.load(spec)
        // A bundled name ("all-MiniLM-L6-v2") works from any directory: read the files where the loader found them.
        let directory = loaded.source.hasSuffix(".json") ? (loaded.source as NSString).deletingLastPathComponent : loaded.source
        guard let encoder = loaded.model as? TransformerEncoder else {
            throw ModelError("\(spec): sentence embeddings need a BERT-style encoder (model_type \"bert\"), not \"\(loaded.config.kind.rawValue)\".")
        }
        let tokenizer = try WordPieceTokenizer(directory: directory)
        try ModelLoader.checkVocabulary(tokenizer, fits: encoder.config, directory: directory)
        let pooling = (directory as NSString).appendingPathComponent("1_Pooling/config.json")
        if let data = FileManager.default.contents(atPath: pooling) {
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelError("\(pooling): not a JSON object.")
            }
            let modes = json.filter { $0.key.hasPrefix("pooling_mode_") && ($0.value as? Bool) == true }.map(\.key)
            guard modes == ["pooling_mode_mean_tokens"] else {
                throw ModelError("\(pooling): only mean pooling (pooling_mode_mean_tokens) is supported, the model asks for \(modes.sorted()).")
            }
        }
        let modules = (directory as NSString).appendingPathComponent("modules.json")
        if let data = FileManager.default.contents(atPath: modules) {
            normalize = String(decoding: data, as: UTF8.self).contains("sentence_transformers.models.Normalize")
        } else {
            normalize = true // the common sentence-transformers setup; said in the README
        }
        self.model = encoder
        self.tokenizer = tokenizer
        self.notes = loaded.notes
    }

    /// One embedding (hidden size floats) per text, computed as one padded batch.
    public func embed(_ texts: [String], in context: ExecutionContext) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let (ids, mask, b, t) = tokenizer.encodeBatch(texts)
        let c = model.config.hiddenSize
        let hidden = model.forward(.tokens(ids: ids, mask: Tensor(shape: [b, t], storage: mask), batch: b, length: t), in: context) // (B, T, C)
        return (0..<b).map { i in
            // Mean over the real tokens only: padding must not move a sentence's embedding.
            var sum = [Double](repeating: 0, count: c)
            var n = 0.0
            for j in 0..<t where mask[i * t + j] != 0 {
                let row = (i * t + j) * c
                for k in 0..<c { sum[k] += Double(hidden.storage[row + k]) }
                n += 1
            }
            var v = sum.map { $0 / max(n, 1) }
            if normalize {
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { v = v.map { $0 / norm } }
            }
            return v.map(Float.init)
        }
    }

    /// Cosine similarity of two embeddings.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return na == 0 || nb == 0 ? 0 : dot / (na.squareRoot() * nb.squareRoot())
    }
}
