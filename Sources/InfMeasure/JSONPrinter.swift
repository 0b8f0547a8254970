// The result as JSON, raw samples included: what Results/*.json stores and
// what `reproduce` and `compare` read back, with errors that name the file.
import Foundation
import InfFormats  // jsonSyntaxLocation, locateUndecodableNumber

extension SuiteResult {
    /// The schema version this build writes; must equal the `schemaVersion` default in
    /// Results.swift (a test checks it). Version 1 files (suite results of `run`, before
    /// kinds existed) are still read, as kind `run`.
    public static let currentSchemaVersion = 2
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
    guard var dict = object as? [String: Any], let version = dict["schemaVersion"] else {
        throw HarnessError("\(path) is not an infbench result file (it has no schemaVersion field).")
    }
    guard let number = version as? NSNumber, let found = Int(exactly: number.doubleValue) else {
        throw HarnessError("\(path) is not an infbench result file (its schemaVersion is not an integer).")
    }
    var data = data
    switch found {
    case SuiteResult.currentSchemaVersion:
        guard let kind = dict["kind"] as? String else {
            throw HarnessError("\(path) is not a valid infbench result file: field kind is missing.")
        }
        guard ResultKind(rawValue: kind) != nil else {
            throw HarnessError("\(path) has result kind \"\(kind)\", which this infbench does not know "
                               + "(known: \(ResultKind.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
    case 1:
        // Schema 1 had one readable kind, the suite result of `run`; its scenario files were never readable.
        guard dict["configuration"] != nil else {
            throw HarnessError("\(path) is a schema 1 scenario result (generate, cache, sparsity, …), written before "
                               + "every command shared one result format; re-run that command to get a readable file.")
        }
        dict["kind"] = ResultKind.run.rawValue
        data = try JSONSerialization.data(withJSONObject: dict)
    default:
        throw HarnessError("\(path) has result schema version \(found), "
                           + "but this infbench reads versions 1 and \(SuiteResult.currentSchemaVersion).")
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
