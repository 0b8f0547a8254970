// Naming the field behind a JSON failure. Foundation's JSONDecoder on Linux
// reports a number that does not fit its field (256.5 or 1e30 where an Int
// belongs) as "The given data was not valid JSON", with no coding path, and
// JSONSerialization reports a syntax error only as a character offset. These
// helpers turn both into the field a person has to fix.
import Foundation

/// One step of a path into a JSON tree.
private enum Step { case key(String), index(Int) }

private func pathText(_ steps: [Step]) -> String {
    var text = ""
    for s in steps {
        switch s {
        case .key(let k): text += (text.isEmpty ? "" : ".") + k
        case .index(let i): text += "[\(i)]"
        }
    }
    return text.isEmpty ? "the top level" : text
}

/// For data that is valid JSON but that a `JSONDecoder` refuses as "not valid JSON":
/// the first number the decoder cannot place (a fraction or an out-of-range value
/// where an integer belongs), as (field path, number as written). `fails` decodes
/// the data and says whether it fails in that path-less way. Found by bisection over
/// the candidate numbers, replacing them with 1: about log₂(n) decodes.
public func locateUndecodableNumber(in data: Data, fails: (Data) -> Bool) -> (field: String, value: String)? {
    guard let tree = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
    var candidates: [(path: [Step], value: NSNumber)] = []
    func collect(_ node: Any, _ path: [Step]) {
        if let dict = node as? [String: Any] {
            for key in dict.keys.sorted() { collect(dict[key]!, path + [.key(key)]) }
        } else if let array = node as? [Any] {
            for (i, v) in array.enumerated() { collect(v, path + [.index(i)]) }
        } else if let number = node as? NSNumber, !(node is String) {
            let d = number.doubleValue
            if Int(exactly: d) == nil || abs(d) >= 9.0e15 { candidates.append((path, number)) }
        }
    }
    collect(tree, [])
    guard !candidates.isEmpty else { return nil }

    func replacing(_ node: Any, at path: ArraySlice<Step>) -> Any {
        guard let first = path.first else { return NSNumber(value: 1) }
        switch first {
        case .key(let k):
            var dict = node as? [String: Any] ?? [:]
            dict[k] = replacing(dict[k] as Any, at: path.dropFirst())
            return dict
        case .index(let i):
            var array = node as? [Any] ?? []
            if i < array.count { array[i] = replacing(array[i], at: path.dropFirst()) }
            return array
        }
    }
    /// Fails with the first `keep` candidates as written and the rest replaced?
    func failsKeeping(_ keep: Int) -> Bool {
        var t = tree
        for c in candidates[keep...] { t = replacing(t, at: c.path[...]) }
        guard let d = try? JSONSerialization.data(withJSONObject: t, options: [.fragmentsAllowed]) else { return true }
        return fails(d)
    }
    guard !failsKeeping(0) else { return nil } // something other than a number is wrong
    var (lo, hi) = (0, candidates.count)       // lo decodes, hi fails
    while hi - lo > 1 {
        let mid = (lo + hi) / 2
        if failsKeeping(mid) { hi = mid } else { lo = mid }
    }
    let culprit = candidates[hi - 1]
    return (pathText(culprit.path), "\(culprit.value)")
}

/// "near line 3, column 14, after field \"median\"" for a JSONSerialization syntax
/// error, from the character offset its message gives; nil when it gives none.
public func jsonSyntaxLocation(in data: Data, error: Error) -> String? {
    let text = "\(error)"
    guard let range = text.range(of: "around character ") ?? text.range(of: "around character: ") else { return nil }
    let digits = text[range.upperBound...].prefix { $0.isNumber }
    guard let offset = Int(digits), offset > 0 else { return nil } // at the first byte: nothing to point at
    let bytes = [UInt8](data.prefix(offset + 1))
    let line = bytes.filter { $0 == UInt8(ascii: "\n") }.count + 1
    let column = offset - (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
    var place = "near line \(line), column \(column)"
    // The last `"key":` before the offset names the field being read.
    var i = min(offset, bytes.count - 1)
    while i > 0 {
        if bytes[i] == UInt8(ascii: ":") {
            var j = i - 1
            while j >= 0, bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09 { j -= 1 }
            if j > 0, bytes[j] == UInt8(ascii: "\"") {
                var k = j - 1
                while k >= 0, bytes[k] != UInt8(ascii: "\"") { k -= 1 }
                if k >= 0, j - k - 1 <= 80 {
                    place += ", in field \"\(String(decoding: bytes[(k + 1)..<j], as: UTF8.self))\""
                }
            }
            break
        }
        i -= 1
    }
    return place
}
