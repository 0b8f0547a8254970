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
        .target(name: "CKernels"),

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
        // Timing, statistics, environment, the suite runner, results and printers.
        .target(name: "InfHarness", dependencies: ["InfCore", "InfModels", "InfTechniques"]),

        // MARK: The CLI (argument parsing and wiring only)
        .executableTarget(name: "infbench", dependencies: [
            "InfCore", "InfModels", "InfTrain", "InfTechniques", "InfHarness",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Tests (mirror Sources; every optimised path against a naive reference)
        .testTarget(name: "InfCoreTests", dependencies: ["InfCore"]),
        .testTarget(name: "InfFormatsTests", dependencies: ["InfFormats"], exclude: ["Fixtures"]),
        .testTarget(name: "InfModelsTests", dependencies: ["InfModels"], exclude: ["Fixtures"]),
        .testTarget(name: "InfTrainTests", dependencies: ["InfTrain"]),
        .testTarget(name: "InfTechniquesTests", dependencies: ["InfTechniques"]),
        .testTarget(name: "InfHarnessTests", dependencies: ["InfHarness"]),
        .testTarget(name: "CLITests", dependencies: ["infbench"], exclude: ["HostileInputs.json"]),
    ],
    swiftLanguageModes: [.v5]
)
