// The bf16 technique on the bundled small models: every weight matrix becomes the bf16-rounded
// original, the outputs stay close to fp32 (cosine > 0.999) and the matrices take half the bytes.
import InfCore
import InfModels
import InfTechniques
import XCTest

final class BF16TechniqueTests: XCTestCase {
    override func tearDown() {
        BF16Kernel.forcePortable(false)
        super.tearDown()
    }

    func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// Bytes of the weight matrices alone (what the technique converts).
    func matrixBytes(_ m: InferenceModel) -> Int {
        var bytes = 0
        _ = m.transformingWeights { _, w in bytes += w.byteCount; return w }
        return bytes
    }

    func testNameAndExecutesSayWhatRuns() {
        let t = BF16Technique()
        XCTAssertEqual(t.name, "bf16")
        XCTAssertTrue(t.executes.contains("round to nearest even"), t.executes)
        XCTAssertTrue(t.executes.contains(BF16Kernel.nativeActive ? "vdpbf16ps" : "portable"), t.executes)
        BF16Kernel.forcePortable(true)
        XCTAssertTrue(t.executes.contains("portable kernel"), t.executes)
    }

    func testSmallModelsStayCloseAtHalfTheMatrixBytes() throws {
        for name in ["encoder-small", "cnn-small"] {
            let loaded = try ModelLoader.load(name)
            let fp32 = loaded.model
            let bf16 = try BF16Technique().apply(to: loaded)

            // Every matrix is the bf16-rounded original, exactly.
            var originals: [String: Tensor] = [:]
            _ = fp32.transformingWeights { n, w in originals[n] = w.dense(); return w }
            _ = bf16.transformingWeights { n, w in
                XCTAssertTrue(w is BF16Weights, "\(name) \(n) is bf16")
                let want = originals[n]!.storage.map { floatFromBF16Bits(bf16Bits($0)) }
                XCTAssertEqual(w.dense().storage, want, "\(name) \(n)")
                return w
            }

            for batch in [1, 8] {
                var rng = SeededRNG(seed: 11)
                let input = fp32.makeInput(batch: batch, sequenceLength: 16, rng: &rng)
                let want = fp32.forward(input).storage
                let got = bf16.forward(input).storage
                XCTAssertEqual(got.count, want.count)
                let cos = cosine(got, want)
                print("\(name) batch \(batch): cosine to fp32 \(String(format: "%.6f", cos))")
                XCTAssertGreaterThan(cos, 0.999, "\(name) batch \(batch)")
            }

            // The matrices take 2 bytes per weight (these shapes need no panel padding beyond
            // 32 | N, 2 | K; allow it anyway), everything else is unchanged.
            let (fp32Matrices, bf16Matrices) = (matrixBytes(fp32), matrixBytes(bf16))
            XCTAssertGreaterThanOrEqual(bf16Matrices, fp32Matrices / 2, name)
            XCTAssertLessThan(Double(bf16Matrices), 0.5 * 1.1 * Double(fp32Matrices), name)
            XCTAssertEqual(bf16.weightBytes, fp32.weightBytes - fp32Matrices + bf16Matrices, name)
            print("\(name): weight bytes \(fp32.weightBytes) → \(bf16.weightBytes); matrices \(fp32Matrices) → \(bf16Matrices)")
        }
    }

    /// The portable kernel gives the same model outputs to fp32 summation order.
    func testPortableKernelAgreesOnTheEncoder() throws {
        let bf16 = try BF16Technique().apply(to: try ModelLoader.load("encoder-small"))
        var rng = SeededRNG(seed: 12)
        let input = bf16.makeInput(batch: 4, sequenceLength: 16, rng: &rng)
        let native = bf16.forward(input).storage
        BF16Kernel.forcePortable(true)
        let portable = bf16.forward(input).storage
        XCTAssertGreaterThan(cosine(native, portable), 0.999999)
    }
}
