// `infbench generate` on a model trained on text: continuations of prompts from its test split,
// decoded with and without the KV cache (the tokens must be identical), printed as text. Greedy
// decoding of a small model loops ("- - - -", the attribution lines fortunes end with), so a
// seeded top-k sample is printed too: the same seed gives the same tokens on both paths.
import ArgumentParser
import Foundation
import InfCore
import InfModels

/// Top-k sampling at a temperature from the full softmax, seeded (a class: it advances its RNG).
final class SampledHead: OutputHead {
    let head: Linear, k: Int, temperature: Float
    var rng: SeededRNG
    init(_ head: Linear, k: Int, temperature: Float, seed: UInt64) {
        (self.head, self.k, self.temperature, self.rng) = (head, k, temperature, SeededRNG(seed: seed))
    }
    var name: String { "top-\(k) sample at temperature \(temperature)" }
    var byteCount: Int { head.byteCount }
    func nextToken(_ h: Tensor, in context: ExecutionContext) -> Int32 {
        var logits = Tensor(zeros: [0])
        head(h, into: &logits, in: context)
        let top = logits.storage.indices.sorted { logits.storage[$0] > logits.storage[$1] }.prefix(k)
        let m = logits.storage[top.first!]
        let weights = top.map { exp(Double((logits.storage[$0] - m) / temperature)) }
        var u = Double(rng.nextUnitFloat()) * weights.reduce(0, +)
        for (i, w) in zip(top, weights) { u -= w; if u <= 0 { return Int32(i) } }
        return Int32(top.last!)
    }
}

func printTextSamples(_ decoder: any CausalLanguageModel, text: LanguageModelText, promptLength: Int, newTokens: Int, count: Int = 4,
                      in context: ExecutionContext) throws {
    let generator = Generator(model: decoder)
    print("\nSamples: prompt = the first \(promptLength) tokens of a test-split fortune, then \(newTokens) generated (greedy; top-40 sample at temperature 0.8, seed 1):")
    var differ = 0
    for prompt in text.prompts(count: count, length: promptLength) {
        func continuation(_ tokens: [Int32]) -> String {
            text.detokenize(Array(tokens.dropFirst(promptLength))).replacingOccurrences(of: "\n", with: " ⏎ ")
        }
        let greedy = generator.generate(prompt: prompt, newTokens: newTokens, cache: true, in: context).tokens
        let greedyRecomputed = generator.generate(prompt: prompt, newTokens: newTokens, cache: false, in: context).tokens
        func sample(_ cache: Bool) -> [Int32] {
            generator.generate(prompt: prompt, newTokens: newTokens, cache: cache,
                               head: SampledHead(decoder.lmHead, k: 40, temperature: 0.8, seed: 1), in: context).tokens
        }
        let sampled = sample(true), sampledRecomputed = sample(false)
        let same = greedy == greedyRecomputed && sampled == sampledRecomputed
        if !same { differ += 1 }
        print("  prompt:  \(text.detokenize(prompt))")
        print("    greedy:  \(continuation(greedy))")
        print("    sampled: \(continuation(sampled))")
        print("    KV cache and recompute: \(same ? "identical tokens (both decodings)" : "DIFFERENT tokens")")
    }
    if differ > 0 { throw ExitCode(1) }
}
