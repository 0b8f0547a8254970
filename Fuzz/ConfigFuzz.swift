// libFuzzer target: arbitrary bytes as a model directory's config.json. `ModelConfig.parse`
// must either throw a ModelError naming the file or return a config whose settings the model
// builders can use (the sizes they derive from it are computed here, so overflow would trap).
import Foundation
import FuzzDriver
@testable import InfModels  // for CNNConfig.featureShapes()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let config: ModelConfig
    do {
        config = try ModelConfig.parse(bytes, path: "config.json")
    } catch let error as ModelError {
        precondition(error.message.hasPrefix("config.json: "), "error does not name the file: \(error)")
        return 0
    } catch {
        fatalError("parse threw \(type(of: error)), not a ModelError: \(error)")
    }
    switch config.kind {
    case .bert, .gpt:
        guard let t = config.transformer, config.cnn == nil else { fatalError("transformer kind without its settings") }
        precondition(t.headSize >= 1 && t.attentionWidth >= 1, "empty attention")
        // What the weight builders multiply: embeddings, QKV, FFN.
        _ = t.vocabSize * t.hiddenSize + t.maxPositions * t.hiddenSize
        _ = 3 * t.attentionWidth * t.hiddenSize + 2 * t.intermediateSize * t.hiddenSize
    case .cnn:
        guard let c = config.cnn, config.transformer == nil else { fatalError("cnn kind without its settings") }
        guard case .success(let shapes) = c.featureShapes(), shapes.count == c.stages.count else {
            fatalError("an accepted CNN config has no feature shapes")
        }
        // What CNN.init multiplies: conv weights (OC, IC, K, K), then the classifier (out, in).
        var channels = c.inputShape[0]
        for s in c.stages {
            _ = s.outChannels * channels * s.kernelSize * s.kernelSize
            channels = s.outChannels
        }
        var width = (shapes.last ?? c.inputShape).reduce(1, *)
        for out in c.hidden + [c.numClasses] {
            _ = out * width
            width = out
        }
    default:  // another registered architecture (EfficientNet, …): its registry entry checked it
        precondition(config.settings.problem() == nil, "\(config.kind) config with a problem was accepted")
    }
    if let d = config.dataset { precondition(d.problem() == nil, "dataset with a problem was accepted") }
    return 0
}

// libFuzzer takes over from here (Fuzz/Driver: SwiftPM gives every executable its own main).
exit(infbench_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv))
