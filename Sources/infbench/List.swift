// `infbench list`: the bundled models and the techniques, one line each.
import ArgumentParser
import InfModels
import InfTechniques

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the bundled models and the techniques, with one-line descriptions.")

    func run() throws {
        let models = ModelLoader.bundled()
        print("Models (in \(ModelLoader.modelsDirectory); or pass a directory with config.json [+ model.safetensors]):")
        let width = max(models.map(\.name.count).max() ?? 0, Techniques.catalogue.map(\.name.count).max() ?? 0)
        for m in models { print("  \(m.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(m.description)") }
        if models.isEmpty { print("  (none found)") }
        print("\nTechniques (--techniques a,b,c):")
        for t in Techniques.catalogue { print("  \(t.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(t.summary)") }
    }
}
