// Real text for the language model: Debian's `fortunes` split by Models/fortunes-lm/prepare-corpus.py
// into train / validation / test files (fortunes separated by a line holding only "%"), tokenised
// with the model's WordPiece vocabulary into one stream, each fortune followed by [SEP] (its end).
// Perplexity is measured on non-overlapping windows of T+1 tokens: the model reads the first T and
// predicts the next token at every position, so each window scores T tokens, the first with no
// context. The same windows serve the trained model, the inference decoder and a unigram model.
import Foundation
import InfCore

/// T input tokens and the T tokens that follow each of them.
public typealias TextWindow = (input: [Int32], target: [Int32])

public struct TokenStream: Sendable {
    public var ids: [Int32]
    /// Fortunes in the stream (each ends with the separator).
    public var documents: Int

    public init(ids: [Int32], documents: Int) {
        self.ids = ids
        self.documents = documents
    }

    /// Reads a split file and tokenises it; one sentence naming the file when it cannot.
    public static func load(path: String, tokenizer: WordPieceTokenizer) throws -> TokenStream {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ModelError("\(path): no such text file (run `make lm-data` for the fortunes splits).")
        }
        return encode(fortunes(text), tokenizer: tokenizer)
    }

    /// "%"-separated records → trimmed, non-empty texts.
    public static func fortunes(_ text: String) -> [String] {
        text.components(separatedBy: "\n%\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Each text's word pieces followed by [SEP] (no [CLS]: the stream is read left to right).
    public static func encode(_ texts: [String], tokenizer: WordPieceTokenizer) -> TokenStream {
        var ids: [Int32] = []
        for t in texts { ids += tokenizer.encode(t, maxLength: .max).dropFirst() }
        return TokenStream(ids: ids, documents: texts.count)
    }

    /// Non-overlapping windows of `length + 1` tokens: (inputs (length), targets (length)).
    public func windows(length: Int) -> [TextWindow] {
        precondition(length >= 1, "window length must be ≥ 1")
        return stride(from: 0, to: ids.count - length, by: length).map { s in
            (Array(ids[s..<(s + length)]), Array(ids[(s + 1)...(s + length)]))
        }
    }

    /// Occurrences of every id below `vocabularySize`.
    public func counts(vocabularySize: Int) -> [Int] {
        var out = [Int](repeating: 0, count: vocabularySize)
        for id in ids { out[Int(id)] += 1 }
        return out
    }
}

public struct PerplexityResult: Sendable, Codable, Equatable {
    /// exp(mean negative log-likelihood per predicted token).
    public var perplexity: Double
    /// Mean negative log-likelihood in nats.
    public var meanNLL: Double
    /// Predicted tokens scored.
    public var tokens: Int
}

public enum Perplexity {
    /// −log softmax(row)[target] in Double, for every row of (N, V) logits; summed.
    public static func nllSum(logits: Tensor, targets: [Int32]) -> Double {
        let v = logits.lastDim
        precondition(logits.rows == targets.count, "\(targets.count) targets for \(logits.rows) rows of logits")
        return logits.storage.withUnsafeBufferPointer { lp in
            var total = 0.0
            for r in 0..<targets.count {
                let row = lp.baseAddress! + r * v
                var m = -Float.infinity
                for j in 0..<v { m = max(m, row[j]) }
                var sum = 0.0
                for j in 0..<v { sum += Double(expf(row[j] - m)) }
                total += log(sum) + Double(m) - Double(row[Int(targets[r])])
            }
            return total
        }
    }

    /// Perplexity of `forward` (ids → logits (B, T, V)) over `windows`, `batch` windows per call.
    public static func evaluate(windows: [TextWindow], batch: Int = 16,
                                forward: (ModelInput) -> Tensor) -> PerplexityResult {
        var total = 0.0, tokens = 0
        for start in stride(from: 0, to: windows.count, by: batch) {
            let group = windows[start..<min(start + batch, windows.count)]
            let t = group.first!.input.count
            let logits = forward(.tokens(ids: group.flatMap(\.input), mask: nil, batch: group.count, length: t))
            let targets = group.flatMap(\.target)
            total += nllSum(logits: logits.reshaped([targets.count, logits.lastDim]), targets: targets)
            tokens += targets.count
        }
        let mean = total / Double(max(tokens, 1))
        return PerplexityResult(perplexity: exp(mean), meanNLL: mean, tokens: tokens)
    }

    /// A unigram model from training counts, add-one smoothed over the vocabulary, scored on the
    /// same targets as `evaluate` (every token of every window).
    public static func unigram(trainCounts: [Int], windows: [TextWindow]) -> PerplexityResult {
        let total = Double(trainCounts.reduce(0, +) + trainCounts.count)
        var nll = 0.0, tokens = 0
        for w in windows {
            for id in w.target {
                nll -= log(Double(trainCounts[Int(id)] + 1) / total)
                tokens += 1
            }
        }
        let mean = nll / Double(max(tokens, 1))
        return PerplexityResult(perplexity: exp(mean), meanNLL: mean, tokens: tokens)
    }
}

/// A text language model's own text: its vocab.txt and test.txt beside the checkpoint.
public struct LanguageModelText {
    public let tokenizer: WordPieceTokenizer
    public let test: TokenStream
    private let separator: Int32

    /// nil when `directory` holds no vocab.txt and test.txt (a model with random weights).
    public static func load(directory: String) throws -> LanguageModelText? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: "\(directory)/vocab.txt"), fm.fileExists(atPath: "\(directory)/test.txt") else { return nil }
        let tokenizer = try WordPieceTokenizer(directory: directory)
        guard let sep = tokenizer.id(of: "[SEP]") else { throw ModelError("\(directory)/vocab.txt: no [SEP] token to end a text with.") }
        return LanguageModelText(tokenizer: tokenizer, test: try TokenStream.load(path: "\(directory)/test.txt", tokenizer: tokenizer), separator: sep)
    }

    /// The first `length` tokens of the first `count` test fortunes that are longer than that.
    public func prompts(count: Int, length: Int) -> [[Int32]] {
        var out: [[Int32]] = [], current: [Int32] = []
        for id in test.ids where out.count < count {
            if id == separator {
                if current.count > length { out.append(Array(current.prefix(length))) }
                current = []
            } else {
                current.append(id)
            }
        }
        return out
    }

    /// Word pieces back to text: "##" pieces glued to the previous one, [SEP] as a line break,
    /// no space before closing punctuation or around an apostrophe (lowercase: the vocabulary is).
    public func detokenize(_ ids: [Int32]) -> String {
        var text = ""
        var glueNext = true
        for id in ids {
            let token = tokenizer.token(of: id) ?? "[UNK]"
            if id == separator { text += "\n"; glueNext = true; continue }
            if token.hasPrefix("##") { text += token.dropFirst(2); continue }
            let closing = [".", ",", "!", "?", ";", ":", ")", "'"].contains(token)
            if !glueNext && !closing { text += " " }
            text += token
            glueNext = token == "'" || token == "(" || token == "\""
        }
        return text
    }
}
