// Pruning + fine-tuning: parsing, the zeros stay zeros, and training on the model's
// dataset lowers the loss the pruning raised.
import InfCore
import InfModels
@testable import InfTechniques
import InfTrain
import XCTest

final class FineTuneTests: XCTestCase {
    /// A tiny CNN "trained" on a small shapes split (its config names the dataset).
    func tinyLoadedCNN() throws -> LoadedModel {
        let config = CNNConfig(inputShape: [3, 32, 32], stages: [.init(outChannels: 6, kernelSize: 3, padding: 1, pool: .max, poolSize: 4)],
                               hidden: [16], numClasses: 10)
        let spec = DatasetSpec(name: "shapes", seed: 5, train: 128, validation: 0, test: 64, size: 32)
        let model = try CNN(name: "tiny", config: config, weights: SeededWeights(seed: 2))
        model.evaluation = spec.generate(.test) as? LabelledImages
        var modelConfig = ModelConfig(kind: .cnn, seed: 2, settings: config)
        modelConfig.dataset = spec
        return LoadedModel(model: model, config: modelConfig, source: "tiny", weightsSource: "generated")
    }

    func meanLoss(_ model: InferenceModel, _ data: LabelledExamples) -> Double {
        crossEntropyLoss(logits: collectLogits(model.forward, data), labels: data.labels).loss
    }

    func testParse() throws {
        XCTAssertEqual(try Techniques.parse("prune-unstructured:0.9+ft").name, "prune-unstructured:0.9+ft")
        XCTAssertEqual(try Techniques.parse("prune-channels:0.5+ft:3").name, "prune-channels:0.5+ft:3")
        XCTAssertThrowsError(try Techniques.parse("fp16+ft")) { XCTAssert("\($0)".contains("not a pruning technique"), "\($0)") }
        XCTAssertEqual(try Techniques.parse("prune-channels:0.5+ft:0.25").name, "prune-channels:0.5+ft:0.25")
        XCTAssertEqual((try Techniques.parse("prune-channels:0.5+ft:1.0") as? FineTuned)?.name, "prune-channels:0.5+ft:1")
        for bad in ["0", "1.5", "101", "-1", "nan", "x"] {
            XCTAssertThrowsError(try Techniques.parse("prune-ffn:0.5+ft:\(bad)"), bad) { XCTAssert("\($0)".contains("1 ≤ E ≤ 100"), "\($0)") }
        }
        XCTAssertThrowsError(try Techniques.parse("prune-ffn:0.5+ftx"))
    }

    func testUnstructuredFineTuneKeepsTheZerosAndLowersTheLoss() throws {
        let loaded = try tinyLoadedCNN()
        let train = loaded.config.dataset!.generate(.train)
        let pruned = try PruneUnstructured(sparsity: 0.8).apply(to: loaded)
        let tuned = try FineTuned(base: PruneUnstructured(sparsity: 0.8), epochs: 3).apply(to: loaded)
        var nonzeros: [String: Int] = [:]
        _ = pruned.transformingWeights { name, w in nonzeros[name] = (w as! CSRWeights).nonzeroCount; return w }
        _ = tuned.transformingWeights { name, w in
            let csr = w as! CSRWeights
            XCTAssertLessThanOrEqual(csr.nonzeroCount, nonzeros[name]!, "\(name): fine-tuning must not revive pruned weights")
            return w
        }
        XCTAssertLessThan(meanLoss(tuned, train), meanLoss(pruned, train))
        XCTAssertNotNil(tuned.evaluationSet, "the fine-tuned model keeps its test split")
    }

    func testStructuredFineTuneTrainsTheSmallerModel() throws {
        let loaded = try tinyLoadedCNN()
        let train = loaded.config.dataset!.generate(.train)
        let technique = PruneStructured(unit: .channels, fraction: 0.5)
        let pruned = try technique.apply(to: loaded), tuned = try FineTuned(base: technique, epochs: 3).apply(to: loaded)
        XCTAssertEqual(tuned.parameterCount, pruned.parameterCount)
        XCTAssertLessThan(meanLoss(tuned, train), meanLoss(pruned, train))
    }

    /// "+ft:0.25": one pass over the split's first quarter, and the note says so.
    func testAShareOfAnEpochTrainsOnTheFirstExamples() throws {
        let loaded = try tinyLoadedCNN()
        let spec = loaded.config.dataset!
        let technique = PruneStructured(unit: .channels, fraction: 0.5)
        let quarter = FineTuned(base: technique, epochs: 0.25)
        XCTAssertEqual(quarter.trainingCount(spec), 32)
        XCTAssertEqual(FineTuned(base: technique, epochs: 2).trainingCount(spec), 128)
        let tuned = try quarter.apply(to: loaded)
        let note = try XCTUnwrap(quarter.describe(tuned, original: loaded))
        XCTAssertTrue(note.contains("one pass over the first 32 of 128 training examples"), note)
        XCTAssertNotEqual(matrices(tuned), matrices(try technique.apply(to: loaded)), "it trained")
        XCTAssertEqual(LanguageModelFineTune.steps(0.25), 13, "a language model's quarter round")
        XCTAssertEqual(LanguageModelFineTune.steps(2), 2 * LanguageModelFineTune.stepsPerRound)
    }

    func matrices(_ model: InferenceModel) -> [[Float]] {
        var out: [[Float]] = []
        _ = model.transformingWeights { _, w in out.append(w.dense().storage); return w }
        return out
    }

    func testModelsWithoutADatasetAreRefused() throws {
        var loaded = try tinyLoadedCNN()
        loaded.config.dataset = nil
        XCTAssertThrowsError(try FineTuned(base: PruneUnstructured(sparsity: 0.5), epochs: 1).apply(to: loaded)) {
            XCTAssert("\($0)".contains("no infbench_dataset"), "\($0)")
        }
    }
}
