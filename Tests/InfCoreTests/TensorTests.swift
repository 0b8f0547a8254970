// Tensor semantics: construction, reshape (same storage, new shape), flatten against the
// reference, resize (the arena step: no reallocation for the same or a smaller element count), rows, and
// the seeded generators behind every test's data.
import Foundation
import InfCore
import XCTest

final class TensorTests: XCTestCase {
    func testConstruction() {
        let z = Tensor(zeros: [2, 3, 4])
        XCTAssertEqual(z.count, 24)
        XCTAssertEqual(z.rank, 3)
        XCTAssertEqual(z.byteCount, 96)
        XCTAssertTrue(z.storage.allSatisfy { $0 == 0 })
        XCTAssertEqual(z.description, "Tensor[2, 3, 4]")
        // The closure receives the row-major flat index.
        let t = Tensor(shape: [2, 3]) { Float($0) }
        XCTAssertEqual(t.storage, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(t[flat: 4], 4)
        var u = t
        u[flat: 4] = -1
        XCTAssertEqual(u.storage[4], -1)
        XCTAssertEqual(t[flat: 4], 4, "value semantics: the copy is independent")
    }

    func testRowsAndLastDim() {
        XCTAssertEqual(Tensor(zeros: [2, 3, 4]).rows, 6)
        XCTAssertEqual(Tensor(zeros: [2, 3, 4]).lastDim, 4)
        XCTAssertEqual(Tensor(zeros: [5]).rows, 1)
        let scalar = Tensor(shape: [], storage: [7])
        XCTAssertEqual(scalar.count, 1)
        XCTAssertEqual(scalar.rows, 1)
        XCTAssertEqual(scalar.lastDim, 1)
    }

    func testReshapeKeepsStorage() {
        var rng = SeededRNG(seed: 1)
        let t = Tensor.randomNormal([2, 3, 4], std: 1, rng: &rng)
        let r = t.reshaped([6, 4])
        XCTAssertEqual(r.shape, [6, 4])
        XCTAssertEqual(r.storage, t.storage)
        XCTAssertEqual(t.shape, [2, 3, 4], "reshaped returns a copy and leaves the original alone")
        XCTAssertNotEqual(r, t, "equal storage under another shape is a different tensor")
        var m = t
        m.reshape([4, 6])
        XCTAssertEqual(m.shape, [4, 6])
        XCTAssertEqual(m.storage, t.storage)
        XCTAssertEqual(m.reshaped([2, 3, 4]), t)
    }

    func testFlattenMatchesReference() {
        // (B, C, H, W) → (B, C·H·W), what a CNN does before its classifier.
        var rng = SeededRNG(seed: 2)
        let (b, c, h, w) = (2, 3, 4, 5)
        let x = Tensor.randomNormal([b, c, h, w], std: 1, rng: &rng)
        let flat = x.reshaped([b, c * h * w])
        // Reshaping moves no data: exact.
        assertClose(flat.storage, Ref.flatten(x.storage, b: b, c: c, h: h, w: w), absTol: 0, relTol: 0, "flatten")
        XCTAssertEqual(flat.rows, b)
    }

    func testResizeReusesBufferForSameCount() {
        var t = Tensor(shape: [2, 6]) { Float($0) }
        let before = t.storage.withUnsafeBufferPointer { $0.baseAddress }
        t.resize([3, 4])
        let after = t.storage.withUnsafeBufferPointer { $0.baseAddress }
        XCTAssertEqual(t.shape, [3, 4])
        XCTAssertEqual(t.count, 12)
        XCTAssertEqual(before, after, "same element count: no reallocation (the arena promise)")
        t.resize([5, 5])
        XCTAssertEqual(t.shape, [5, 5])
        XCTAssertEqual(t.count, 25)
        XCTAssertEqual(t.storage.count, 25)
        t.resize([0])
        XCTAssertEqual(t.count, 0)
        // Smaller then larger again within the capacity once reached: still the same buffer.
        var u = Tensor(zeros: [64])
        let base = u.storage.withUnsafeBufferPointer { $0.baseAddress }
        u.resize([2, 8])
        u.resize([3, 10])
        u.resize([8, 8])
        XCTAssertEqual(u.shape, [8, 8])
        XCTAssertEqual(u.count, 64)
        XCTAssertEqual(u.storage.withUnsafeBufferPointer { $0.baseAddress }, base, "a buffer that takes maps of several sizes is allocated once")
    }

    func testCopyAndSetItems() {
        let batch = Tensor(shape: [3, 2, 2]) { Float($0) }
        var one = Tensor(zeros: [0])
        batch.copyItems(1..<3, into: &one)
        XCTAssertEqual(one, Tensor(shape: [2, 2, 2], storage: (4..<12).map(Float.init)))
        var out = Tensor(zeros: [3, 2, 2])
        out.setItems(1, from: one)
        XCTAssertEqual(out.storage, [0, 0, 0, 0] + (4..<12).map(Float.init))
    }

    func testSeededGeneratorsAreReproducible() {
        var a = SeededRNG(seed: 42), b = SeededRNG(seed: 42), c = SeededRNG(seed: 43)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        XCTAssertEqual(sa, sb)
        XCTAssertNotEqual(sa, sc)
        var r1 = SeededRNG(seed: 7), r2 = SeededRNG(seed: 7)
        XCTAssertEqual(Tensor.randomNormal([50], std: 2, rng: &r1), Tensor.randomNormal([50], std: 2, rng: &r2))
    }

    func testGeneratorRanges() {
        var rng = SeededRNG(seed: 3)
        for _ in 0..<1000 {
            let u = rng.nextUnitFloat()
            XCTAssertTrue(u >= 0 && u < 1)
            let i = rng.nextInt(below: 7)
            XCTAssertTrue((0..<7).contains(i))
        }
        let uni = Tensor.randomUniform([2000], in: -3...5, rng: &rng)
        XCTAssertTrue(uni.storage.allSatisfy { $0 >= -3 && $0 < 5 })
    }

    func testNormalMoments() {
        // n = 20000 draws of Normal(0, 1.5²): the sample mean has standard error σ/√n ≈ 0.011
        // and the sample std ≈ σ/√(2n) ≈ 0.0075; allow 4 standard errors each.
        var rng = SeededRNG(seed: 4)
        let n = 20_000, sigma = 1.5
        let x = Tensor.randomNormal([n], std: Float(sigma), rng: &rng).storage.map(Double.init)
        let mean = x.reduce(0, +) / Double(n)
        let std = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 4 * sigma / Double(n).squareRoot())
        XCTAssertEqual(std, sigma, accuracy: 4 * sigma / (2 * Double(n)).squareRoot())
    }
}
