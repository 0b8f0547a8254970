// Checks the BERT WordPiece tokenizer: normalisation, pre-tokenisation and greedy WordPiece on a
// tiny hand-made vocabulary (always run), every bad vocabulary or tokenizer file as an error that
// names the file, and — when Models/all-MiniLM-L6-v2 is fetched — ids identical to Hugging Face
// `tokenizers` for every string in Tests/InfModelsTests/Fixtures/minilm/reference.json (made by make_reference.py).
import Foundation
import XCTest
@testable import InfFormats

final class TokenizerTests: XCTestCase {

    // MARK: Helpers

    /// Specials first, so [PAD] = 0, [UNK] = 1, [CLS] = 2, [SEP] = 3, [MASK] = 4.
    private static let tinyVocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        "hello", "world", "Hello", "cafe", "café", "Cafe", "naive",
        "un", "una", "##aff", "##ffable", "##able", "##s",
        "a", "b", "##a", "##b", "$", ",", "!", ".", "[",
        "中", "国", "中国", "e", "##e", "##\u{301}",
    ]

    private func tiny(lowercase: Bool = true, stripAccents: Bool? = nil, handleChineseChars: Bool = true,
                      maxLength: Int = 512, maxInputCharsPerWord: Int = 100) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: Self.tinyVocabulary, lowercase: lowercase, stripAccents: stripAccents,
                               handleChineseChars: handleChineseChars, maxLength: maxLength,
                               maxInputCharsPerWord: maxInputCharsPerWord)
    }

    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("infbench-tokenizer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
    }

    private var tinyVocabFile: String { Self.tinyVocabulary.joined(separator: "\n") + "\n" }

    /// Asserts that loading `directory` throws a TokenizerError: one sentence naming `file`.
    private func assertLoadFails(naming file: String, containing words: String? = nil,
                                 file testFile: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WordPieceTokenizer(directory: directory), file: testFile, line: line) { error in
            guard let e = error as? TokenizerError else {
                return XCTFail("not a TokenizerError: \(error)", file: testFile, line: line)
            }
            XCTAssertTrue(e.message.contains(file), "\"\(e.message)\" does not name \(file)", file: testFile, line: line)
            XCTAssertTrue(e.message.hasSuffix("."), "\"\(e.message)\" is not a sentence", file: testFile, line: line)
            XCTAssertEqual(e.description, e.message, file: testFile, line: line)
            if let words {
                XCTAssertTrue(e.message.contains(words), "\"\(e.message)\" does not say \(words)", file: testFile, line: line)
            }
        }
    }

    private func assertVocabularyFails(_ vocabulary: [String], containing words: String,
                                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: vocabulary), file: file, line: line) { error in
            let message = (error as? TokenizerError)?.message ?? "not a TokenizerError: \(error)"
            XCTAssertTrue(message.contains("vocabulary") && message.contains(words),
                          "\"\(message)\" does not say \(words)", file: file, line: line)
        }
    }

    // MARK: Normalisation and pre-tokenisation

    func testLowercaseAndAccentStripping() throws {
        // strip_accents nil follows lowercase (HF): accents go when lowercasing …
        XCTAssertEqual(try tiny().tokenize("HeLLo CAFÉ Naïve"), ["hello", "cafe", "naive"])
        // … and stay when not.
        XCTAssertEqual(try tiny(lowercase: false).tokenize("Hello café"), ["Hello", "café"])
        // Explicit settings override: lowercase but keep accents; strip but keep case.
        XCTAssertEqual(try tiny(stripAccents: false).tokenize("CAFÉ"), ["café"])
        XCTAssertEqual(try tiny(lowercase: false, stripAccents: true).tokenize("Café"), ["Cafe"])
        // A decomposed é (e + U+0301) is stripped just like the precomposed one.
        XCTAssertEqual(try tiny().tokenize("cafe\u{301}"), ["cafe"])
    }

    func testVocabularyLookupIsByScalarsNotCanonicalEquivalence() throws {
        // With accents kept, "cafe" + U+0301 is not the vocabulary's precomposed "café" (HF compares
        // bytes; Swift's String == would call them equal): it is word-pieced instead.
        XCTAssertEqual(try tiny(stripAccents: false).tokenize("cafe\u{301}"), ["cafe", "##\u{301}"])
        XCTAssertNil(try tiny().id(of: "cafe\u{301}"))
        XCTAssertEqual(try tiny().id(of: "café"), 9)
        // Word pieces count scalars: "e\u{301}e" is 2 Characters but e + ##\u{301} + ##e.
        XCTAssertEqual(try tiny(stripAccents: false).tokenize("e\u{301}e"), ["e", "##\u{301}", "##e"])
    }

    func testPunctuationSplitsIntoSingleTokens() throws {
        let t = try tiny()
        XCTAssertEqual(t.tokenize("hello,world!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(t.tokenize("a$b"), ["a", "$", "b"])          // ASCII symbols count as punctuation
        XCTAssertEqual(t.tokenize("a...b"), ["a", ".", ".", ".", "b"])
        XCTAssertEqual(t.tokenize("a¿b"), ["a", "[UNK]", "b"])      // Unicode Po
        XCTAssertEqual(t.tokenize("a€b"), ["[UNK]"])                // Sc outside ASCII: part of the word
    }

    func testChineseCharactersAreSpacedOut() throws {
        XCTAssertEqual(try tiny().tokenize("中国"), ["中", "国"])
        XCTAssertEqual(try tiny().tokenize("a中b"), ["a", "中", "b"])
        XCTAssertEqual(try tiny(handleChineseChars: false).tokenize("中国"), ["中国"])
        // U+2B820…2B91F: CJK for Google BERT but not for `tokenizers` (which we follow).
        XCTAssertEqual(try tiny().tokenize("a\u{2B820}b"), ["[UNK]"])
        XCTAssertEqual(try tiny().tokenize("a\u{2B920}b"), ["a", "[UNK]", "b"])
    }

    func testControlCharactersAreDroppedAndWhitespaceSplits() throws {
        let t = try tiny()
        XCTAssertEqual(t.tokenize("a\u{0}\u{7}\u{200B}\u{FFFD}\u{E000}\u{AD}b"), ["a", "##b"])
        // Controls that are also White_Space are removed, not turned into spaces.
        XCTAssertEqual(t.tokenize("a\u{0B}b a\u{0C}b a\u{85}b"), ["a", "##b", "a", "##b", "a", "##b"])
        XCTAssertEqual(t.tokenize("a\tb\nb\r\na\u{A0}b\u{3000}a\u{2028}b  \u{2003}a"),
                       ["a", "b", "b", "a", "b", "a", "b", "a"])
        // Unassigned scalars (U+FFFF) are kept, and match nothing.
        XCTAssertEqual(t.tokenize("a\u{FFFF}"), ["[UNK]"])
        XCTAssertEqual(t.tokenize(" \t\n\u{0}\u{1}"), [])
    }

    // MARK: WordPiece

    func testGreedyLongestMatchFirst() throws {
        let t = try tiny()
        // Longest first piece is "una" (not "un"), then the longest "##" continuation.
        XCTAssertEqual(t.tokenize("unaffable"), ["una", "##ffable"])
        XCTAssertEqual(t.tokenize("unaffables"), ["una", "##ffable", "##s"])
        XCTAssertEqual(t.tokenize("aab"), ["a", "##a", "##b"])
        XCTAssertEqual(t.encode("hello worlds"), [2, 5, 6, 17, 3])
    }

    func testUnmatchableWordIsOneUnknown() throws {
        let t = try tiny()
        // Any piece that matches nothing turns the whole word into one [UNK], not a partial split.
        XCTAssertEqual(t.tokenize("unaffablez"), ["[UNK]"])
        XCTAssertEqual(t.tokenize("zzz hello"), ["[UNK]", "hello"])
        XCTAssertEqual(t.encode("zzz"), [2, 1, 3])
    }

    func testWordsLongerThanTheLimitAreUnknown() throws {
        let t = try tiny(maxInputCharsPerWord: 5)
        XCTAssertEqual(t.tokenize("aaaaa"), ["a", "##a", "##a", "##a", "##a"])
        XCTAssertEqual(t.tokenize("aaaaaa"), ["[UNK]"])
        // The limit counts scalars, not Characters: 3 Characters here are 6 scalars.
        XCTAssertEqual(try tiny(stripAccents: false, maxInputCharsPerWord: 5).tokenize("e\u{301}e\u{301}e\u{301}"),
                       ["[UNK]"])
        XCTAssertEqual(try tiny(stripAccents: false, maxInputCharsPerWord: 6).tokenize("e\u{301}e\u{301}e\u{301}"),
                       ["e", "##\u{301}", "##e", "##\u{301}", "##e", "##\u{301}"])
    }

    func testSpecialTokensWrittenInTextAreMatchedLiterally() throws {
        let t = try tiny()
        XCTAssertEqual(t.encode("hello [SEP] world"), [2, 5, 3, 6, 3])
        XCTAssertEqual(t.encode("a[MASK]b"), [2, 18, 4, 19, 3])
        // Matched before lowercasing, so "[sep]" is ordinary text.
        XCTAssertEqual(t.tokenize("[sep]"), ["[", "[UNK]", "[UNK]"])
    }

    // MARK: Encoding

    func testEncodeAddsClsAndSepAndTruncationKeepsSepLast() throws {
        let t = try tiny(maxLength: 6)
        XCTAssertEqual(t.maxLength, 6)
        XCTAssertEqual(t.encode(""), [2, 3])
        XCTAssertEqual(t.encode("hello world"), [2, 5, 6, 3])
        let long = "hello world a b hello world"
        XCTAssertEqual(t.encode(long), [2, 5, 6, 18, 19, 3])                 // default: self.maxLength
        XCTAssertEqual(t.encode(long, maxLength: 4), [2, 5, 6, 3])
        XCTAssertEqual(t.encode("unaffables", maxLength: 4), [2, 13, 15, 3])  // cut inside a word
        XCTAssertEqual(t.encode(long, maxLength: 100).count, 8)
        XCTAssertEqual(t.encode(long, maxLength: 1), [2, 3])                  // below 2 counts as 2
        XCTAssertEqual(t.encode("hello [SEP] world", maxLength: 4), [2, 5, 3, 3])
    }

    func testBatchIsPaddedWithPadAndMasked() throws {
        let t = try tiny()
        let batch = t.encodeBatch(["hello world", "", "hello"])
        XCTAssertEqual(batch.batch, 3)
        XCTAssertEqual(batch.length, 4)
        XCTAssertEqual(batch.ids, [2, 5, 6, 3,
                                   2, 3, 0, 0,
                                   2, 5, 3, 0])
        XCTAssertEqual(batch.mask, [1, 1, 1, 1,
                                    1, 1, 0, 0,
                                    1, 1, 1, 0])
        let cut = t.encodeBatch(["hello world a b", "a"], maxLength: 3)
        XCTAssertEqual(cut.length, 3)
        XCTAssertEqual(cut.ids, [2, 5, 3, 2, 18, 3])
        let empty = t.encodeBatch([])
        XCTAssertEqual(empty.batch, 0)
        XCTAssertEqual(empty.length, 0)
        XCTAssertTrue(empty.ids.isEmpty && empty.mask.isEmpty)
    }

    func testIdAndTokenLookup() throws {
        let t = try tiny()
        XCTAssertEqual(t.vocabularySize, Self.tinyVocabulary.count)
        XCTAssertEqual(t.id(of: "hello"), 5)
        XCTAssertEqual(t.id(of: "##aff"), 14)
        XCTAssertNil(t.id(of: "aff"))
        XCTAssertEqual(t.token(of: 14), "##aff")
        XCTAssertNil(t.token(of: -1))
        XCTAssertNil(t.token(of: Int32(Self.tinyVocabulary.count)))
    }

    func testNeverCrashesOnOddText() throws {
        let t = try tiny(maxLength: 64)
        let odd = [
            "", " ", "   \t\n", "\u{0}\u{1}\u{2}\u{7F}\u{9F}", "\u{FFFF}\u{FFFE}\u{10FFFF}", "\u{301}\u{302}",
            String(repeating: "a", count: 10_000), String(repeating: "中", count: 300),
            String(repeating: "e\u{301}", count: 200), "👩‍👩‍👧 🇫🇷 👍🏽", "مرحبا بالعالم שָׁלוֹם",
            "\u{202E}\u{200F}rtl\u{200E}", String(repeating: "[SEP]", count: 100), "[", "[SE", "##", "İ ß ǅ ﬁ",
        ]
        for text in odd {
            let ids = t.encode(text)
            XCTAssertEqual(ids.first, 2, text)
            XCTAssertEqual(ids.last, 3, text)
            XCTAssertLessThanOrEqual(ids.count, 64, text)
            XCTAssertTrue(ids.allSatisfy { t.token(of: $0) != nil }, text)
        }
        XCTAssertEqual(t.encode(String(repeating: "a ", count: 5_000)).count, 64)
    }

    // MARK: Bad vocabularies and files

    func testBadVocabularyListsThrow() {
        assertVocabularyFails([], containing: "empty")
        for special in ["[CLS]", "[SEP]", "[PAD]", "[UNK]"] {
            assertVocabularyFails(Self.tinyVocabulary.filter { $0 != special }, containing: special)
        }
        // HF would keep the last id of a repeated token; we refuse the vocabulary instead.
        assertVocabularyFails(Self.tinyVocabulary + ["hello"], containing: "\"hello\" appears twice")
        // "café" and "cafe\u{301}" are different tokens (different scalars), not duplicates.
        XCTAssertNoThrow(try WordPieceTokenizer(vocabulary: Self.tinyVocabulary + ["cafe\u{301}"]))
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: Self.tinyVocabulary, maxLength: 1))
    }

    /// vocab.txt's line splitting on its own (what `make fuzz` drives without files).
    func testVocabularyLinesFromBytes() throws {
        XCTAssertEqual(try WordPieceTokenizer.vocabularyLines(Data("a\r\nb \n\n##c\n".utf8), source: "v"), ["a", "b", "", "##c"])
        XCTAssertEqual(try WordPieceTokenizer.vocabularyLines(Data("x".utf8), source: "v"), ["x"])
        XCTAssertEqual(try WordPieceTokenizer.vocabularyLines(Data(), source: "v"), [])
        XCTAssertThrowsError(try WordPieceTokenizer.vocabularyLines(Data([0x61, 0xFF]), source: "v.txt")) { error in
            XCTAssertEqual((error as? TokenizerError)?.message, "v.txt: the vocabulary is not valid UTF-8.")
        }
    }

    func testMissingVocabFileThrows() {
        assertLoadFails(naming: "vocab.txt", containing: "missing")
    }

    func testBadVocabFilesThrow() throws {
        try write("vocab.txt", "")
        assertLoadFails(naming: "vocab.txt", containing: "empty")
        try Data([0x5B, 0x50, 0x41, 0x44, 0x5D, 0x0A, 0xFF, 0xFE, 0x0A])
            .write(to: URL(fileURLWithPath: directory).appendingPathComponent("vocab.txt"))
        assertLoadFails(naming: "vocab.txt", containing: "UTF-8")
        for special in ["[CLS]", "[SEP]", "[PAD]", "[UNK]"] {
            try write("vocab.txt", Self.tinyVocabulary.filter { $0 != special }.joined(separator: "\n"))
            assertLoadFails(naming: "vocab.txt", containing: special)
        }
        try write("vocab.txt", tinyVocabFile + "hello\n")
        assertLoadFails(naming: "vocab.txt", containing: "appears twice")
    }

    func testBadJSONFilesThrow() throws {
        try write("vocab.txt", tinyVocabFile)
        try write("tokenizer.json", "{\"model\": ")
        assertLoadFails(naming: "tokenizer.json", containing: "JSON")
        try write("tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}")
        assertLoadFails(naming: "tokenizer.json", containing: "WordPiece")
        try write("tokenizer.json", "{\"normalizer\": {\"type\": \"NFC\"}, \"model\": {\"type\": \"WordPiece\"}}")
        assertLoadFails(naming: "tokenizer.json", containing: "BertNormalizer")
        try FileManager.default.removeItem(atPath: directory + "/tokenizer.json")
        try write("tokenizer_config.json", "[1, 2")
        assertLoadFails(naming: "tokenizer_config.json", containing: "JSON")
    }

    func testDirectorySettings() throws {
        // CRLF line ends; no JSON files → lowercase, 512.
        try write("vocab.txt", Self.tinyVocabulary.joined(separator: "\r\n") + "\r\n")
        var t = try WordPieceTokenizer(directory: directory)
        XCTAssertEqual(t.vocabularySize, Self.tinyVocabulary.count)
        XCTAssertEqual(t.maxLength, 512)
        XCTAssertEqual(t.tokenize("Hello Café"), ["hello", "cafe"])

        // tokenizer_config.json alone: do_lower_case false (accents then kept too), model_max_length.
        try write("tokenizer_config.json", "{\"do_lower_case\": false, \"model_max_length\": 1000000000000000019884624838656}")
        t = try WordPieceTokenizer(directory: directory)
        XCTAssertEqual(t.tokenize("Hello café Café"), ["Hello", "café", "[UNK]"])
        XCTAssertEqual(t.maxLength, 512)
        try write("tokenizer_config.json", "{\"model_max_length\": 128}")
        try write("sentence_bert_config.json", "{\"max_seq_length\": 8}")
        XCTAssertEqual(try WordPieceTokenizer(directory: directory).maxLength, 8)
        try write("sentence_bert_config.json", "{\"max_seq_length\": 256}")
        XCTAssertEqual(try WordPieceTokenizer(directory: directory).maxLength, 128)

        // tokenizer.json wins over tokenizer_config.json for the normaliser and WordPiece settings.
        try write("tokenizer.json", """
            {"normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": false,
                            "strip_accents": true, "lowercase": false},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                       "max_input_chars_per_word": 4, "vocab": {}},
             "added_tokens": [{"id": 3, "content": "[SEP]"}]}
            """)
        t = try WordPieceTokenizer(directory: directory)
        XCTAssertEqual(t.tokenize("Café 中国 aaaaa aaaa"), ["Cafe", "中国", "[UNK]", "a", "##a", "##a", "##a"])

        // An added token whose id disagrees with vocab.txt is an error naming tokenizer.json.
        try write("tokenizer.json", """
            {"model": {"type": "WordPiece"}, "added_tokens": [{"id": 7, "content": "[SEP]"}]}
            """)
        assertLoadFails(naming: "tokenizer.json", containing: "[SEP]")
    }

    // MARK: Against Hugging Face `tokenizers` (Fixtures/minilm/reference.json)

    private struct Reference: Decodable {
        struct Tricky: Decodable { let text: String; let ids: [Int32]; let tokens: [String] }
        let max_length: Int
        let batch_padded_to: Int
        let sentences: [String]
        let ids: [[Int32]]
        let tokens: [[String]]
        let tricky: [Tricky]
    }

    private static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func miniLM() throws -> (WordPieceTokenizer, Reference) {
        let model = Self.repoRoot.appendingPathComponent("Models/all-MiniLM-L6-v2")
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("vocab.txt").path) else {
            throw XCTSkip("Models/all-MiniLM-L6-v2 not fetched (make models): \(model.path)/vocab.txt is missing.")
        }
        let fixture = Self.repoRoot.appendingPathComponent("Tests/InfModelsTests/Fixtures/minilm/reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixture))
        return (try WordPieceTokenizer(directory: model.path), reference)
    }

    func testMiniLMSentencesMatchHuggingFace() throws {
        let (t, ref) = try miniLM()
        XCTAssertEqual(t.maxLength, ref.max_length)
        XCTAssertEqual(t.vocabularySize, 30522)
        XCTAssertEqual(ref.sentences.count, ref.ids.count)
        for (i, sentence) in ref.sentences.enumerated() {
            XCTAssertEqual(t.encode(sentence), ref.ids[i], "sentence \(i): \(sentence.debugDescription)")
            XCTAssertEqual(["[CLS]"] + t.tokenize(sentence).prefix(ref.max_length - 2) + ["[SEP]"], ref.tokens[i],
                           "sentence \(i)")
        }
        let batch = t.encodeBatch(ref.sentences)
        XCTAssertEqual(batch.length, ref.batch_padded_to)
        XCTAssertEqual(batch.batch, ref.sentences.count)
        for (b, row) in ref.ids.enumerated() {
            let start = b * batch.length
            XCTAssertEqual(Array(batch.ids[start..<start + row.count]), row)
            XCTAssertEqual(batch.mask[start..<start + batch.length].reduce(0, +), Float(row.count))
        }
    }

    func testMiniLMTrickyStringsMatchHuggingFace() throws {
        let (t, ref) = try miniLM()
        XCTAssertGreaterThanOrEqual(ref.tricky.count, 30)
        for c in ref.tricky {
            XCTAssertEqual(t.encode(c.text), c.ids, "\(c.text.debugDescription): \(t.tokenize(c.text)) vs \(c.tokens)")
        }
    }
}
