// The fp16 technique on the bundled models: outputs stay within fp16 rounding of the
// fp32 model (cosine > 0.9999) on both the streaming (few rows) and panel (many rows)
// paths and through convolutions, and exactly the weight matrices' bytes halve.
import InfCore
import InfModels
import InfTechniques
import XCTest

final class FP16TechniqueTests: XCTestCase {
    func cosine(_ a: Tensor, _ b: Tensor) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (u, v) in zip(a.storage, b.storage) {
            dot += Double(u) * Double(v)
            na += Double(u) * Double(u)
            nb += Double(v) * Double(v)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    func testOutputsStayCloseAndMatrixBytesHalve() throws {
        for name in ["encoder-small", "decoder-small", "cnn-small"] {
            let loaded = try ModelLoader.load(name)
            let fp32 = loaded.model
            let fp16 = try FP16Technique().apply(to: loaded)

            // (batch, length): 1×4 sends 4 rows through every linear layer (streaming kernel on
            // every path); 4×40 sends 160 (panels + sgemm on every path). The CNN's
            // convolutions use multiplyLeft (panels).
            for (batch, length) in [(1, 4), (4, 40)] {
                var rng = SeededRNG(seed: 41)
                let input = fp32.makeInput(batch: batch, sequenceLength: length, rng: &rng)
                let reference = fp32.forward(input)
                let half = fp16.forward(input)
                XCTAssertEqual(half.shape, reference.shape, name)
                let c = cosine(half, reference)
                XCTAssertGreaterThan(c, 0.9999, "\(name) batch \(batch)×\(length): cosine \(c)")
                XCTAssertNotEqual(half, reference, "\(name): fp16 rounding must show somewhere")
            }

            // Only the matrices change size: each fp32 matrix (packed linear weights padded to
            // 32-row panels, row-major convolutions) becomes 2 bytes a weight; biases, norms and
            // embeddings stay fp32. The decoder's tied LM head is a copy of its own in both (the
            // embedding lookup still reads the fp32 table), so it changes like any other matrix.
            var fp32MatrixBytes = 0, halfBytes = 0
            _ = fp32.transformingWeights { _, w in
                fp32MatrixBytes += w.byteCount
                halfBytes += 2 * w.outFeatures * w.inFeatures
                return w
            }
            XCTAssertGreaterThan(fp32MatrixBytes, 0)
            XCTAssertEqual(fp16.weightBytes, fp32.weightBytes - fp32MatrixBytes + halfBytes, name)
            _ = fp16.transformingWeights { layer, w in
                XCTAssertTrue(w is FP16Weights, "\(name) \(layer) is \(type(of: w))")
                XCTAssertEqual(w.byteCount, 2 * w.outFeatures * w.inFeatures, "\(name) \(layer)")
                return w
            }
        }
    }

    func testNameAndDescription() {
        let t = FP16Technique()
        XCTAssertEqual(t.name, "fp16")
        XCTAssertTrue(t.executes.contains("fp32 compute"), t.executes)
    }
}
