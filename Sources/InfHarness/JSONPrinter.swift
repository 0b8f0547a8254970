// The result as JSON, raw samples included: what Results/*.json stores and
// what `reproduce` and `compare` read back, with errors that name the file.
import Foundation
import InfModels

extension SuiteResult {
    /// The schema version this build writes and reads; must equal the
    /// `schemaVersion` default in Results.swift (a test checks it).
    public static let currentSchemaVersion = 1
}

public struct JSONPrinter: ResultPrinter {
    public init() {}

    public func render(_ result: SuiteResult) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = nonFiniteStrategy.encode
        // With non-finite doubles mapped to strings, these plain Codable
        // structs have no value the encoder can reject: failure is a bug.
        let data = try! encoder.encode(result)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// NaN and ±inf are not JSON numbers; a ratio of a zero median must still round-trip.
let nonFiniteStrategy = (
    encode: JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"),
    decode: JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
)

/// Reads a result written by `JSONPrinter`. Fails with one sentence naming
/// `path`: not JSON, not an infbench result, or a schema version this build does not read.
public func decodeSuiteResult(from data: Data, path: String) throws -> SuiteResult {
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: data)
    } catch {
        throw HarnessError("\(path) is not a JSON file\(jsonSyntaxLocation(in: data, error: error).map { " (invalid JSON \($0))" } ?? "").")
    }
    if let dict = object as? [String: Any], dict["environment"] != nil, dict["configuration"] == nil {
        throw HarnessError("\(path) is the result of a scenario command (generate, cache, sparsity, …), "
                           + "not a suite result from `infbench run`.")
    }
    guard let dict = object as? [String: Any], let version = dict["schemaVersion"] else {
        throw HarnessError("\(path) is not an infbench result file (it has no schemaVersion field).")
    }
    guard let number = version as? NSNumber, let found = Int(exactly: number.doubleValue) else {
        throw HarnessError("\(path) is not an infbench result file (its schemaVersion is not an integer).")
    }
    guard found == SuiteResult.currentSchemaVersion else {
        throw HarnessError("\(path) has result schema version \(found), "
                           + "but this infbench reads version \(SuiteResult.currentSchemaVersion).")
    }
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = nonFiniteStrategy.decode
    let result: SuiteResult
    do {
        result = try decoder.decode(SuiteResult.self, from: data)
    } catch let error as DecodingError {
        throw HarnessError("\(path) is not a valid infbench result file: \(describe(error, data: data, type: SuiteResult.self)).")
    }
    // What a reader replays or prints gets the checks `run` gives the same values.
    try result.configuration.validate(source: .file(path))
    try result.validateRows(path: path)
    return result
}

/// As below; a path-less "not valid JSON" on valid JSON is a number that does not fit its
/// field (Foundation's decoder on Linux says no more), which is found and named.
func describe<T: Decodable>(_ error: DecodingError, data: Data, type: T.Type) -> String {
    if case let .dataCorrupted(context) = error, context.codingPath.isEmpty {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = nonFiniteStrategy.decode
        let bad = locateUndecodableNumber(in: data) { d in
            do { _ = try decoder.decode(T.self, from: d); return false } catch let DecodingError.dataCorrupted(c) {
                return c.codingPath.isEmpty
            } catch { return false }
        }
        if let bad { return "field \(bad.field) is \(bad.value), which does not fit it (a whole number is expected there, or the number is out of range)" }
    }
    return describe(error)
}

/// "field rows[2].stats.median is missing" and the like.
func describe(_ error: DecodingError) -> String {
    func name(_ path: [CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text.isEmpty ? "the top level" : text
    }
    switch error {
    case let .keyNotFound(key, context):
        return "field \(name(context.codingPath + [key])) is missing"
    case let .valueNotFound(_, context):
        return "field \(name(context.codingPath)) is null"
    case let .typeMismatch(type, context):
        return "field \(name(context.codingPath)) is not of type \(type)"
    case let .dataCorrupted(context):
        return "field \(name(context.codingPath)) is malformed"
    @unknown default:
        return "it does not match the result schema"
    }
}
