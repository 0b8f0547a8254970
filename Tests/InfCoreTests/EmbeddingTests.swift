// Embedding lookup against the reference: a plain lookup is an exact copy; accumulate adds
// onto what the output already holds (token + position embeddings).
import InfCore
import XCTest

final class EmbeddingTests: XCTestCase {
    let (vocab, dim) = (11, 6)

    func testLookupIsExactCopy() {
        var rng = SeededRNG(seed: 1)
        let table = randn(vocab * dim, rng: &rng)
        let ids: [Int32] = [3, 0, 10, 3, 7]
        let emb = Embedding(table: Tensor(shape: [vocab, dim], storage: table))
        XCTAssertEqual(emb.count, vocab)
        XCTAssertEqual(emb.dim, dim)
        var y = Tensor(zeros: [2, 2]) // wrong shape on purpose: a lookup resizes
        emb(ids, into: &y)
        XCTAssertEqual(y.shape, [ids.count, dim])
        // A copy involves no arithmetic: tolerance 0.
        assertClose(y.storage, Ref.embedding(table: table, dim: dim, ids: ids), absTol: 0, relTol: 0, "embedding")
    }

    func testAccumulateAddsPositions() {
        var rng = SeededRNG(seed: 2)
        let tokens = Embedding(table: Tensor.randomNormal([vocab, dim], std: 1, rng: &rng))
        let positions = Embedding(table: Tensor.randomNormal([8, dim], std: 1, rng: &rng))
        let ids: [Int32] = [5, 5, 1, 9, 0, 2]
        var y = Tensor(zeros: [0])
        positions((0..<Int32(ids.count)).map { $0 }, into: &y)
        let pos = y.storage
        tokens(ids, into: &y, accumulate: true)
        XCTAssertEqual(y.shape, [ids.count, dim])
        // One correctly rounded add per element: relTol 2⁻²⁴.
        let want = Ref.embedding(table: tokens.table.storage, dim: dim, ids: ids, onto: pos)
        assertClose(y.storage, want, absTol: 0, relTol: floatU, "embedding accumulate")
        XCTAssertFalse(closeness(y.storage, Ref.embedding(table: tokens.table.storage, dim: dim, ids: ids),
                                 absTol: 0, relTol: floatU).ok, "accumulate must keep what was there")

        // Accumulating the same ids again adds them a second time.
        tokens(ids, into: &y, accumulate: true)
        let twice = Ref.embedding(table: tokens.table.storage, dim: dim, ids: ids, onto: want.map(Float.init))
        assertClose(y.storage, twice, absTol: 0, relTol: 2 * floatU, "embedding accumulate twice")
    }
}
