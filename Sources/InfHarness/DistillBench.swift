// Teacher vs scratch student vs distilled student on one task: size, latency at
// batch 1 and throughput at a large batch (all three interleaved on the same
// inputs), test accuracy and agreement with the teacher on the whole test split.
import Foundation
import InfCore
import InfMeasure
import InfModels

public struct DistillRow: Codable, Sendable {
    public var task: String
    /// "teacher", "scratch student" or "distilled student".
    public var role: String
    public var model: String
    public var description: String
    public var parameters: Int
    public var weightBytes: Int
    public var flopsPerItem: Double
    /// Batch-1 latency, seconds per run (raw samples inside).
    public var latency: SampleStats
    /// Items per second at the large batch (from its median), and its raw samples.
    public var throughput: Double
    public var largeBatch: SampleStats
    public var testAccuracy: Double
    /// Share of test examples where this model predicts the teacher's class.
    public var agreementWithTeacher: Double
    /// Teacher latency / this latency at batch 1, with its bootstrap interval (nil for the teacher).
    public var speedupBatch1: Speedup?
    /// This throughput / teacher throughput at the large batch (nil for the teacher).
    public var speedupLargeBatch: Speedup?
}

/// The table the text report prints; the JSON result is the common envelope (`envelope`).
public struct DistillResult: Codable, Sendable {
    public var environment: EnvironmentInfo
    public var threads: Int
    public var largeBatch: Int
    public var testExamples: [String: Int]
    public var rows: [DistillRow]
    public var warnings: [String]
    /// The same measurements in the common result format (kind `distill`).
    public var envelope: SuiteResult?
}

public enum DistillBench {
    /// `models`: per task, the teacher first, then the students, with their roles.
    /// Per task and batch size, one engine group: the teacher (baseline), its A/A copy and the
    /// students, interleaved on the same input.
    public static func run(_ models: [(task: String, role: String, loaded: LoadedModel)], threads: Int, largeBatch: Int,
                           policy: MeasurementPolicy, seed: UInt64, bootstrapResamples: Int = 2000,
                           progress: ((String) -> Void)? = nil) throws -> DistillResult {
        let environment = EnvironmentInfo.capture()
        let context = ExecutionContext(threads: threads)
        var rows: [DistillRow] = [], warnings: [String] = [], examples: [String: Int] = [:]
        var resultRows: [ResultRow] = []
        let engine = Engine(policy: policy, bootstrapResamples: bootstrapResamples, bootstrapSeed: seed &+ 1)
        for task in unique(models.map(\.task)) {
            let group = models.filter { $0.task == task }
            guard let teacher = group.first, teacher.role == "teacher" else { throw HarnessError("\(task): no teacher to compare with.") }
            guard let test = teacher.loaded.model.evaluationSet else {
                throw HarnessError("\(teacher.loaded.source): the teacher has no infbench_dataset, so there is nothing to measure accuracy on.")
            }
            examples[task] = test.count
            progress?("\(task): accuracy on \(test.count) test examples")
            let teacherPredictions = predictions(teacher.loaded.model, test)
            var accuracyAndAgreement: [(Double, Double)] = []
            for m in group {
                guard m.loaded.model.evaluationSet?.count == test.count else {
                    throw HarnessError("\(m.loaded.source): its infbench_dataset differs from the teacher's; the comparison needs the same test split.")
                }
                let p = predictions(m.loaded.model, test)
                accuracyAndAgreement.append((accuracy(of: p, test.labels), accuracy(of: p, teacherPredictions)))
            }
            let t = test.input([0]).tokenLength ?? 0 // tokens per sequence; 0 for images
            var timings: [Int: [ResultRow]] = [:]
            let twins = TwinPool(model: teacher.loaded.model, seed: engine.policy.orderSeed ^ stableHash(task))
            for batch in [1, largeBatch] {
                var rng = SeededRNG(seed: seed)
                let input = teacher.loaded.model.makeInput(batch: batch, sequenceLength: t, rng: &rng)
                let point = WorkloadPoint(model: task, workload: "forward", batch: batch, sequenceLength: t > 0 ? t : nil,
                                          threads: threads, itemUnit: teacher.loaded.model.itemUnit, itemsPerRun: batch)
                var variants = group.enumerated().map { i, m in
                    EngineVariant(name: m.loaded.model.name, executes: "\(m.role): \(m.loaded.config.description ?? "")",
                                  weightBytes: m.loaded.model.weightBytes, flopsPerRun: m.loaded.model.flops(batch: batch, sequenceLength: t),
                                  accuracy: accuracyAndAgreement[i].0,
                                  metrics: ["agreementWithTeacher": accuracyAndAgreement[i].1, "testExamples": Double(test.count)]) {
                    _ = (i == 0 ? twins.next() : m.loaded.model).forward(input, in: context)
                }
                }
                variants.insert(EngineVariant(name: teacher.loaded.model.name + " A/A", executes: "the teacher again; " + TwinPool<InferenceModel>.aaNote,
                                              weightBytes: teacher.loaded.model.weightBytes, flopsPerRun: variants[0].flopsPerRun,
                                              accuracy: accuracyAndAgreement[0].0) { _ = twins.next().forward(input, in: context) }, at: 1)
                let measured = engine.measureGroup(point, variants, warnings: &warnings, progress: progress)
                resultRows += measured
                timings[batch] = measured.enumerated().filter { $0.offset != 1 }.map(\.element)
            }
            for (i, m) in group.enumerated() {
                let small = timings[1]![i], large = timings[largeBatch]![i]
                rows.append(DistillRow(
                    task: task, role: m.role, model: m.loaded.model.name,
                    description: m.loaded.config.description ?? "",
                    parameters: m.loaded.model.parameterCount, weightBytes: m.loaded.model.weightBytes,
                    flopsPerItem: m.loaded.model.flops(batch: 1, sequenceLength: t),
                    latency: small.stats, throughput: large.throughput, largeBatch: large.stats,
                    testAccuracy: accuracyAndAgreement[i].0, agreementWithTeacher: accuracyAndAgreement[i].1,
                    speedupBatch1: small.speedup, speedupLargeBatch: large.speedup))
            }
        }
        var workload = WorkloadConfiguration()
        workload.maxBatch = largeBatch
        let envelope = engine.result(kind: .distill, name: "distill", models: unique(models.map(\.task)),
                                     variants: unique(resultRows.map(\.variant)), threads: [threads], batchSizes: largeBatch == 1 ? [1] : [1, largeBatch],
                                     sequenceLengths: [], seed: seed, workload: workload, rows: resultRows, warnings: warnings)
        return DistillResult(environment: environment, threads: threads, largeBatch: largeBatch, testExamples: examples,
                             rows: rows, warnings: envelope.warnings, envelope: envelope)
    }

    public static func render(_ r: DistillResult) -> String {
        var out: [String] = []
        if r.environment.buildConfiguration == "debug" { out.append("!!! DEBUG BUILD: these timings mean nothing !!!") }
        out.append("infbench distill: teacher vs scratch student vs distilled student, \(r.threads) thread(s)")
        out.append("\(r.environment.timestamp) · commit \(r.environment.gitCommit) · \(r.environment.cpuModel) · \(r.environment.buildConfiguration) build")
        out.append("")
        let b = r.largeBatch
        out.append(contentsOf: alignedTable(
            header: ["model", "role", "params", "weights KB", "MFLOP/item", "b1 ms", "b1 speedup", "b\(b) items/s", "b\(b) speedup",
                     "test acc", "acc kept", "agrees w/ teacher"],
            numeric: [false, false, true, true, true, true, false, true, false, true, true, true],
            rows: r.rows.map { row in
                let teacher = r.rows.first { $0.task == row.task && $0.role == "teacher" }
                return [row.model, row.role, String(row.parameters), fixed(Double(row.weightBytes) / 1024, 1), fixed(row.flopsPerItem / 1e6, 2),
                        fourDigits(row.latency.median * 1e3), row.speedupBatch1.map(speedupCell) ?? "—", fixed(row.throughput, 0),
                        row.speedupLargeBatch.map(speedupCell) ?? "—", fixed(100 * row.testAccuracy, 2) + "%",
                        teacher.map { fixed(100 * row.testAccuracy / max($0.testAccuracy, 1e-9), 1) + "%" } ?? "—",
                        fixed(100 * row.agreementWithTeacher, 2) + "%"]
            }))
        out.append("")
        out.append("speedup = teacher median / model median (> 1× is faster), [95% bootstrap interval]; ~noise: the interval covers 1×.")
        out.append("test acc and agreement on every test example: " + r.testExamples.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                   + "; acc kept = model accuracy / teacher accuracy.")
        out.append("Reference point: DistilBERT kept ~97% of BERT's GLUE score at 60% of its inference time with 40% fewer parameters.")
        for w in r.warnings { out.append("warning: \(w)") }
        return out.joined(separator: "\n") + "\n"
    }

    private static func unique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}

extension ModelInput {
    /// T for token inputs, nil for images.
    var tokenLength: Int? {
        if case .tokens(_, _, _, let t) = self { return t }
        return nil
    }
}
