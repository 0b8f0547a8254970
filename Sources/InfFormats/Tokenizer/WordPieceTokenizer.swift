// The BERT WordPiece tokenizer: text → [CLS] word pieces [SEP] ids, as Hugging Face's
// `tokenizers` does for a tokenizer.json with BertNormalizer + BertPreTokenizer + WordPiece.
// Pipeline: split out special tokens written literally in the text ("[SEP]"), normalise and
// pre-tokenise the rest (BasicTokenizer.swift), then greedy longest-match-first WordPiece.
import Foundation

/// One clear sentence naming the file (or "vocabulary" when built from a list) at fault.
public struct TokenizerError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

public final class WordPieceTokenizer: Sendable {
    /// The longest encoding `encode` returns by default, [CLS] and [SEP] included.
    public let maxLength: Int

    private let basic: BasicTokenizer
    private let tokens: [String]                                 // id → token, vocab order
    // Lookups are by exact scalar sequence (as HF compares bytes), never by Swift String
    // equality, which would merge canonically equivalent entries such as "é" and "e\u{301}".
    private let wholeWords: [ArraySlice<Unicode.Scalar>: Int32]  // every token
    private let continuations: [ArraySlice<Unicode.Scalar>: Int32] // "##x" tokens, keyed by "x"
    private let specials: [[Unicode.Scalar]]                     // matched in raw text, longest first
    private let specialIDs: [[Unicode.Scalar]: Int32]
    private let unknownID: Int32, clsID: Int32, sepID: Int32, padID: Int32
    private let maxInputCharsPerWord: Int

    public var vocabularySize: Int { tokens.count }

    // MARK: Loading

    /// Reads `vocab.txt` (one token per line, id = line number) and, when present, the
    /// normaliser and WordPiece settings of `tokenizer.json` (else `tokenizer_config.json`).
    /// maxLength = min(sentence_bert_config.json max_seq_length, tokenizer_config.json
    /// model_max_length), 512 when neither gives one (transformers' 1e30 "no limit" counts as none).
    public convenience init(directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        let vocabPath = dir.appendingPathComponent("vocab.txt").path
        if let problem = regularFileProblem(vocabPath) { throw TokenizerError("\(vocabPath): \(problem).") }
        guard let data = FileManager.default.contents(atPath: vocabPath) else {
            throw TokenizerError("\(vocabPath): no vocabulary file (missing or unreadable).")
        }
        let lines = try Self.vocabularyLines(data, source: vocabPath)

        let tokenizerJSON = dir.appendingPathComponent("tokenizer.json").path
        let tokenizerConfig = dir.appendingPathComponent("tokenizer_config.json").path
        let stConfig = dir.appendingPathComponent("sentence_bert_config.json").path
        let config = try Self.readJSON(tokenizerConfig) ?? [:]

        var basic = BasicTokenizer()
        var unknown = "[UNK]", prefix = "##", maxChars = 100
        var added: [(String, Int32?)] = []
        if let hf = try Self.readJSON(tokenizerJSON) {
            if let n = hf["normalizer"], !(n is NSNull) {
                guard let n = n as? [String: Any], n["type"] as? String == "BertNormalizer" else {
                    throw TokenizerError("\(tokenizerJSON): the normalizer is not a BertNormalizer, the only kind infbench implements.")
                }
                basic.cleanText = n["clean_text"] as? Bool ?? true
                basic.handleChineseChars = n["handle_chinese_chars"] as? Bool ?? true
                basic.lowercase = n["lowercase"] as? Bool ?? true
                basic.stripAccents = n["strip_accents"] as? Bool ?? basic.lowercase
            } else {
                basic = BasicTokenizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
            }
            if let p = hf["pre_tokenizer"], !(p is NSNull),
               (p as? [String: Any])?["type"] as? String != "BertPreTokenizer" {
                throw TokenizerError("\(tokenizerJSON): the pre_tokenizer is not a BertPreTokenizer, the only kind infbench implements.")
            }
            guard let model = hf["model"] as? [String: Any], model["type"] as? String == "WordPiece" else {
                throw TokenizerError("\(tokenizerJSON): the model is not WordPiece, the only kind infbench implements.")
            }
            unknown = model["unk_token"] as? String ?? unknown
            prefix = model["continuing_subword_prefix"] as? String ?? prefix
            maxChars = (model["max_input_chars_per_word"] as? NSNumber)?.intValue ?? maxChars
            for case let t as [String: Any] in hf["added_tokens"] as? [Any] ?? [] {
                if let content = t["content"] as? String {
                    added.append((content, (t["id"] as? NSNumber).map { Int32(truncatingIfNeeded: $0.int64Value) }))
                }
            }
        } else {
            basic.lowercase = config["do_lower_case"] as? Bool ?? true
            basic.handleChineseChars = config["tokenize_chinese_chars"] as? Bool ?? true
            basic.stripAccents = config["strip_accents"] as? Bool ?? basic.lowercase
            unknown = config["unk_token"] as? String ?? unknown
            for key in ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"] {
                if let t = config[key] as? String { added.append((t, nil)) }
            }
        }

        let limits = [(try Self.readJSON(stConfig))?["max_seq_length"], config["model_max_length"]]
            .compactMap { ($0 as? NSNumber)?.doubleValue }
            .filter { $0 >= 2 && $0 < 1e15 }  // transformers writes int(1e30) for "no limit"
        let maxLength = limits.isEmpty ? 512 : Int(min(limits.min()!, Double(Int32.max)))

        try self.init(tokens: lines, source: vocabPath, basic: basic, maxLength: maxLength,
                      unknownToken: unknown, prefix: prefix, maxInputCharsPerWord: maxChars,
                      addedTokens: added, addedSource: tokenizerJSON)
    }

    /// The tokens of a vocab.txt, as HF reads it: split on \n (dropping a \r before it),
    /// trailing whitespace trimmed, and no entry after a final newline. `source` names the
    /// file in the error. Separate from `init(directory:)` so the fuzzer needs no files.
    public static func vocabularyLines(_ data: Data, source: String) throws -> [String] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError("\(source): the vocabulary is not valid UTF-8.")
        }
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            var line = String.UnicodeScalarView($0)
            while let last = line.last, last.properties.isWhitespace { line.removeLast() }
            return String(line)
        }
        if text.unicodeScalars.last == "\n" || text.isEmpty { lines.removeLast() }
        return lines
    }

    /// A tokenizer from an in-memory vocabulary (id = index). The special tokens [PAD] [UNK]
    /// [CLS] [SEP] (required) and [MASK] (if present) are matched literally in the text, as HF does.
    public convenience init(vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil,
                            handleChineseChars: Bool = true, maxLength: Int = 512,
                            unknownToken: String = "[UNK]", maxInputCharsPerWord: Int = 100) throws {
        let basic = BasicTokenizer(cleanText: true, handleChineseChars: handleChineseChars,
                                   stripAccents: stripAccents ?? lowercase, lowercase: lowercase)
        let added = ["[PAD]", unknownToken, "[CLS]", "[SEP]", "[MASK]"].map { ($0, Int32?.none) }
        try self.init(tokens: vocabulary, source: "vocabulary", basic: basic, maxLength: maxLength,
                      unknownToken: unknownToken, prefix: "##", maxInputCharsPerWord: maxInputCharsPerWord,
                      addedTokens: added, addedSource: "vocabulary")
    }

    private init(tokens: [String], source: String, basic: BasicTokenizer, maxLength: Int,
                 unknownToken: String, prefix: String, maxInputCharsPerWord: Int,
                 addedTokens: [(String, Int32?)], addedSource: String) throws {
        guard !tokens.isEmpty else { throw TokenizerError("\(source): the vocabulary is empty.") }
        guard tokens.count <= Int(Int32.max) else { throw TokenizerError("\(source): the vocabulary has more than 2^31 entries.") }
        guard maxLength >= 2 else { throw TokenizerError("\(source): maxLength \(maxLength) leaves no room for [CLS] and [SEP].") }
        var whole: [ArraySlice<Unicode.Scalar>: Int32] = [:]
        var cont: [ArraySlice<Unicode.Scalar>: Int32] = [:]
        whole.reserveCapacity(tokens.count)
        let prefixScalars = Array(prefix.unicodeScalars)
        for (i, token) in tokens.enumerated() {
            let scalars = ArraySlice(token.unicodeScalars)
            // HF silently keeps the last id of a repeated token, so every earlier id becomes
            // unreachable and ids shift against what the model was trained on: reject instead.
            if let first = whole[scalars] {
                throw TokenizerError("\(source): token \"\(token)\" appears twice (ids \(first) and \(i)); a vocabulary must list each token once.")
            }
            whole[scalars] = Int32(i)
            if !prefixScalars.isEmpty, scalars.starts(with: prefixScalars) {
                cont[scalars.dropFirst(prefixScalars.count)] = Int32(i)
            }
        }
        if prefixScalars.isEmpty { cont = whole }
        func required(_ t: String) throws -> Int32 {
            guard let id = whole[ArraySlice(t.unicodeScalars)] else {
                throw TokenizerError("\(source): the vocabulary has no \(t) token.")
            }
            return id
        }
        unknownID = try required(unknownToken)
        clsID = try required("[CLS]")
        sepID = try required("[SEP]")
        padID = try required("[PAD]")

        var specialIDs: [[Unicode.Scalar]: Int32] = [:]
        for (content, declared) in addedTokens where !content.isEmpty {
            let scalars = Array(content.unicodeScalars)
            guard let id = whole[ArraySlice(scalars)] else {
                if declared == nil { continue }  // an optional special such as [MASK]
                throw TokenizerError("\(addedSource): added token \"\(content)\" is not in \(source).")
            }
            if let declared, declared != id {
                throw TokenizerError("\(addedSource): added token \"\(content)\" has id \(declared) but is line \(id + 1) of \(source).")
            }
            specialIDs[scalars] = id
        }
        self.specialIDs = specialIDs
        self.specials = specialIDs.keys.sorted { $0.count > $1.count }
        self.tokens = tokens
        self.wholeWords = whole
        self.continuations = cont
        self.basic = basic
        self.maxLength = maxLength
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// The file's JSON object, nil when the file does not exist.
    private static func readJSON(_ path: String) throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        if let problem = regularFileProblem(path) { throw TokenizerError("\(path): \(problem).") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError("\(path): cannot read the file.")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let dict = object as? [String: Any] else {
            throw TokenizerError("\(path): not a valid JSON object.")
        }
        return dict
    }

    // MARK: Lookup

    public func id(of token: String) -> Int32? { wholeWords[ArraySlice(token.unicodeScalars)] }

    public func token(of id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    // MARK: Encoding

    /// The word pieces of `text`, without [CLS] / [SEP].
    public func tokenize(_ text: String) -> [String] { pieceIDs(text).map { tokens[Int($0)] } }

    /// [CLS] pieces [SEP], the pieces cut so the whole is at most `maxLength` (default
    /// `self.maxLength`; values below 2 count as 2, so [CLS] and [SEP] are always there).
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int32] {
        let limit = max(2, maxLength ?? self.maxLength)
        var ids = pieceIDs(text, limit: limit - 2)
        ids.insert(clsID, at: 0)
        ids.append(sepID)
        return ids
    }

    /// Padded batch: ids (B·T, [PAD] = its id), mask (B·T) 1 for real tokens 0 for padding,
    /// T = longest encoded text.
    public func encodeBatch(_ texts: [String], maxLength: Int? = nil)
        -> (ids: [Int32], mask: [Float], batch: Int, length: Int) {
        let encoded = texts.map { encode($0, maxLength: maxLength) }
        let t = encoded.map(\.count).max() ?? 0
        var ids = [Int32](repeating: padID, count: texts.count * t)
        var mask = [Float](repeating: 0, count: texts.count * t)
        for (b, row) in encoded.enumerated() {
            for (j, id) in row.enumerated() {
                ids[b * t + j] = id
                mask[b * t + j] = 1
            }
        }
        return (ids, mask, texts.count, t)
    }

    /// Ids of the word pieces, stopping once `limit` are collected.
    private func pieceIDs(_ text: String, limit: Int = .max) -> [Int32] {
        var out: [Int32] = []
        let scalars = text.unicodeScalars
        var segmentStart = scalars.startIndex
        var i = scalars.startIndex
        // Special tokens are found in the raw text first, leftmost then longest (HF's
        // added-vocabulary pass); the text between them is normalised on its own.
        while i < scalars.endIndex && out.count < limit {
            if let special = specialMatch(scalars, at: i) {
                encodeSegment(scalars[segmentStart..<i], into: &out, limit: limit)
                if out.count < limit { out.append(specialIDs[special]!) }
                i = scalars.index(i, offsetBy: special.count)
                segmentStart = i
            } else {
                i = scalars.index(after: i)
            }
        }
        if out.count < limit { encodeSegment(scalars[segmentStart..<scalars.endIndex], into: &out, limit: limit) }
        return out
    }

    private func specialMatch(_ scalars: String.UnicodeScalarView, at i: String.UnicodeScalarView.Index) -> [Unicode.Scalar]? {
        for special in specials where scalars[i] == special[0] {
            var j = i
            var matched = true
            for s in special {
                guard j < scalars.endIndex, scalars[j] == s else { matched = false; break }
                j = scalars.index(after: j)
            }
            if matched { return special }
        }
        return nil
    }

    private func encodeSegment(_ segment: Substring.UnicodeScalarView, into out: inout [Int32], limit: Int) {
        guard !segment.isEmpty else { return }
        for word in basic.words(segment) {
            if out.count >= limit { return }
            wordPiece(word, into: &out, limit: limit)
        }
    }

    /// Greedy longest-match-first: the longest vocabulary entry that starts the word, then
    /// the longest "##" entry that continues it, and so on. A word with a piece that matches
    /// nothing, or longer than maxInputCharsPerWord scalars, becomes one [UNK].
    private func wordPiece(_ word: [Unicode.Scalar], into out: inout [Int32], limit: Int) {
        if word.count > maxInputCharsPerWord { out.append(unknownID); return }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            let table = start == 0 ? wholeWords : continuations
            while start < end {
                if let id = table[word[start..<end]] { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unknownID); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces.prefix(limit - out.count))
    }
}
