// Every kind of result validates against Results/schema/result.schema.json, with a
// small validator for the part of JSON Schema the file uses (type, required,
// properties, additionalProperties, items, enum, minimum, $ref). The validator
// itself is checked to reject what it should, so a schema test cannot pass vacuously.
import Foundation
import InfCore
import InfModels
import InfTechniques
import XCTest
@testable import InfHarness
@testable import InfMeasure

/// Errors of `value` against `schema` ("" when valid), with JSON paths.
func schemaErrors(_ value: Any, _ schema: [String: Any], root: [String: Any], path: String = "$") -> [String] {
    if let ref = schema["$ref"] as? String {
        let name = ref.replacingOccurrences(of: "#/definitions/", with: "")
        guard let defs = root["definitions"] as? [String: Any], let target = defs[name] as? [String: Any] else {
            return ["\(path): unresolved \(ref)"]
        }
        return schemaErrors(value, target, root: root, path: path)
    }
    var errors: [String] = []
    if let declared = schema["type"] {
        let types = (declared as? [String]) ?? [declared as! String]
        // Linux Foundation parses true/false as __NSCFBoolean, numbers as NSNumber.
        let isBoolean = "\(type(of: value))".contains("Boolean")
        func matches(_ t: String) -> Bool {
            switch t {
            case "object": return value is [String: Any]
            case "array": return value is [Any]
            case "string": return value is String
            case "boolean": return isBoolean
            case "integer":
                guard let n = value as? NSNumber, !isBoolean else { return false }
                return n.doubleValue == n.doubleValue.rounded()
            case "number": return value is NSNumber && !isBoolean
            default: return false
            }
        }
        if !types.contains(where: matches) { return ["\(path): not of type \(types)"] }
    }
    if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) {
        errors.append("\(path): \(value) is not one of \(allowed)")
    }
    if let minimum = schema["minimum"] as? Double, let n = value as? NSNumber, n.doubleValue < minimum {
        errors.append("\(path): \(n) is below \(minimum)")
    }
    if let object = value as? [String: Any] {
        for key in (schema["required"] as? [String]) ?? [] where object[key] == nil { errors.append("\(path): \(key) is missing") }
        let properties = (schema["properties"] as? [String: Any]) ?? [:]
        for (key, child) in object {
            if let sub = properties[key] as? [String: Any] {
                errors += schemaErrors(child, sub, root: root, path: "\(path).\(key)")
            } else if let extra = schema["additionalProperties"] as? [String: Any] {
                errors += schemaErrors(child, extra, root: root, path: "\(path).\(key)")
            } else if (schema["additionalProperties"] as? Bool) == false {
                errors.append("\(path): unexpected field \(key)")
            }
        }
    }
    if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
        for (i, item) in array.enumerated() { errors += schemaErrors(item, items, root: root, path: "\(path)[\(i)]") }
    }
    return errors
}

final class ResultSchemaTests: XCTestCase {
    static let schema: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Results/schema/result.schema.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    let engine = Engine(policy: MeasurementPolicy(minSeconds: 0, minRuns: 2, maxWarmupRuns: 1, maxWarmupSeconds: 1, orderSeed: 5),
                        bootstrapResamples: 100, bootstrapSeed: 3)

    func assertValid(_ result: SuiteResult, file: StaticString = #filePath, line: UInt = #line) throws {
        let json = try JSONSerialization.jsonObject(with: Data(JSONPrinter().render(result).utf8))
        let errors = schemaErrors(json, Self.schema, root: Self.schema)
        XCTAssertEqual(errors, [], "\(result.kind)", file: file, line: line)
        // And every reader reads it back as the same kind.
        XCTAssertEqual(try decodeSuiteResult(from: Data(JSONPrinter().render(result).utf8), path: "x.json").kind, result.kind,
                       file: file, line: line)
    }

    func testTheValidatorRejectsWhatItShould() throws {
        var object = try JSONSerialization.jsonObject(with: Data(JSONPrinter().render(PrinterTests.fixture()).utf8)) as! [String: Any]
        object["kind"] = "bake"
        object["extra"] = 1
        var rows = object["rows"] as! [[String: Any]]
        rows[0]["batch"] = "eight"
        rows[0].removeValue(forKey: "stats")
        object["rows"] = rows
        let errors = schemaErrors(object, Self.schema, root: Self.schema)
        XCTAssertTrue(errors.contains { $0.contains("$.kind") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("unexpected field extra") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("$.rows[0].batch") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("stats is missing") }, "\(errors)")
    }

    func testRunResultMatchesTheSchema() throws {
        try assertValid(PrinterTests.fixture())
        var plan = SuitePlan(suite: "t", models: ["encoder-small"], techniques: [FP32Baseline(), AABaseline()], batchSizes: [1], threads: [1],
                             sequenceLengths: [8], policy: engine.policy, inputSeed: 1, bootstrapSeed: 2,
                             bootstrapResamples: 100, rooflineSize: 32)
        plan.profile = true
        let runner = SuiteRunner(plan: plan, showProgress: false)
        try assertValid(try runner.run(models: try runner.loadModels()))
    }

    /// The trained language model's decoder rows carry perplexity beside top-1 agreement.
    func testLanguageModelRowsCarryPerplexity() throws {
        let plan = SuitePlan(suite: "t", models: ["fortunes-lm"], techniques: [FP32Baseline(), try Techniques.parse("fp16")], batchSizes: [1],
                             threads: [1], sequenceLengths: [8], policy: engine.policy, inputSeed: 1, bootstrapSeed: 2,
                             bootstrapResamples: 100, rooflineSize: 32)
        let runner = SuiteRunner(plan: plan, showProgress: false)
        let result = try runner.run(models: try runner.loadModels())
        let rows = result.rows.filter { $0.model == "fortunes-lm" }
        XCTAssertEqual(rows.count, 2)
        let fp32 = try XCTUnwrap(rows[0].quality?.perplexity), fp16 = try XCTUnwrap(rows[1].quality?.perplexity)
        XCTAssertLessThan(fp32, 400, "a trained model on its own test text")
        XCTAssertEqual(fp16, fp32, accuracy: 0.01 * fp32, "fp16 weights barely move perplexity")
        try assertValid(result)
    }

    func testScenarioResultsMatchTheSchema() throws {
        let decoder = try ModelLoader.load("decoder-small").model as! TransformerDecoder
        let generated = GenerationBench.run(model: decoder, promptLength: 4, newTokens: 8, threads: 1, engine: engine, seed: 1)
        XCTAssertEqual(generated.rows.map(\.variant), ["no cache", "no cache A/A", "KV cache"])
        XCTAssertTrue(generated.rows.allSatisfy { $0.positions?.isEmpty == false })
        XCTAssertEqual(generated.rows[2].quality?.identical, true, "cached decoding gives the same tokens")
        try assertValid(generated)

        let cnn = try ModelLoader.load("cnn-small").model
        try assertValid(CacheBench.run(model: cnn, sequenceLength: 0, requests: 12, catalogue: 3, exponent: 1, capacity: 4,
                                       threads: 1, engine: engine, seed: 1))
        let encoder = try ModelLoader.load("encoder-small").model as! TransformerEncoder
        let lengths = LengthBench.run(model: encoder, requests: 8, batch: 4, medianLength: 6, threads: 1, engine: engine, seed: 1)
        XCTAssertEqual(lengths.rows.count, 4)
        try assertValid(lengths)
        // The stand-in model of ServerBenchTests (1 ms + 0.1 ms per item): a served load in well under a second a trial.
        let (served, _) = ServerBench.compare(model: SpinModel(), sequenceLength: 0, threads: 1,
                                              dynamic: BatcherPolicy(maxBatch: 2, maxDelaySeconds: 0.001), p99Bound: 0.5,
                                              trialSeconds: 0.05, steps: 0, engine: engine, seed: 1)
        try assertValid(served)
        var warnings: [String] = []
        let (_, rows) = measureSparseCrossover(shapes: [(m: 1, n: 8, k: 8)], sparsities: [0.5], threads: 1, engine: engine, seed: 1,
                                               warnings: &warnings)
        try assertValid(engine.result(kind: .sparsity, name: "s", models: ["m"], variants: ["dense sgemm", "dense sgemm A/A", "CSR"],
                                      threads: [1], batchSizes: [1], sequenceLengths: [], seed: 1, workload: WorkloadConfiguration(),
                                      rows: rows, warnings: warnings))
    }

    func testSoftmaxAndDistillResultsMatchTheSchema() throws {
        let decoder = try ModelLoader.load("decoder-small").model as! TransformerDecoder
        let v = decoder.config.vocabSize
        try assertValid(SoftmaxBench.run(model: decoder, cutoffs: [v / 4, v / 2, v], newTokens: 4, threads: 1, engine: engine,
                                         seed: 1, weightsAreTrained: false))
        let models = try ["shapes-teacher": "teacher", "shapes-student": "scratch student"].sorted { $0.value > $1.value }
            .map { (task: "shapes", role: $0.value, loaded: try ModelLoader.load($0.key)) }
        let distilled = try DistillBench.run(models, threads: 1, largeBatch: 2, policy: engine.policy, seed: 1)
        try assertValid(try XCTUnwrap(distilled.envelope))
    }

    func testJobAndMergedResultsMatchTheSchema() throws {
        let tests = MergeTests.self
        let job0 = tests.result(job: 0, host: "a", baselineMs: 10, variantMs: 5, machineType: "small")
        try assertValid(job0)
        let failure = JobFailure(planId: tests.plan.id, jobId: tests.plan.jobs[3].id, index: 3, hostname: "c", timestamp: "t", error: "oom.")
        let merged = try Merger.combine(plan: tests.plan, results: [("0", job0), ("1", tests.result(job: 1, host: "c", baselineMs: 4, variantMs: 1)),
                                                                    ("2", tests.result(job: 2, host: "a", baselineMs: 1, variantMs: 1, commit: "other"))],
                                        failures: [failure], allowMismatch: true)
        XCTAssertNotNil(merged.merge?.allowedMismatches)
        XCTAssertEqual(merged.merge?.missingJobs.count, 1)
        try assertValid(merged)
    }
}
