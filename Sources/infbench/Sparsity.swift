// `infbench sparsity`: where unstructured sparsity starts to pay — the CSR
// kernel against sgemm on the same pruned matrix, per sparsity and shape.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfModels

struct Sparsity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sparse-kernel crossover: CSR vs dense sgemm on the same magnitude-pruned matrices, per sparsity.")

    @Option(help: "Take the (out, in) shapes of this model's weight matrices.")
    var model: String = "encoder-small"

    @Option(help: "Comma-separated activation rows M (1 = a single token or image).")
    var rows: IntList = IntList([1, 16, 128])

    @Option(help: "Comma-separated sparsities in [0, 1).")
    var sparsities: String = "0.5,0.7,0.9,0.95"

    @OptionGroup(title: "Measurement")
    var measurement: MeasurementOptions

    @OptionGroup var scenario: ScenarioOptions

    func parsedSparsities() throws -> [Double] {
        let values = sparsities.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 && $0! < 1 }) else {
            throw ValidationError("--sparsities must be comma-separated numbers in [0, 1), got \"\(sparsities)\".")
        }
        return values.map { $0! }
    }

    func validate() throws {
        _ = try parsedSparsities()
        try rows.check("--rows", 1...65536)
        if let dup = firstDuplicateEntry(try parsedSparsities()) { throw ValidationError("--sparsities lists \(dup) twice; the rows would not be told apart.") }
    }

    func run() throws {
        let loaded = try ModelLoader.load(model)
        var shapes: [(n: Int, k: Int)] = []
        _ = loaded.model.transformingWeights { _, w in
            if !shapes.contains(where: { $0 == (w.outFeatures, w.inFeatures) }) { shapes.append((w.outFeatures, w.inFeatures)) }
            return w
        }
        if let output = scenario.output { try checkWritable(output) }
        let grid = rows.values.flatMap { m in shapes.map { (m: m, n: $0.n, k: $0.k) } }
        // One shape at a time (same seeds as one call: seed + shape index), so a terminal shows progress.
        let progress = scenario.progress()
        var result: [CrossoverRow] = []
        for (i, shape) in grid.enumerated() {
            progress.say("[\(i + 1)/\(grid.count)] \(shape.m)×\(shape.n)×\(shape.k): dense vs CSR")
            result += measureSparseCrossover(shapes: [shape], sparsities: try parsedSparsities(), threads: scenario.threads,
                                             policy: measurement.policy, seed: scenario.seed &+ UInt64(i))
        }
        progress.done()
        let env = EnvironmentInfo.capture()
        if env.buildConfiguration == "debug" { print("!!! DEBUG BUILD: these timings mean nothing !!!") }
        print("infbench sparsity: \(loaded.model.name)'s matrix shapes, \(scenario.threads) thread(s); "
              + "dense = OpenBLAS sgemm on the pruned matrix (zeros still multiplied), sparse = infbench CSR (nonzeros only)")
        print("\(env.timestamp) · commit \(env.gitCommit) · \(env.cpuModel) · OpenBLAS core \(env.openblasCore)")
        if let o = env.openblasOverride { print("! \(o)") }
        print("")
        print(renderCrossover(result), terminator: "")
        try scenario.write(SparsityResult(environment: env, model: loaded.model.name, threads: scenario.threads, rows: result))
    }
}
