// The baseline techniques and the technique catalogue: names parse, unknown
// names fail with one sentence, and the baseline and A/A run the model itself.
import Foundation
import InfCore
import InfModels
import InfTechniques
import XCTest

final class BaselineTests: XCTestCase {
    func testEveryCatalogueNameParses() throws {
        // Parameterised entries are listed as "name:F" (or ":S"); they parse with a value filled in.
        for entry in Techniques.catalogue {
            let spec = entry.name.replacingOccurrences(of: ":F", with: ":0.5").replacingOccurrences(of: ":S", with: ":0.5")
            XCTAssertEqual(try Techniques.parse(spec).name, spec)
        }
    }

    func testUnknownTechniqueIsOneSentence() {
        XCTAssertThrowsError(try Techniques.parse("fp99")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("unknown technique \"fp99\""), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    func testBaselineRunsTheLoadedModelAndAAADeepCopy() throws {
        let loaded = try ModelLoader.load("cnn-small")
        XCTAssertTrue(try FP32Baseline().apply(to: loaded) === loaded.model)
        let aa = try AABaseline().apply(to: loaded)
        XCTAssertFalse(aa === loaded.model, "the A/A has its own object, scratch buffers and weights")
        var rng = SeededRNG(seed: 1)
        let input = loaded.model.makeInput(batch: 2, sequenceLength: 0, rng: &rng)
        XCTAssertEqual(aa.forward(input), loaded.model.forward(input), "and computes exactly the same")
        // Its weight matrices live in their own allocations.
        let original = loaded.model.namedTensors().first { $0.name.hasSuffix("weight") && $0.tensor.rank >= 2 }!.tensor
        let copy = aa.namedTensors().first { $0.name.hasSuffix("weight") && $0.tensor.rank >= 2 }!.tensor
        XCTAssertEqual(original, copy)
        original.storage.withUnsafeBufferPointer { a in
            copy.storage.withUnsafeBufferPointer { b in XCTAssertNotEqual(a.baseAddress, b.baseAddress) }
        }
    }
}
