// KV-cached generation against the uncached path: the same tokens, token for
// token, and the same logits within fp32 reassociation.
import InfCore
@testable import InfModels
import XCTest

final class GenerationTests: XCTestCase {
    func testCachedAndUncachedGreedyTokensAreIdentical() throws {
        // Scaled weights (std 0.3): peaked logits, so greedy choices are not near-ties.
        for scale: Float? in [nil, 15] {
            let model = try tinyDecoder(scale: scale)
            let gen = Generator(model: model)
            let prompt: [Int32] = [3, 17, 42]
            let cached = gen.generate(prompt: prompt, newTokens: 12, cache: true, in: .serial)
            let uncached = gen.generate(prompt: prompt, newTokens: 12, cache: false, in: .serial)
            XCTAssertEqual(cached.tokens, uncached.tokens, "scale \(String(describing: scale))")
            XCTAssertEqual(cached.tokens.count, 15)
            XCTAssertEqual(Array(cached.tokens.prefix(3)), prompt)
            XCTAssertEqual(cached.stepNs.count, 12)
            XCTAssertEqual(cached.cacheBytes, 2 * 2 * 15 * 16 * 4, "2 layers × K and V × 15 positions × C 16 × fp32")
            XCTAssertEqual(uncached.cacheBytes, 0)
        }
    }

    func testCachedStepLogitsMatchTheFullForwardPass() throws {
        let model = try tinyDecoder(scale: 15)
        let gen = Generator(model: model)
        let ids: [Int32] = [1, 9, 33, 7, 21, 4]
        var cache = KVCache(layers: 2, capacity: ids.count, width: 16)
        let full = model.forward(.tokens(ids: ids, mask: nil, batch: 1, length: ids.count)) // (1, T, V)
        for (p, id) in ids.enumerated() {
            var logits = Tensor(zeros: [0])
            model.lmHead(model.step(id, position: p, cache: cache, in: .serial), into: &logits, in: .serial)
            let step = logits.storage
            let row = Array(full.storage[(p * 50)..<((p + 1) * 50)])
            let diff = zip(step, row).map { abs($0 - $1) }.max()!
            // fp32, 1-row vs 6-row GEMMs: only the summation order may differ.
            XCTAssertLessThanOrEqual(diff, 1e-4 * max(1, row.map(abs).max()!), "position \(p): max diff \(diff)")
        }
    }
}

final class AdaptiveSoftmaxTests: XCTestCase {
    func testFullRankTailsReproduceTheFullSoftmax() throws {
        // With tail dimension equal to C (cutoffs chosen so d = C/4 ≥ rank of each tail), the
        // low-rank projection is exact; the arg max can then only differ when the head picks a
        // cluster whose best token loses to a head token or vice versa.
        var rng = SeededRNG(seed: 8)
        let c = 16
        let w = Tensor.randomNormal([40, c], std: 1, rng: &rng)
        // Tail sizes 3 ≤ d = 16/4 = 4: exact rank.
        let adaptive = AdaptiveSoftmaxHead(fullHead: w, cutoffs: [34, 37, 40])
        XCTAssertEqual(adaptive.tails.map { $0.projection.outFeatures }, [4, 1])
        let full = FullSoftmaxHead(Linear(weight: w, bias: nil))
        var headTokens = 0
        for _ in 0..<200 {
            let h = Tensor.randomNormal([1, c], std: 1, rng: &rng)
            let f = full.nextToken(h, in: .serial)
            if f < 34 {
                headTokens += 1
                // A head token is chosen from exactly the full logits unless a cluster logit beats it.
                let a = adaptive.nextToken(h, in: .serial)
                XCTAssertTrue(a == f || a >= 34, "head choice \(a) differs from \(f) without a cluster winning")
            }
        }
        XCTAssertGreaterThan(headTokens, 100)
    }

    func testTailProjectionIsTheBestLowRankApproximation() throws {
        // A tail whose rows lie in a 2-dimensional subspace is reproduced exactly with d ≥ 2.
        var rng = SeededRNG(seed: 9)
        let c = 8
        let basis = Tensor.randomNormal([2, c], std: 1, rng: &rng)
        var rows: [Float] = []
        for _ in 0..<6 {
            let a = rng.nextGaussian(), b = rng.nextGaussian()
            rows += (0..<c).map { a * basis.storage[$0] + b * basis.storage[c + $0] }
        }
        let head = Tensor.randomNormal([4, c], std: 1, rng: &rng)
        let w = Tensor(shape: [10, c], storage: head.storage + rows)
        let adaptive = AdaptiveSoftmaxHead(fullHead: w, cutoffs: [4, 10]) // d = 8/4 = 2
        let h = Tensor.randomNormal([1, c], std: 1, rng: &rng)
        var z = Tensor(zeros: [0]), approx = Tensor(zeros: [0]), exact = Tensor(zeros: [0])
        adaptive.tails[0].projection(h, into: &z, in: .serial)
        adaptive.tails[0].output(z, into: &approx, in: .serial)
        Linear(weight: Tensor(shape: [6, c], storage: rows), bias: nil)(h, into: &exact, in: .serial)
        for (a, e) in zip(approx.storage, exact.storage) { XCTAssertEqual(a, e, accuracy: 1e-4) }
    }
}
