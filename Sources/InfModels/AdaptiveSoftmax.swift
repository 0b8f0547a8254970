// Output layers for next-token choice: the full softmax over the vocabulary,
// and adaptive softmax (Grave et al. 2017): a head over the most frequent
// tokens plus one logit per tail cluster, and per cluster a reduced-dimension
// projection, so most steps touch a small matrix instead of (V, C).
import Foundation
import InfCore

/// Picks the next token from a final hidden state h (1, C).
public protocol OutputHead {
    var name: String { get }
    /// Bytes of the output layer's weights.
    var byteCount: Int { get }
    func nextToken(_ h: Tensor, in context: ExecutionContext) -> Int32
}

/// arg max of h · Wᵀ over the whole vocabulary (what softmax's top-1 is).
public struct FullSoftmaxHead: OutputHead {
    public let head: Linear // (V, C)
    public init(_ head: Linear) { self.head = head }
    public var name: String { "full softmax" }
    public var byteCount: Int { head.byteCount }
    public func nextToken(_ h: Tensor, in context: ExecutionContext) -> Int32 {
        var logits = Tensor(zeros: [0])
        head(h, into: &logits, in: context)
        return argmax(logits.storage)
    }
}

public struct AdaptiveSoftmaxHead: OutputHead {
    /// Token ranges: head [0, cutoffs[0]), tail i [cutoffs[i], cutoffs[i+1]). Ids are taken as
    /// frequency-ordered (true for trained vocabularies sorted by frequency; a convention here).
    public let cutoffs: [Int]
    public let head: Linear                                // (cutoffs[0] + clusters, C)
    public let tails: [(projection: Linear, output: Linear)] // (d_i, C) then (size_i, d_i)
    /// The fast shortcut instead of the exact arg max: the head's arg max, and inside a winning
    /// cluster its best token (one tail at most, no exponentials), which can pick a token less
    /// probable than a head token whenever a cluster's mass outweighs every head token.
    public var descendIntoWinningCluster = false

    /// Derives an adaptive head from a full (V, C) output matrix: head rows are the frequent tokens'
    /// rows; a cluster's logit is its mean row with bias log(size) (the log-sum-exp of equal scores);
    /// a tail is the best rank-d approximation of its rows (top-d eigenvectors of W_cᵀW_c), d = C / 4ⁱ⁺¹.
    /// `projectionSizes` overrides d_i per tail.
    public init(fullHead w: Tensor, cutoffs: [Int], projectionSizes: [Int]? = nil) {
        let (v, c) = (w.shape[0], w.shape[1])
        precondition(cutoffs.count >= 2 && cutoffs.last == v && zip(cutoffs, cutoffs.dropFirst()).allSatisfy { $0 < $1 },
                     "cutoffs must rise to the vocabulary size \(v)")
        self.cutoffs = cutoffs
        let clusters = cutoffs.count - 1
        var headRows = Array(w.storage[0..<(cutoffs[0] * c)])
        var headBias = [Float](repeating: 0, count: cutoffs[0])
        var tails: [(Linear, Linear)] = []
        for i in 0..<clusters {
            let (lo, hi) = (cutoffs[i], cutoffs[i + 1])
            let rows = Array(w.storage[(lo * c)..<(hi * c)]) // (size, C)
            let size = hi - lo
            var mean = [Float](repeating: 0, count: c)
            for r in 0..<size { for j in 0..<c { mean[j] += rows[r * c + j] / Float(size) } }
            headRows += mean
            headBias.append(Float(log(Double(size))))
            let d = projectionSizes?[i] ?? max(1, c >> (2 * (i + 1)))
            // Gram matrix WᵀW (C, C); its top-d eigenvectors span the best rank-d row space.
            var gram = [Float](repeating: 0, count: c * c)
            rows.withUnsafeBufferPointer { r in
                gram.withUnsafeMutableBufferPointer { g in
                    BLAS.sgemm(transA: true, transB: false, m: c, n: c, k: size, a: r.baseAddress!, lda: c,
                               b: r.baseAddress!, ldb: c, c: g.baseAddress!, ldc: c)
                }
            }
            let eig = BLAS.symmetricEigen(gram, n: c)!
            let projection = Array(eig.vectors[((c - d) * c)..<(c * c)]) // (d, C): the d largest, ascending order
            var out = [Float](repeating: 0, count: size * d)            // (size, d) = W Pᵀ
            rows.withUnsafeBufferPointer { r in
                projection.withUnsafeBufferPointer { p in
                    out.withUnsafeMutableBufferPointer { o in
                        BLAS.sgemm(transA: false, transB: true, m: size, n: d, k: c, a: r.baseAddress!, lda: c,
                                   b: p.baseAddress!, ldb: c, c: o.baseAddress!, ldc: d)
                    }
                }
            }
            tails.append((Linear(weight: Tensor(shape: [d, c], storage: projection), bias: nil),
                          Linear(weight: Tensor(shape: [size, d], storage: out), bias: nil)))
        }
        head = Linear(weight: Tensor(shape: [cutoffs[0] + clusters, c], storage: headRows),
                      bias: Tensor(shape: [cutoffs[0] + clusters], storage: headBias))
        self.tails = tails
    }

    /// A head from given (e.g. trained) weights: head (cutoffs[0] + clusters, C), tails (d_i, C) and (size_i, d_i).
    public init(cutoffs: [Int], head: Linear, tails: [(projection: Linear, output: Linear)]) {
        precondition(tails.count == cutoffs.count - 1 && head.weights.dense().shape[0] == cutoffs[0] + tails.count,
                     "an adaptive head with \(cutoffs.count - 1) clusters needs \(cutoffs[0] + cutoffs.count - 1) head rows and as many tails")
        self.cutoffs = cutoffs
        self.head = head
        self.tails = tails
    }

    public var name: String { "adaptive softmax\(descendIntoWinningCluster ? ", head descent" : "") (cutoffs \(cutoffs.map(String.init).joined(separator: ", ")))" }
    public var byteCount: Int { head.byteCount + tails.reduce(0) { $0 + $1.projection.byteCount + $1.output.byteCount } }

    /// Greedy top-1: the arg max of the adaptive distribution p(y) = p_head(y) for head tokens,
    /// p_head(cluster) · p_tail(y) for tail tokens. A cluster's tail is evaluated only when the
    /// cluster's total mass exceeds the best token probability found so far (no token inside it
    /// can beat that otherwise), so most steps stop after the head. (Taking the head's arg max and
    /// descending into a winning cluster instead picks a cluster's best token whenever the cluster
    /// outweighs every head token, which on a flat distribution disagrees with the true arg max.)
    public func nextToken(_ h: Tensor, in context: ExecutionContext) -> Int32 {
        var logits = Tensor(zeros: [0])
        head(h, into: &logits, in: context)
        let k = cutoffs[0]
        if descendIntoWinningCluster {
            let top = Int(argmax(logits.storage))
            guard top >= k else { return Int32(top) }
            var z = Tensor(zeros: [0])
            tails[top - k].projection(h, into: &z, in: context)
            tails[top - k].output(z, into: &logits, in: context)
            return Int32(cutoffs[top - k] + Int(argmax(logits.storage)))
        }
        let s = logits.storage
        var m = s[0]
        for x in s where x > m { m = x }
        var z: Float = 0
        for x in s { z += expf(x - m) }
        var best = Int32(argmax(Array(s[0..<k])))
        var bestP = expf(s[Int(best)] - m) / z
        let order = (0..<tails.count).sorted { s[k + $0] > s[k + $1] }
        for cluster in order {
            let pc = expf(s[k + cluster] - m) / z
            guard pc > bestP else { break }
            var proj = Tensor(zeros: [0]), tail = Tensor(zeros: [0])
            tails[cluster].projection(h, into: &proj, in: context)
            tails[cluster].output(proj, into: &tail, in: context)
            let t = tail.storage
            let j = Int(argmax(t))
            var zt: Float = 0
            for x in t { zt += expf(x - t[j]) }
            if pc / zt > bestP { bestP = pc / zt; best = Int32(cutoffs[cluster] + j) }
        }
        return best
    }
}


// MARK: A trained head beside its checkpoint, and its likelihood on text

extension AdaptiveSoftmaxHead {
    /// Whether `directory` holds a trained head (see `trained(directory:)`).
    public static func hasTrained(directory: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(directory)/adaptive-softmax.json")
            && FileManager.default.fileExists(atPath: "\(directory)/adaptive-softmax.safetensors")
    }

    /// The trained head `infbench train-adaptive-softmax` writes beside a checkpoint
    /// (adaptive-softmax.json with its cutoffs, adaptive-softmax.safetensors), with the summary;
    /// nil when there is none, one sentence naming the file when it does not read.
    public static func trained(directory: String) throws -> (head: AdaptiveSoftmaxHead, summary: [String: Any])? {
        let json = "\(directory)/adaptive-softmax.json", weights = "\(directory)/adaptive-softmax.safetensors"
        guard FileManager.default.fileExists(atPath: json), FileManager.default.fileExists(atPath: weights) else { return nil }
        guard let data = FileManager.default.contents(atPath: json),
              let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cuts = summary["cutoffs"] as? [Int], cuts.count >= 2 else {
            throw ModelError("\(json): not an adaptive-softmax summary with \"cutoffs\".")
        }
        let file = try SafetensorsFile.open(path: weights)
        func linear(_ name: String) throws -> Linear { Linear(weight: try file.tensor("\(name).weight"), bias: try file.tensor("\(name).bias")) }
        let tails = try (0..<(cuts.count - 1)).map { (projection: try linear("tail.\($0).proj"), output: try linear("tail.\($0).out")) }
        return (AdaptiveSoftmaxHead(cutoffs: cuts, head: try linear("head"), tails: tails), summary)
    }

    /// Where each of the `rows` targets falls: its head class (the token itself below cutoffs[0],
    /// else cutoffs[0] + its cluster) and, per tail cluster, the rows whose target is in it.
    /// One routing for inference and training, so both score the same factorisation.
    public static func route(_ targets: [Int32], rows n: Int, cutoffs: [Int]) -> (headTargets: [Int32], members: [[Int]]) {
        precondition(targets.count == n, "\(targets.count) targets for \(n) hidden states")
        let k = cutoffs[0]
        var headTargets = [Int32](repeating: 0, count: n)
        var members = [[Int]](repeating: [], count: cutoffs.count - 1)
        for (r, y) in targets.enumerated() {
            let y = Int(y)
            precondition(y >= 0 && y < cutoffs.last!, "target \(y) outside the vocabulary of \(cutoffs.last!)")
            if y < k { headTargets[r] = Int32(y); continue }
            let i = cutoffs.lastIndex { $0 <= y }!
            headTargets[r] = Int32(k + i)
            members[i].append(r)
        }
        return (headTargets, members)
    }

    /// Σ −log p(target) over the rows of h (N, C), p the adaptive distribution: p_head(y) for a head
    /// token, p_head(cluster i) · p_tail_i(y) for a token of cluster i. Forward only (perplexity).
    public func negativeLogLikelihood(h: Tensor, targets: [Int32], in context: ExecutionContext) -> Double {
        let (n, c) = (h.rows, h.lastDim)
        let (headTargets, members) = Self.route(targets, rows: n, cutoffs: cutoffs)
        var logits = Tensor(zeros: [0]), z = Tensor(zeros: [0])
        head(h, into: &logits, in: context)
        var total = Perplexity.nllSum(logits: logits, targets: headTargets)
        for (i, rows) in members.enumerated() where !rows.isEmpty {
            var hc = Tensor(zeros: [rows.count, c])
            for (j, r) in rows.enumerated() { hc.storage[(j * c)..<((j + 1) * c)] = h.storage[(r * c)..<((r + 1) * c)] }
            tails[i].projection(hc, into: &z, in: context)
            tails[i].output(z, into: &logits, in: context)
            total += Perplexity.nllSum(logits: logits, targets: rows.map { targets[$0] - Int32(cutoffs[i]) })
        }
        return total
    }

    /// Perplexity of this head on `windows` of text, reading the final hidden states of `model`.
    public func perplexity(model: any CausalLanguageModel, windows: [TextWindow], batch: Int = 16,
                           in context: ExecutionContext) -> PerplexityResult {
        var total = 0.0, tokens = 0
        for s in stride(from: 0, to: windows.count, by: batch) {
            let group = windows[s..<min(s + batch, windows.count)]
            let t = group.first!.input.count
            let h = model.finalHidden(.tokens(ids: group.flatMap(\.input), mask: nil, batch: group.count, length: t), in: context)
            let targets = group.flatMap(\.target)
            total += negativeLogLikelihood(h: h.reshaped([targets.count, h.lastDim]), targets: targets, in: context)
            tokens += targets.count
        }
        let mean = total / Double(max(tokens, 1))
        return PerplexityResult(perplexity: exp(mean), meanNLL: mean, tokens: tokens)
    }
}
