// all-MiniLM-L6-v2 end to end against reference embeddings made independently
// (Hugging Face tokenizers + a float64 NumPy forward pass: Fixtures/minilm/make_reference.py).
// Needs the real model (`make models`); skips with a visible message without it.
import Foundation
import InfCore
import InfModels
import XCTest

final class SentenceEmbeddingTests: XCTestCase {
    struct Reference: Decodable {
        let sentences: [String]
        let ids: [[Int32]]
        let embeddings: [[Double]]
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelDir = repoRoot.appendingPathComponent("Models/all-MiniLM-L6-v2").path

    func loadEncoder() throws -> SentenceEncoder {
        guard FileManager.default.fileExists(atPath: Self.modelDir + "/model.safetensors") else {
            throw XCTSkip("Models/all-MiniLM-L6-v2 not fetched (make models): skipping the real-model embedding tests.")
        }
        return try SentenceEncoder(directory: Self.modelDir)
    }

    func loadReference() throws -> Reference {
        let url = Self.repoRoot.appendingPathComponent("Tests/InfModelsTests/Fixtures/minilm/reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    override func tearDown() {
        super.tearDown()
    }

    func testEmbeddingsMatchTheIndependentReference() throws {
        let encoder = try loadEncoder()
        let ref = try loadReference()
        let got = encoder.embed(ref.sentences, in: .serial)
        XCTAssertEqual(got.count, ref.embeddings.count)
        var worst = 0.0
        for (i, (g, r)) in zip(got, ref.embeddings).enumerated() {
            XCTAssertEqual(g.count, 384)
            let diff = zip(g, r).map { abs(Double($0) - $1) }.max()!
            worst = max(worst, diff)
            // Stated tolerance: 1e-4 absolute per component (fp32 forward vs a float64 reference).
            XCTAssertLessThanOrEqual(diff, 1e-4, "sentence \(i) \"\(ref.sentences[i].prefix(40))\": max |Δ| \(diff)")
        }
        print("MiniLM embeddings vs float64 reference: max |Δ| = \(worst) over \(got.count) sentences")
    }

    func testTokenIdsFeedTheModelAsTheReferenceDid() throws {
        let encoder = try loadEncoder()
        let ref = try loadReference()
        for (s, ids) in zip(ref.sentences, ref.ids) {
            XCTAssertEqual(encoder.tokenizer.encode(s), ids, "\"\(s.prefix(40))\"")
        }
    }

    func testPaddingDoesNotChangeAnEmbedding() throws {
        let encoder = try loadEncoder()
        let short = "A man is eating food."
        let alone = encoder.embed([short], in: .serial)[0]
        let padded = encoder.embed([short, "A much longer sentence that forces the short one to be padded by many positions in this batch."], in: .serial)[0]
        let diff = zip(alone, padded).map { abs($0 - $1) }.max()!
        // Masked keys get exactly zero attention weight; only GEMM blocking over a longer T may differ.
        XCTAssertLessThanOrEqual(diff, 1e-6, "max |Δ| \(diff)")
    }

    func testThreadsDoNotChangeEmbeddings() throws {
        let encoder = try loadEncoder()
        let ref = try loadReference()
        let one = encoder.embed(ref.sentences, in: .serial)
        let two = encoder.embed(ref.sentences, in: ExecutionContext(threads: 2))
        let diff = zip(one.joined(), two.joined()).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(diff, 1e-6, "max |Δ| \(diff)")
    }

    func testEmbeddingsAreUnitLength() throws {
        let encoder = try loadEncoder()
        for v in encoder.embed(["hello", "", "☃"], in: .serial) {
            XCTAssertEqual(v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot(), 1, accuracy: 1e-5)
        }
    }

    func testBenchmarkInputsAreTokenisedText() throws {
        _ = try loadEncoder() // skips without the model
        let loaded = try ModelLoader.load(Self.modelDir)
        let encoder = try XCTUnwrap(loaded.model as? TransformerEncoder)
        let text = try XCTUnwrap(encoder.text, "a model with vocab.txt is fed the bundled sentences")
        XCTAssertTrue(loaded.notes.contains { $0.contains("tokenised English text") })
        var a = SeededRNG(seed: 3), b = SeededRNG(seed: 3)
        guard case let .tokens(ids, mask, batch, length) = encoder.makeInput(batch: 2, sequenceLength: 16, rng: &a) else {
            return XCTFail("tokens expected")
        }
        XCTAssertNil(mask)
        XCTAssertEqual(batch * length, ids.count)
        for s in 0..<2 {
            XCTAssertEqual(ids[s * 16], text.cls)
            XCTAssertEqual(ids[s * 16 + 15], text.sep)
            // The middle is a contiguous window of the text stream.
            let window = Array(ids[(s * 16 + 1)..<(s * 16 + 15)])
            XCTAssertTrue((0...(text.tokens.count - 14)).contains { Array(text.tokens[$0..<($0 + 14)]) == window })
        }
        guard case let .tokens(again, _, _, _) = encoder.makeInput(batch: 2, sequenceLength: 16, rng: &b) else { return }
        XCTAssertEqual(ids, again, "seeded")
        XCTAssertNil((try ModelLoader.load("encoder-small").model as? TransformerEncoder)?.text, "no vocab.txt: random ids")
    }
}
