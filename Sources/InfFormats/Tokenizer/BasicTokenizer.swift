// The text half of the BERT tokenizer: Hugging Face's BertNormalizer (clean text, space out
// CJK ideographs, strip accents, lowercase) and BertPreTokenizer (split on whitespace, every
// punctuation mark its own word). WordPieceTokenizer.swift turns the words into vocabulary ids.
//
// Everything works on Unicode scalars, not Swift Characters: HF counts and matches `char`s
// (scalars), and a grapheme cluster such as "e" + U+0301 or a ZWJ emoji is several of them.
// The reference is the `tokenizers` Rust crate (what tokenizer.json files are made for), not the
// older Python BertTokenizer; where the two differ, the comment says so.
import Foundation

/// BertNormalizer + BertPreTokenizer. A value type with no state beyond its four switches.
struct BasicTokenizer: Sendable {
    /// Drop U+0000, U+FFFD and control/format/private-use scalars; map whitespace to " ".
    var cleanText = true
    /// Put spaces around CJK ideographs, so each becomes its own word.
    var handleChineseChars = true
    /// NFD, then drop non-spacing marks (é → e). HF: `strip_accents: null` follows `lowercase`.
    var stripAccents = true
    /// Unicode (full, context-free) lowercase mapping of every scalar.
    var lowercase = true

    /// The pre-tokenised words of `text`, each as its scalars.
    func words(_ text: Substring.UnicodeScalarView) -> [[Unicode.Scalar]] {
        Self.split(normalize(text))
    }

    // MARK: Normalisation (BertNormalizer: clean → CJK → strip accents → lowercase, in that order)

    func normalize(_ text: Substring.UnicodeScalarView) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var allASCII = true
        for s in text {
            if cleanText {
                // Removal comes first, so a control that is also White_Space (U+000B, U+0085)
                // disappears instead of becoming a space — as in HF.
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
                if Self.isWhitespace(s) { out.append(" "); continue }
            }
            if handleChineseChars && Self.isChineseChar(s) {
                out.append(" "); out.append(s); out.append(" ")
                allASCII = false
                continue
            }
            if !s.isASCII { allASCII = false }
            out.append(s)
        }
        if allASCII {  // the common case: NFD and lowercase mapping are trivial
            if lowercase {
                for i in out.indices where out[i].value >= 0x41 && out[i].value <= 0x5A {
                    out[i] = Unicode.Scalar(out[i].value + 0x20)!
                }
            }
            return out
        }
        if stripAccents {
            out = Self.nfd(out).filter { !Self.isNonspacingMark($0) }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(out.count)
            for s in out { Self.appendLowercase(s, to: &lowered) }
            out = lowered
        }
        return out
    }

    /// Canonical decomposition. U+11938 (Dives Akuru vowel sign O) is left whole: the
    /// `unicode-normalization` tables HF links predate its decomposition.
    static func nfd(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for (i, segment) in scalars.split(separator: "\u{11938}", omittingEmptySubsequences: false).enumerated() {
            if i > 0 { out.append("\u{11938}") }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: segment)
            out.append(contentsOf: String(view).decomposedStringWithCanonicalMapping.unicodeScalars)
        }
        return out
    }

    // MARK: Pre-tokenisation (BertPreTokenizer)

    /// Splits on whitespace (dropped) and punctuation (kept, one scalar per word).
    static func split(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in scalars {
            if isWhitespace(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if isPunctuation(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    // MARK: Character classes
    //
    // HF's Rust crate takes general categories from the `unicode_categories` crate, whose tables
    // are Unicode 9-era, while Swift's are current. The few scalars whose category changed or that
    // were assigned since are listed below so the two agree scalar for scalar (checked against
    // tokenizers 0.23.3 over all 1,112,064 scalars).

    /// \t \n \r count as whitespace; otherwise Unicode White_Space (Rust `char::is_whitespace`).
    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x20: return true   // \t \n \v \f \r and space
        case 0..<0x80: return false
        default: return s.properties.isWhitespace
        }
    }

    /// Categories Cc, Cf, Co (not Cn: unassigned scalars such as U+FFFF are kept), except \t \n \r.
    @inline(__always)
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x09 || v == 0x0A || v == 0x0D { return false }
        if v < 0x20 || v == 0x7F { return true }
        if v < 0x80 { return false }
        if hfSeesAsUnassigned(s) { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse: return true
        default: return false
        }
    }

    /// ASCII punctuation (33–47, 58–64, 91–96, 123–126, including symbols such as $ + < = > ^ ` | ~)
    /// or any Unicode P* category.
    @inline(__always)
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        if v == 0x166D || v == 0x111C9 { return true }  // Po in Unicode 8; So / Mn today
        if hfSeesAsUnassigned(s) { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK ideograph blocks BERT spaces out. The `tokenizers` crate uses 0x2B920 where Google's
    /// BERT (and the Python BertTokenizer) use 0x2B820; we follow `tokenizers`.
    @inline(__always)
    static func isChineseChar(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isNonspacingMark(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x300 { return false }
        switch s.value {
        case 0x1734, 0x1171E: return true                            // Mn in Unicode 8; Mc today
        case 0x1885, 0x1886, 0xA9BD, 0x111C9: return false           // Mo, Mc, Po in Unicode 8
        default: if hfSeesAsUnassigned(s) { return false }
        }
        return s.properties.generalCategory == .nonspacingMark
    }

    /// Appends the full lowercase mapping of `s` (İ → i + U+0307), without context (no final sigma).
    @inline(__always)
    static func appendLowercase(_ s: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        if s.isASCII {
            out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 0x20)! : s)
            return
        }
        let mapped = s.properties.lowercaseMapping
        if mapped.unicodeScalars.count == 1 && mapped.unicodeScalars.first == s {
            out.append(s)
        } else {
            out.append(contentsOf: mapped.unicodeScalars)
        }
    }

    // MARK: Unicode-version differences from HF

    /// The `unicode_categories` tables behind HF's is_control / is_punctuation / Mn test are
    /// Unicode 8.0: a scalar assigned later is unassigned (Cn) there — neither control,
    /// punctuation nor mark. Two scalars changed category since (handled where they matter).
    @inline(__always)
    static func hfSeesAsUnassigned(_ s: Unicode.Scalar) -> Bool {
        guard let age = s.properties.age else { return true }
        return age.major > 8 || (age.major == 8 && age.minor > 0)
    }
}
