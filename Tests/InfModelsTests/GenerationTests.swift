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
            let cached = gen.generate(prompt: prompt, newTokens: 12, cache: true)
            let uncached = gen.generate(prompt: prompt, newTokens: 12, cache: false)
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
        var cache = KVCache(layers: 2, capacity: ids.count, hidden: 16)
        let full = model.forward(.tokens(ids: ids, mask: nil, batch: 1, length: ids.count)) // (1, T, V)
        for (p, id) in ids.enumerated() {
            let step = gen.step(id, position: p, cache: &cache)
            let row = Array(full.storage[(p * 50)..<((p + 1) * 50)])
            let diff = zip(step, row).map { abs($0 - $1) }.max()!
            // fp32, 1-row vs 6-row GEMMs: only the summation order may differ.
            XCTAssertLessThanOrEqual(diff, 1e-4 * max(1, row.map(abs).max()!), "position \(p): max diff \(diff)")
        }
    }
}
