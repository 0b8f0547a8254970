// `infbench export`: write a model's weights as safetensors (plus its config.json),
// e.g. to freeze the seeded weights of a bundled model into a checkpoint.
import ArgumentParser
import InfModels

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model's weights to DIR/model.safetensors with its config.json, so DIR loads as a checkpoint.")

    @Option(help: "Bundled model name or model directory/config.json.")
    var model: String

    @Option(help: "Output directory (created if missing).")
    var output: String

    func run() throws {
        let loaded = try ModelLoader.load(model)
        try ModelLoader.save(loaded, to: output)
        print("wrote \(output)/model.safetensors (\(loaded.model.parameterCount) parameters) and \(output)/config.json")
    }
}
