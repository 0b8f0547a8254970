// transformingWeights, the seam every precision/sparsity technique uses: it must
// reach every weight matrix, leave the original model alone, and change nothing
// when the transform is the identity.
import InfCore
import InfModels
import XCTest

final class TransformWeightsTests: XCTestCase {
    func models() throws -> [InferenceModel] {
        try ["encoder-small", "decoder-small", "cnn-small"].map { try ModelLoader.load($0).model }
    }

    func input(_ m: InferenceModel) -> ModelInput {
        var rng = SeededRNG(seed: 5)
        return m.makeInput(batch: 2, sequenceLength: 8, rng: &rng)
    }

    func testIdentityChangesNothingAndNamesEveryMatrix() throws {
        let expected = ["encoder-small": 4 * 4, "decoder-small": 4 * 4 + 1, "cnn-small": 4 + 2]
        for m in try models() {
            var names: [String] = []
            let copy = m.transformingWeights { name, w in names.append(name); return w }
            XCTAssertEqual(names.count, expected[m.name], "\(m.name): \(names)")
            XCTAssertEqual(Set(names).count, names.count, "names are unique")
            XCTAssertEqual(copy.forward(input(copy)), m.forward(input(m)), m.name)
            XCTAssertEqual(copy.weightBytes, m.weightBytes, m.name)
        }
    }

    func testATransformReachesTheOutputAndLeavesTheOriginalAlone() throws {
        for m in try models() {
            let before = m.forward(input(m))
            let zeroed = m.transformingWeights { _, w in DenseWeights(Tensor(zeros: [w.outFeatures, w.inFeatures])) }
            XCTAssertNotEqual(zeroed.forward(input(zeroed)), before, "\(m.name): zeroing every matrix must change the output")
            XCTAssertEqual(m.forward(input(m)), before, "\(m.name): the original is untouched")
        }
    }
}
