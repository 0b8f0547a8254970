// `infbench sparsity`: where unstructured sparsity starts to pay — the CSR
// kernel against sgemm on the same pruned matrix, per sparsity and shape.
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfMeasure
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
        let shapes = matrixShapes(of: loaded.model)
        if let output = scenario.output { try checkWritable(output) }
        let grid = rows.values.flatMap { m in shapes.map { (m: m, n: $0.n, k: $0.k) } }
        let sparsityList = try parsedSparsities()
        let progress = scenario.progress()
        progress.say("measuring \(grid.count) shapes × \(sparsityList.count) sparsities")
        let engine = scenario.engine(measurement)
        var warnings: [String] = []
        let (cells, measuredRows) = measureSparseCrossover(shapes: grid, sparsities: sparsityList, threads: scenario.threads,
                                                           engine: engine, seed: scenario.seed, model: loaded.model.name,
                                                           warnings: &warnings, progress: progress.say)
        progress.done()
        var workload = WorkloadConfiguration()
        workload.sparsities = sparsityList
        workload.rows = rows.values
        let result = engine.result(kind: .sparsity, name: "sparsity", models: [model], variants: ["dense sgemm", "dense sgemm A/A", "CSR"],
                                   threads: [scenario.threads], batchSizes: rows.values, sequenceLengths: [], seed: scenario.seed,
                                   workload: workload, rows: measuredRows, warnings: warnings)
        let env = result.environment
        if env.buildConfiguration == "debug" { print("!!! DEBUG BUILD: these timings mean nothing !!!") }
        print("infbench sparsity: \(loaded.model.name)'s matrix shapes, \(scenario.threads) thread(s); "
              + "dense = OpenBLAS sgemm on the pruned matrix (zeros still multiplied), sparse = infbench CSR (nonzeros only)")
        print("\(env.timestamp) · commit \(env.gitCommit) · \(env.cpuModel) · OpenBLAS core \(env.openblasCore)")
        if let o = env.openblasOverride { print("! \(o)") }
        print("")
        print(renderCrossover(cells), terminator: "")
        if let output = scenario.output {
            try writeAtomically(printer(for: OutputFormat.inferred(fromPath: output)).render(result), to: output)
            FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
        }
    }
}
