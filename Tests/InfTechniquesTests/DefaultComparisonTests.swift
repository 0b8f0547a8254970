// The default suite reads its techniques from the catalogue: every catalogue technique (but
// the baselines) is in it with its placeholder filled in, each parses, and pruning comes with
// fine-tuning too — so a technique added to the catalogue joins the default suite by itself.
import XCTest
@testable import InfTechniques

final class DefaultComparisonTests: XCTestCase {
    func testEveryCatalogueTechniqueIsInTheDefaultSuite() throws {
        let specs = Techniques.defaultComparison
        for entry in Techniques.catalogue where entry.name != FP32Baseline.name && entry.name != AABaseline.name
            && Techniques.notInDefaultSuite[entry.name] == nil {
            let stem = String(entry.name.split(separator: ":").first!).replacingOccurrences(of: "+ft", with: "")
            XCTAssertTrue(specs.contains { $0 == stem || $0.hasPrefix(stem + ":") }, "\(entry.name) missing from \(specs)")
        }
        XCTAssertFalse(specs.contains(FP32Baseline.name))
        XCTAssertEqual(Set(specs).count, specs.count, "no technique twice")
        for spec in specs { _ = try Techniques.parse(spec) }
        for pruning in specs where pruning.hasPrefix("prune-") && !pruning.contains("+ft") {
            XCTAssertTrue(specs.contains("\(pruning)+ft:\(FineTuned.format(Techniques.defaultFineTuneEpochs))"), "\(pruning) without its fine-tuned form")
        }
        XCTAssertTrue(specs.contains(DistilledStudent.name))
    }

    func testStudentOfATeacher() {
        XCTAssertEqual(DistilledStudent.studentName(forTeacher: "shapes-teacher"), "shapes-distilled")
        XCTAssertNil(DistilledStudent.studentName(forTeacher: "encoder-small"))
    }
}
