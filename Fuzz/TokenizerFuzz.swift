// libFuzzer target for the WordPiece tokenizer. Input: one flags byte, then a vocab.txt,
// then a 0x00 byte, then the text to encode. The vocabulary goes through the same line
// splitting as vocab.txt; missing required specials are appended so most inputs reach
// encoding. Encoding must never trap and must keep its promises: [CLS] … [SEP], at most
// maxLength ids, every id in the vocabulary, the same pieces as tokenize(_:).
import Foundation
import FuzzDriver
import InfFormats

private let required = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let flags = data[0]
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let split = rest.firstIndex(of: 0) ?? rest.count
    let vocabBytes = Data(rest[..<split])
    let text = String(decoding: rest[min(split + 1, rest.count)...], as: UTF8.self)

    var lines: [String]
    do {
        lines = try WordPieceTokenizer.vocabularyLines(vocabBytes, source: "vocab.txt")
    } catch let error as TokenizerError {
        precondition(error.message.hasPrefix("vocab.txt: "), "error does not name the file: \(error)")
        lines = []
    } catch {
        fatalError("vocabularyLines threw \(type(of: error)), not a TokenizerError")
    }
    for token in required where !lines.contains(token) { lines.append(token) }

    let maxLength = [2, 3, 8, 16, 64, 512][Int(flags >> 3) % 6]
    func make(_ vocabulary: [String]) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: vocabulary, lowercase: flags & 1 != 0,
                               stripAccents: flags & 2 != 0 ? nil : flags & 4 != 0,
                               handleChineseChars: flags & 0x80 == 0, maxLength: maxLength,
                               maxInputCharsPerWord: flags & 0x40 != 0 ? 5 : 100)
    }
    let tokenizer: WordPieceTokenizer
    do {
        tokenizer = try make(lines)
    } catch is TokenizerError {
        // Repeated tokens are rejected; keep the first of each so the text is still encoded.
        var seen: Set<[Unicode.Scalar]> = []
        guard let t = try? make(lines.filter { seen.insert(Array($0.unicodeScalars)).inserted }) else {
            fatalError("a vocabulary of unique lines with every special was rejected")
        }
        tokenizer = t
    } catch {
        fatalError("init threw \(type(of: error)), not a TokenizerError")
    }

    let cls = tokenizer.id(of: "[CLS]"), sep = tokenizer.id(of: "[SEP]")
    let ids = tokenizer.encode(text)
    precondition(ids.count >= 2 && ids.count <= maxLength, "encode returned \(ids.count) ids for maxLength \(maxLength)")
    precondition(ids.first == cls && ids.last == sep, "encode does not frame the ids with [CLS] … [SEP]")
    precondition(ids.allSatisfy { tokenizer.token(of: $0) != nil }, "encode returned an id outside the vocabulary")

    let pieces = tokenizer.tokenize(text)
    let full = tokenizer.encode(text, maxLength: Int.max)
    precondition(full.count == pieces.count + 2, "encode and tokenize disagree on the pieces")
    precondition(Array(full.prefix(ids.count - 1)) == Array(ids.dropLast()), "a shorter limit is not a prefix")

    let batch = tokenizer.encodeBatch([text, ""], maxLength: 8)
    precondition(batch.ids.count == 2 * batch.length && batch.mask.count == 2 * batch.length, "ragged batch")
    return 0
}

// libFuzzer takes over from here (Fuzz/Driver: SwiftPM gives every executable its own main).
exit(infbench_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv))
