// Pruning + fine-tuning a language model (a tiny GPT decoder on a tiny token stream): the pruned
// weights stay zero — the output layer's too, which unstructured pruning prunes apart from the
// dense embedding table — the next-token loss on the training text falls below the pruned
// model's, and the training split is found beside the checkpoint and tokenised with its vocabulary.
import Foundation
import InfCore
import InfModels
@testable import InfTechniques
import InfTrain
import XCTest

final class LanguageModelFineTuneTests: XCTestCase {
    /// 2 layers, 2 heads, vocabulary 13, context 5.
    let config = TransformerConfig(vocabSize: 13, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 24,
                                   maxPositions: 5, layerNormEps: 1e-5)

    /// Text with structure to learn: a 7-token cycle with every fifth token drawn at random (seeded).
    let stream: TokenStream = {
        var rng = SeededRNG(seed: 11)
        let cycle: [Int32] = [5, 9, 6, 11, 7, 12, 8]
        return TokenStream(ids: (0..<600).map { $0 % 5 == 4 ? Int32(5 + rng.nextInt(below: 8)) : cycle[$0 % 7] }, documents: 1)
    }()

    func tinyLoaded(source: String = "tiny") throws -> LoadedModel {
        let model = try TransformerDecoder(name: "tiny-lm", config: config, weights: SeededWeights(seed: 3))
        model.evaluationText = stream.windows(length: config.maxPositions)
        return LoadedModel(model: model, config: ModelConfig(kind: .gpt, seed: 3, settings: config), source: source, weightsSource: "generated")
    }

    /// Mean next-token loss (nats) on every window of the training stream.
    func trainingLoss(_ model: InferenceModel) -> Double {
        Perplexity.evaluate(windows: stream.windows(length: config.maxPositions), forward: model.forward).meanNLL
    }

    /// Every matrix as executed, dense, by seam name ("h.0.mlp.fc", …, "lm_head").
    func matrices(_ model: InferenceModel) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        _ = model.transformingWeights { name, w in out[name] = w.dense(); return w }
        return out
    }

    func testUnstructuredFineTuneKeepsEveryZeroAndLowersTheLoss() throws {
        let loaded = try tinyLoaded()
        let prune = try PruneUnstructured(sparsity: 0.5)
        let pruned = try prune.apply(to: loaded)
        let tuned = try FineTuned(base: prune, epochs: 2).applyToLanguageModel(loaded, train: stream)
        let before = matrices(pruned), after = matrices(tuned)
        XCTAssertEqual(Set(after.keys), Set(before.keys))
        XCTAssertNotNil(before["lm_head"], "the output layer is one of the pruned matrices")
        for (name, p) in before {
            let t = try XCTUnwrap(after[name])
            let revived = zip(p.storage, t.storage).filter { $0.0 == 0 && $0.1 != 0 }.count
            XCTAssertEqual(revived, 0, "\(name): fine-tuning revived \(revived) pruned weights")
            XCTAssertNotEqual(p, t, "\(name) was not trained")
        }
        // Half the head is zero, as pruned: the tied (dense) embedding table did not come back as the head.
        let head = try XCTUnwrap(after["lm_head"])
        XCTAssertEqual(head.storage.filter { $0 == 0 }.count, head.count / 2)
        _ = tuned.transformingWeights { name, w in XCTAssert(w is CSRWeights, "\(name) is stored as CSR again"); return w }
        let (lossPruned, lossTuned) = (trainingLoss(pruned), trainingLoss(tuned))
        XCTAssertLessThan(lossTuned, lossPruned - 0.05, "fine-tuning must lower the training loss (pruned \(lossPruned), tuned \(lossTuned))")
        XCTAssertNotNil((tuned as? any CausalLanguageModel)?.evaluationText, "the tuned model keeps its test text")
    }

    func testStructuredFineTuneTrainsTheSmallerDecoder() throws {
        let loaded = try tinyLoaded()
        for technique in [PruneStructured(unit: .heads, fraction: 0.5), PruneStructured(unit: .ffn, fraction: 0.5)] {
            let pruned = try technique.apply(to: loaded)
            let tuned = try FineTuned(base: technique, epochs: 2).applyToLanguageModel(loaded, train: stream)
            XCTAssertEqual(tuned.parameterCount, pruned.parameterCount, technique.name)
            XCTAssertLessThan(pruned.parameterCount, loaded.model.parameterCount, technique.name)
            let (lossPruned, lossTuned) = (trainingLoss(pruned), trainingLoss(tuned))
            XCTAssertLessThan(lossTuned, lossPruned - 0.05, "\(technique.name): pruned \(lossPruned), tuned \(lossTuned)")
        }
    }

    func testSeededFineTuneRepeats() throws {
        let loaded = try tinyLoaded()
        let technique = FineTuned(base: try PruneUnstructured(sparsity: 0.5), epochs: 1)
        let a = try technique.applyToLanguageModel(loaded, train: stream), b = try technique.applyToLanguageModel(loaded, train: stream)
        XCTAssertEqual(matrices(a), matrices(b))
    }

    /// Through `apply`: the training split beside the checkpoint, tokenised with its vocab.txt.
    func testTrainingSplitIsReadBesideTheCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lm-ft-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
        try (words.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        let text = (0..<60).map { $0 % 2 == 0 ? "the cat sat on a mat" : "a dog ran on the mat" }.joined(separator: "\n%\n") + "\n"
        try text.write(to: dir.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        let loaded = try tinyLoaded(source: dir.path)
        let stream = try LanguageModelFineTune.trainingStream(loaded, technique: "t")
        XCTAssertEqual(stream.documents, 60)
        XCTAssertEqual(Array(stream.ids.prefix(7)), [5, 6, 7, 8, 9, 10, 3], "word pieces of the first fortune, then [SEP]")
        let tuned = try FineTuned(base: PruneStructured(unit: .ffn, fraction: 0.5), epochs: 1).apply(to: loaded)
        XCTAssertLessThan(tuned.parameterCount, loaded.model.parameterCount)
    }

    func testRefusesWithoutText() throws {
        var loaded = try tinyLoaded(source: "/nonexistent/tiny")
        XCTAssertThrowsError(try FineTuned(base: try PruneUnstructured(sparsity: 0.5), epochs: 1).apply(to: loaded)) {
            XCTAssert("\($0)".contains("make lm-data"), "\($0)")
        }
        (loaded.model as! TransformerDecoder).evaluationText = nil
        loaded.source = "/nonexistent/tiny"
        XCTAssertThrowsError(try FineTuned(base: try PruneUnstructured(sparsity: 0.5), epochs: 1).apply(to: loaded)) {
            XCTAssert("\($0)".contains("not a language model trained on text"), "\($0)")
        }
    }
}
