// Which charts a result file gets: reads any infbench result JSON, tells the
// kinds apart by their fields, and lists the charts that apply to it.
import Foundation
import InfModels

public enum ChartableResult {
    /// `infbench run`: latency vs throughput, and speed-up bars when techniques were measured.
    case suite(SuiteResult)
    /// `infbench generate`: per-token latency vs position, with and without the KV cache.
    case generation(GenerationResult)
    /// `infbench sparsity`: dense vs CSR time against sparsity.
    case sparsity(SparsityResult)

    /// The charts that apply, each with a short name for its file ("speedup", …) and its SVG.
    public var charts: [(name: String, svg: String)] {
        switch self {
        case .suite(let r):
            var list = [(name: "latency-throughput", svg: latencyThroughputChart(r))]
            if r.rows.contains(where: { $0.speedup != nil }) { list.append((name: "speedup", svg: speedupChart(r))) }
            return list
        case .generation(let r):
            return [(name: "kv-cache", svg: kvCacheChart(r))]
        case .sparsity(let r):
            return [(name: "sparsity", svg: sparsityChart(r))]
        }
    }

    /// Decodes an infbench result of a kind that has charts; nil for one that has
    /// none (cache, serve, lengths, softmax). Fails with one sentence naming
    /// `path` when the file is not JSON, not an infbench result, or malformed.
    public static func decode(from data: Data, path: String) throws -> ChartableResult? {
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw HarnessError("\(path) is not a JSON file.")
        }
        guard let dict = object as? [String: Any], dict["environment"] != nil else {
            throw HarnessError("\(path) is not an infbench result file (it has no environment field).")
        }
        if dict["configuration"] != nil {
            return .suite(try decodeSuiteResult(from: data, path: path))
        }
        if dict["variants"] != nil && dict["promptLength"] != nil {
            return .generation(try decodeScenario(GenerationResult.self, kind: "generate", data: data, path: path))
        }
        if dict["rows"] != nil && Set(dict.keys).isSubset(of: ["environment", "model", "threads", "rows"]) {
            return .sparsity(try decodeScenario(SparsityResult.self, kind: "sparsity", data: data, path: path))
        }
        return nil
    }
}

private func decodeScenario<T: Decodable>(_ type: T.Type, kind: String, data: Data, path: String) throws -> T {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = nonFiniteStrategy.decode
    do {
        return try decoder.decode(type, from: data)
    } catch let error as DecodingError {
        throw HarnessError("\(path) is not a valid infbench \(kind) result: \(describe(error, data: data, type: T.self)).")
    }
}
