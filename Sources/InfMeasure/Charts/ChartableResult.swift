// Which charts a result file gets: every infbench result is one envelope
// (SuiteResult); its kind and rows say which charts apply.
import Foundation

public enum ChartableResult {
    /// The charts that apply to `result`, each with a short name for its file ("speedup", …) and its SVG.
    public static func charts(for result: SuiteResult) -> [(name: String, svg: String)] {
        var list: [(name: String, svg: String)] = []
        switch result.kind {
        case .run, .distill:
            list.append((name: "latency-throughput", svg: latencyThroughputChart(result)))
        case .sparsity:
            list.append((name: "sparsity", svg: sparsityChart(result)))
        default:
            break
        }
        if result.rows.contains(where: { $0.positions != nil }) { list.append((name: "kv-cache", svg: kvCacheChart(result))) }
        if result.rows.contains(where: { $0.speedup != nil }) { list.append((name: "speedup", svg: speedupChart(result))) }
        return list
    }

    /// Decodes any infbench result (one sentence naming `path` when it is not one).
    public static func decode(from data: Data, path: String) throws -> SuiteResult {
        try decodeSuiteResult(from: data, path: path)
    }
}
