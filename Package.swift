// swift-tools-version: 6.0
// infbench: an inference-optimisation benchmark harness.
import PackageDescription

let package = Package(
    name: "infbench",
    products: [
        .executable(name: "infbench", targets: ["infbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C modules
        // The only door to OpenBLAS (Debian: libopenblas-dev; pkg-config name: openblas).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // What Swift cannot reach well: cpuid feature detection (later: F16C/BF16 kernels).
        // Optimised in debug builds too: the fp32 linear layers run on its packed GEMM, which at
        // -O0 made the debug test suite spend most of its time in one unoptimised loop.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),

        // MARK: Libraries
        // Tensors, the BLAS wrapper, kernels and layers: one file per layer kind.
        .target(name: "InfCore", dependencies: ["CBLAS", "CKernels"]),
        // File formats and parsers: safetensors I/O, the WordPiece tokenizer, JSON field locating,
        // regular-file checks. Only Foundation and InfCore (for Tensor and fp16/bf16 conversion), so the
        // fuzzers build it without the models or the training engine.
        .target(name: "InfFormats", dependencies: ["InfCore"]),
        // The models, one file each, declaring their parameters once; the registry from config.json's
        // model_type to the model; configs, datasets, generation. Re-exports InfFormats.
        .target(name: "InfModels", dependencies: ["InfCore", "InfFormats"]),
        // The training engine: backward passes for the layers above, SGD/Adam, losses
        // (including distillation), trainable CNN and encoder, the distillation recipe.
        .target(name: "InfTrain", dependencies: ["InfCore", "InfModels"]),
        // Optimisation techniques, one file each, behind the `Technique` protocol.
        .target(name: "InfTechniques", dependencies: ["InfCore", "InfModels", "InfTrain"]),
        // Measurement without the models or the training engine: the engine, sampler and statistics,
        // environment, roofline and bandwidth, the result envelope and its validation, printers, charts,
        // the HTML report, compare/merge/reproduce, plan files, atomic writes, progress, errors.
        .target(name: "InfMeasure", dependencies: ["InfCore", "InfFormats"]),
        // What needs the models and techniques: the suite runner and default suite, the scenarios
        // (cache, generation, lengths, serving, softmax, distillation, sparse crossover), a plan's job
        // runner, evaluation sets and quality metrics. Uses InfMeasure (not re-exported).
        .target(name: "InfHarness", dependencies: ["InfCore", "InfMeasure", "InfModels", "InfTechniques"]),

        // MARK: The CLI (argument parsing and wiring only)
        .executableTarget(name: "infbench", dependencies: [
            "InfCore", "InfModels", "InfTrain", "InfTechniques", "InfMeasure", "InfHarness",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Tests (mirror Sources; every optimised path against a naive reference)
        .testTarget(name: "InfCoreTests", dependencies: ["InfCore"]),
        .testTarget(name: "InfFormatsTests", dependencies: ["InfFormats"], exclude: ["Fixtures"]),
        .testTarget(name: "InfModelsTests", dependencies: ["InfModels"], exclude: ["Fixtures"]),
        .testTarget(name: "InfTrainTests", dependencies: ["InfTrain"]),
        .testTarget(name: "InfTechniquesTests", dependencies: ["InfTechniques"]),
        // The measurement tests that need no models (sampler, statistics, roofline and bandwidth).
        .testTarget(name: "InfMeasureTests", dependencies: ["InfMeasure"]),
        // The rest import both: they share result fixtures (PrinterTests.fixture, …) with the
        // suite-runner and plan tests.
        .testTarget(name: "InfHarnessTests", dependencies: ["InfMeasure", "InfHarness"]),
        .testTarget(name: "CLITests", dependencies: ["infbench"], exclude: ["HostileInputs.json"]),
    ],
    swiftLanguageModes: [.v5]
)

// MARK: Fuzzers (libFuzzer + AddressSanitizer; declared only when INFBENCH_FUZZ is set)
// `make fuzz` builds each one with
//   INFBENCH_FUZZ=1 swift build -c debug --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
//     -Xswiftc -use-ld=lld -Xswiftc -O --product fuzz-<name>
// Without -sanitize=fuzzer there is no libFuzzer to link, so a plain `swift build` must not see them.
// Each is one Fuzz/*Fuzz.swift that defines LLVMFuzzerTestOneInput and ends by handing it to
// libFuzzer through FuzzDriver (SwiftPM gives every executable its own main, so libFuzzer's is unused).
// The first two need only the format target, which is why the parsers live in InfFormats; the
// results fuzzer needs only InfMeasure (result reading, printers, compare, reproduce, charts).
if Context.environment["INFBENCH_FUZZ"] != nil {
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/Driver"))
    let fuzzNonSources = ["Driver", "corpus", "make_seeds.py"] + ["config", "results", "safetensors", "tokenizer"].map { "\($0).dict" }
    let fuzzers = [("safetensors", "SafetensorsFuzz.swift", "InfFormats"),
                   ("tokenizer", "TokenizerFuzz.swift", "InfFormats"),
                   ("config", "ConfigFuzz.swift", "InfModels"),     // the registry decodes configs
                   ("results", "ResultsFuzz.swift", "InfMeasure")]  // show, compare, reproduce, chart
    for (name, file, library) in fuzzers {
        package.targets.append(.executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzDriver", .target(name: library)],
                                                 path: "Fuzz", exclude: fuzzNonSources + fuzzers.map(\.1).filter { $0 != file },
                                                 sources: [file]))
        package.products.append(.executable(name: "fuzz-\(name)", targets: ["fuzz-\(name)"]))
    }
}
