// The LRU prediction cache: hits return exactly the fresh output, eviction is
// least-recently-used, and the counters and byte accounting add up.
import InfCore
import InfModels
import XCTest

final class PredictionCacheTests: XCTestCase {
    func testCachedOutputsEqualFreshOnes() throws {
        let model = try ModelLoader.load("encoder-small").model
        let cache = PredictionCache<[Int32]>(capacity: 4)
        var rng = SeededRNG(seed: 3)
        let inputs: [[Int32]] = (0..<3).map { _ in (0..<8).map { _ in Int32(1000 + rng.nextInt(below: 5000)) } }
        func run(_ ids: [Int32]) -> Tensor { model.forward(.tokens(ids: ids, mask: nil, batch: 1, length: ids.count)) }
        for ids in inputs + inputs {
            let cached = cache.value(for: ids) { run(ids) }
            XCTAssertEqual(cached, run(ids), "a hit must return exactly what the model computes")
        }
        XCTAssertEqual(cache.misses, 3)
        XCTAssertEqual(cache.hits, 3)
        XCTAssertEqual(cache.valueBytes, 3 * 8 * 256 * 4)
    }

    func testLeastRecentlyUsedIsEvicted() {
        let cache = PredictionCache<Int>(capacity: 2)
        var computed: [Int] = []
        func get(_ k: Int) { _ = cache.value(for: k) { computed.append(k); return Tensor(shape: [1], storage: [Float(k)]) } }
        get(1); get(2); get(1)  // 1 is now the most recently used
        get(3)                  // evicts 2
        get(1)                  // hit
        get(2)                  // miss: was evicted; evicts 3
        get(3)                  // miss
        XCTAssertEqual(computed, [1, 2, 3, 2, 3])
        XCTAssertEqual(cache.count, 2)
        XCTAssertEqual(cache.hits, 2)
        XCTAssertEqual(cache.valueBytes, 2 * 4)
        XCTAssertEqual(cache.value(for: 3) { Tensor(zeros: [1]) }, Tensor(shape: [1], storage: [3]), "3 is cached with its own value")
    }
}
