// Up-front refusal of runs the machine cannot hold or would spend hours on:
// estimate memory from the configs (before any weights load) and time from the
// FLOP counts and a quick sgemm measurement, and say so in one sentence with
// the estimate, instead of meeting the OOM killer or an all-day grid.
import Foundation
import InfCore
import InfMeasure
import InfModels

public enum ResourceCheck {
    /// Variants per group: the plan's techniques, plus the fp32 baseline the runner adds when missing.
    static func variantCount(_ plan: SuitePlan) -> Double {
        Double(plan.techniques.count + (plan.techniques.contains { $0.name == "fp32" } ? 0 : 1))
    }

    /// Runs estimated to take longer than this are refused unless allowed.
    public static let longRunSeconds: Double = 3600

    /// Parameters of a model from its configuration alone (no weights loaded): a walk over its declaration.
    public static func parameterCount(_ c: ModelConfig) -> Double {
        Double(ModelArchitecture.executedParameters(c).reduce(0) { $0 + $1.count })
    }

    /// Bytes of activations one forward pass holds at this batch (and tokens), roughly.
    public static func activationBytes(_ c: ModelConfig, batch: Int, sequenceLength: Int) -> Double {
        let b = Double(batch)
        if let t = c.transformer {
            let tokens = b * Double(sequenceLength), h = Double(t.hiddenSize)
            var floats = tokens * (4 * h + 3 * Double(t.attentionWidth) + Double(t.intermediateSize))
            floats += Double(ProcessInfo.processInfo.activeProcessorCount) * Double(sequenceLength * sequenceLength)
            if c.kind == .gpt { floats += tokens * Double(t.vocabSize) } // logits at every position
            return 4 * floats
        }
        guard let cnn = c.cnn, case .success(let shapes) = cnn.featureShapes() else { return 0 }
        var largest = Double(cnn.inputShape.reduce(1, *)), im2col = 0.0
        var (channels, h, w) = (cnn.inputShape[0], cnn.inputShape[1], cnn.inputShape[2])
        for (s, shape) in zip(cnn.stages, shapes) {
            let oh = (h + 2 * s.padding - s.kernelSize) / s.stride + 1, ow = (w + 2 * s.padding - s.kernelSize) / s.stride + 1
            largest = max(largest, Double(s.outChannels * oh * ow))
            im2col = max(im2col, Double(channels * s.kernelSize * s.kernelSize * oh * ow))
            (channels, h, w) = (shape[0], shape[1], shape[2])
        }
        return 4 * (2 * b * largest + im2col)
    }

    /// MemAvailable from /proc/meminfo, or nil where there is none.
    public static func availableMemoryBytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
    }

    /// Throws one sentence with the estimate when a model of the plan would not fit in memory:
    /// its weights once per variant (each technique makes its own copy) plus every variant's
    /// activations at the largest batch and length.
    public static func checkMemory(_ plan: SuitePlan, configs: [(spec: String, config: ModelConfig)],
                                   available: Double? = availableMemoryBytes()) throws {
        // Estimates of an invalid plan (0 threads, batch −3) mean nothing: refuse it first.
        try plan.validate()
        guard let available else { return }
        let variants = variantCount(plan)
        for (spec, c) in configs {
            let weights = 4 * parameterCount(c)
            let activations = activationBytes(c, batch: plan.batchSizes.max() ?? 1, sequenceLength: plan.sequenceLengths.max() ?? 1)
            let need = weights * variants + activations * variants
            if need > 0.9 * available {
                throw HarnessError(String(format: "%@ needs about %.1f GB (weights %.2f GB × %d variants, activations %.2f GB per variant at batch %d × %d tokens) but %.1f GB of memory is available: use a smaller --batch or --seq-len, or fewer --techniques.",
                                          spec, need / 1e9, weights / 1e9, Int(variants), activations / 1e9, plan.batchSizes.max() ?? 1,
                                          plan.sequenceLengths.max() ?? 1, available / 1e9))
            }
        }
    }

    /// Seconds the grid should take: per group, every variant warms up and is measured for
    /// at least minSeconds and minRuns, a forward pass lasting FLOPs / (sgemm rate × threads × ½).
    public static func estimatedSeconds(_ plan: SuitePlan, models: [LoadedModel], sgemmGflopsPerThread: Double) -> Double {
        // A plan that skipped validation must not divide by zero threads into a "0 s" estimate.
        guard (try? plan.validate()) != nil, sgemmGflopsPerThread > 0 else { return .infinity }
        let variants = variantCount(plan)
        var total = 0.0
        for m in models {
            let lengths = m.model.kind == .cnn ? [0] : plan.sequenceLengths
            for b in plan.batchSizes {
                for t in lengths {
                    for threads in plan.threads {
                        let forward = m.model.flops(batch: b, sequenceLength: t) / (sgemmGflopsPerThread * 1e9 * Double(threads) * 0.5)
                        let warmup = min(plan.policy.maxWarmupSeconds, Double(plan.policy.maxWarmupRuns) * forward) + forward
                        total += variants * (warmup + max(plan.policy.minSeconds, Double(plan.policy.minRuns) * forward))
                    }
                }
            }
        }
        return total
    }

    /// One-thread sgemm GFLOP/s from a quick 512³ product (a few milliseconds).
    public static func quickSgemmGflops() -> Double {
        let n = 512
        let a = [Float](repeating: 1, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = UInt64.max
        // One OpenBLAS thread for this product only: the caller's count is restored on return.
        BLAS.withThreads(1) {
            for _ in 0..<3 {
                let t0 = monotonicNanoseconds()
                a.withUnsafeBufferPointer { p in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.sgemm(m: n, n: n, k: n, a: p.baseAddress!, lda: n, b: p.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                    }
                }
                best = min(best, monotonicNanoseconds() - t0)
            }
        }
        return 2 * Double(n * n * n) / Double(max(best, 1))
    }

    public static func checkDuration(_ seconds: Double, limit: Double = longRunSeconds) throws {
        guard seconds > limit else { return }
        guard seconds.isFinite else {
            throw HarnessError("the duration of this grid cannot be estimated (its configuration is invalid or this machine's sgemm speed could not be measured); pass --allow-long to run it anyway.")
        }
        throw HarnessError(String(format: "this grid would take about %.1f hours (estimated from each instance's FLOPs and this machine's sgemm speed): narrow --model, --batch, --seq-len, --threads or --techniques, lower --min-time/--min-runs, or pass --allow-long to run it anyway.", seconds / 3600))
    }
}
