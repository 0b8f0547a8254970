// The baseline techniques and the technique catalogue: names parse, unknown
// names fail with one sentence, and the baseline and A/A run the model itself.
import InfCore
import InfModels
import InfTechniques
import XCTest

final class BaselineTests: XCTestCase {
    func testEveryCatalogueNameParses() throws {
        for entry in Techniques.catalogue {
            XCTAssertEqual(try Techniques.parse(entry.name).name, entry.name)
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
