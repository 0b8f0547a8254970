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

    func testBaselineAndAARunTheLoadedModel() throws {
        let loaded = try ModelLoader.load("cnn-small")
        XCTAssertTrue(try FP32Baseline().apply(to: loaded) === loaded.model)
        XCTAssertTrue(try AABaseline().apply(to: loaded) === loaded.model)
    }
}
