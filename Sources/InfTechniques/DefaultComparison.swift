// Which techniques the default suite (`infbench run` with no grid options) compares: read
// from the catalogue, so a technique added there joins the default suite with no other edit.
// A technique declares where it applies in its own `apply`: it throws a TechniqueError on a
// model it does not fit (heads on a CNN, +ft without a dataset), and the suite leaves it out.
import InfModels

extension Techniques {
    /// The value each placeholder of a parameterised catalogue name takes in the default suite:
    /// S (sparsity) 0.9 — around where CSR starts to pay on these sizes; F (share removed) 0.5.
    public static let defaultParameters: [String: String] = ["S": "0.9", "F": "0.5"]

    /// Catalogue entries the default suite leaves out, each with its reason (the CLI still runs them).
    public static let notInDefaultSuite: [String: String] = [
        "prune-unstructured-global:S": "a scope variant of prune-unstructured: the same CSR kernel at the same sparsity",
        FP32OpenBLAS.name: "a GEMM-library comparison (infbench's packed fp32 kernel against OpenBLAS), not a technique to apply",
    ]

    /// Fine-tuning after pruning in the default suite: half an epoch (the CLI's default is 2). At one
    /// epoch the teachers' five +ft rows trained for 5 of the suite's 8⅓ minutes (2 cores, load ~4); a
    /// quarter recovered visibly less (shapes-teacher prune-unstructured: 20.6 % top-1 against 37.1 %
    /// at one epoch) and its "+ft:0.25" names did not fit the summary's first column. The row's name
    /// ("+ft:0.5") and note say how much training it got.
    public static let defaultFineTuneEpochs = 0.5

    /// Every catalogue technique with its placeholder filled in, baselines left out, and every
    /// pruning technique also with fine-tuning ("+ft"), e.g. fp16, …, prune-heads:0.5, prune-heads:0.5+ft.
    public static var defaultComparison: [String] {
        var specs: [String] = []
        for entry in catalogue {
            let name = entry.name
            if name == FP32Baseline.name || name == AABaseline.name || name.contains("+ft") || notInDefaultSuite[name] != nil { continue }
            var spec = name
            if let colon = name.lastIndex(of: ":"), let value = defaultParameters[String(name[name.index(after: colon)...])] {
                spec = String(name[...colon]) + value
            }
            specs.append(spec)
        }
        // The "+ft" catalogue entry is a modifier of every pruning technique.
        if catalogue.contains(where: { $0.name.contains("+ft") }) {
            specs += specs.filter { $0.hasPrefix("prune-") }.map { "\($0)+ft:\(FineTuned.format(defaultFineTuneEpochs))" }
        }
        return specs
    }
}
