// Magnitude pruning (exact zero counts, largest magnitudes kept, one shared threshold in
// global mode) and the prune-unstructured technique: names parse or fail in one
// sentence, and the pruned models run on CSR with honest weight bytes.
import InfCore
import InfModels
import InfTechniques
import XCTest

final class PruneUnstructuredTests: XCTestCase {
    /// Weights on a coarse grid (multiples of 0.25 in [−2, 2]), so many magnitudes tie.
    func tiedWeights(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRNG(seed: seed)
        return Tensor(shape: shape) { _ in Float(rng.nextInt(below: 17) - 8) * 0.25 }
    }

    func testPerLayerHitsTheExactCountAndKeepsTheLargest() {
        let w = tiedWeights([37, 53], seed: 1)
        for s in [0, 0.1, 0.5, 0.7, 0.9, 0.95, 0.999, 1.0] {
            let p = MagnitudePruning.pruneLayer(w, sparsity: s)
            let want = Int((s * Double(w.count)).rounded())
            let zeroed = w.storage.indices.filter { w.storage[$0] != 0 && p.storage[$0] == 0 }
            let zeros = p.storage.filter { $0 == 0 }.count
            XCTAssertEqual(zeros, max(want, w.storage.filter { $0 == 0 }.count), "s = \(s)")
            // Kept weights are unchanged; no pruned magnitude exceeds a kept one.
            for i in p.storage.indices where p.storage[i] != 0 { XCTAssertEqual(p.storage[i], w.storage[i]) }
            let maxPruned = zeroed.map { abs(w.storage[$0]) }.max() ?? 0
            let minKept = p.storage.filter { $0 != 0 }.map(abs).min() ?? .infinity
            XCTAssertLessThanOrEqual(maxPruned, minKept, "s = \(s)")
            // Ties at the threshold: the lower flat indices go first.
            if maxPruned > 0 && maxPruned == minKept {
                let lastPruned = zeroed.filter { abs(w.storage[$0]) == maxPruned }.max()!
                let firstKept = p.storage.indices.first { p.storage[$0] != 0 && abs(p.storage[$0]) == maxPruned }!
                XCTAssertLessThan(lastPruned, firstKept, "s = \(s): ties broken by index")
            }
        }
        // round(0.5 · 5) = 3 (halves away from zero).
        XCTAssertEqual(MagnitudePruning.zeroCount(5, sparsity: 0.5), 3)
        XCTAssertEqual(MagnitudePruning.pruneLayer(Tensor(shape: [5], storage: [5, -1, 3, -2, 4]), sparsity: 0.5).storage,
                       [5, 0, 0, 0, 4])
    }

    func testGlobalThresholdIsSharedAcrossMatrices() {
        // Three matrices at different scales: one threshold prunes them unequally.
        var rng = SeededRNG(seed: 4)
        let ws = [Tensor.randomNormal([20, 30], std: 0.1, rng: &rng),
                  Tensor.randomNormal([40, 10], std: 1, rng: &rng),
                  Tensor.randomNormal([7, 9], std: 0.5, rng: &rng)]
        let total = ws.reduce(0) { $0 + $1.count }
        let r = MagnitudePruning.pruneGlobal(ws, sparsity: 0.6)
        XCTAssertEqual(r.tensors.reduce(0) { $0 + $1.storage.filter { $0 == 0 }.count }, Int((0.6 * Double(total)).rounded()))
        var perLayer: [Double] = []
        for (w, p) in zip(ws, r.tensors) {
            for i in w.storage.indices {
                if p.storage[i] == 0 {
                    XCTAssertLessThanOrEqual(abs(w.storage[i]), r.threshold)
                } else {
                    XCTAssertGreaterThanOrEqual(abs(w.storage[i]), r.threshold)
                    XCTAssertEqual(p.storage[i], w.storage[i])
                }
            }
            perLayer.append(Double(p.storage.filter { $0 == 0 }.count) / Double(p.count))
        }
        XCTAssertGreaterThan(perLayer[0], 0.9, "the small-weight layer loses most: \(perLayer)")
        XCTAssertLessThan(perLayer[1], 0.5, "the large-weight layer keeps most: \(perLayer)")
        XCTAssertEqual(MagnitudePruning.pruneGlobal(ws, sparsity: 0).tensors, ws)
    }

    func testNamesParseAndBadSparsitiesFailInOneSentence() throws {
        let p = try XCTUnwrap(PruneUnstructured.parse("prune-unstructured:0.9"))
        XCTAssertEqual(p.sparsity, 0.9)
        XCTAssertEqual(p.scope, .perLayer)
        XCTAssertEqual(p.name, "prune-unstructured:0.9")
        XCTAssertTrue(p.executes.contains("90% zeros per layer"), p.executes)
        XCTAssertTrue(p.executes.contains("CSR"), p.executes)
        let g = try XCTUnwrap(PruneUnstructured.parse("prune-unstructured-global:0.5"))
        XCTAssertEqual(g.scope, .global)
        XCTAssertEqual(g.name, "prune-unstructured-global:0.5")
        XCTAssertEqual(try PruneUnstructured.parse("prune-unstructured:0")?.sparsity, 0)
        XCTAssertNil(try PruneUnstructured.parse("fp32"))
        XCTAssertNil(try PruneUnstructured.parse("prune-structured:0.5"))

        for bad in ["prune-unstructured:1.5", "prune-unstructured:x", "prune-unstructured:1", "prune-unstructured:-0.1",
                    "prune-unstructured:", "prune-unstructured:nan", "prune-unstructured-global:2"] {
            XCTAssertThrowsError(try PruneUnstructured.parse(bad), bad) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("\"\(bad)\""), "names the option: \(text)")
                XCTAssertTrue(text.contains("[0, 1)") || text.contains("0 ≤ S < 1"), text)
                XCTAssertFalse(text.contains("\n"), text)
            }
        }
        XCTAssertThrowsError(try PruneUnstructured(sparsity: 1.5))
    }

    /// Every matrix of the pruned model, by name.
    func matrices(_ m: InferenceModel) -> [String: any LinearWeights] {
        var out: [String: any LinearWeights] = [:]
        _ = m.transformingWeights { name, w in out[name] = w; return w }
        return out
    }

    func testPrunedModelsRunOnCSRWithHonestBytes() throws {
        for name in ["encoder-small", "cnn-small"] {
            let loaded = try ModelLoader.load(name)
            let original = matrices(loaded.model)
            for technique in [try PruneUnstructured(sparsity: 0.5), try PruneUnstructured(sparsity: 0.5, scope: .global)] {
                let pruned = try technique.apply(to: loaded)
                let sparse = matrices(pruned)
                XCTAssertEqual(Set(sparse.keys), Set(original.keys))
                var totalZeros = 0, total = 0
                for (key, w) in sparse {
                    let csr = try XCTUnwrap(w as? CSRWeights, "\(name) \(key) is \(type(of: w))")
                    let count = csr.outFeatures * csr.inFeatures
                    if technique.scope == .perLayer {
                        XCTAssertEqual(count - csr.nonzeroCount, Int((0.5 * Double(count)).rounded()), "\(name) \(key)")
                    }
                    totalZeros += count - csr.nonzeroCount
                    total += count
                }
                XCTAssertEqual(Double(totalZeros) / Double(total), 0.5, accuracy: 0.001, "\(name) \(technique.name)")

                // Weight bytes: the model's figure with every fp32 matrix replaced by its CSR arrays.
                let denseMatrixBytes = original.values.reduce(0) { $0 + $1.byteCount }
                let csrBytes = sparse.values.reduce(0) { $0 + $1.byteCount }
                XCTAssertEqual(pruned.weightBytes, loaded.model.weightBytes - denseMatrixBytes + csrBytes, "\(name)")
                XCTAssertLessThan(pruned.weightBytes, loaded.model.weightBytes, "at 50% with UInt16 indices CSR is smaller")

                // Same pruned matrices on sgemm: the outputs agree up to summation order.
                let denseRef = pruned.transformingWeights { _, w in DenseWeights(w.dense()) }
                var rng = SeededRNG(seed: 7)
                let input = pruned.makeInput(batch: 2, sequenceLength: 8, rng: &rng)
                let y = pruned.forward(input).storage
                let yRef = denseRef.forward(input).storage
                XCTAssertTrue(y.allSatisfy(\.isFinite), "\(name) \(technique.name) outputs are finite")
                let scale = yRef.map(abs).max() ?? 1
                let diff = zip(y, yRef).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(diff, 1e-4 * max(scale, 1), "\(name) \(technique.name): CSR vs sgemm on the same pruned weights")
                XCTAssertNotEqual(y, loaded.model.forward(input).storage, "pruning changed the model")
            }
        }
    }
}
