// libFuzzer target: arbitrary bytes as a .safetensors checkpoint. `SafetensorsFile.parse`
// must either throw a SafetensorsError (one sentence) or return a file whose every listed
// tensor is consistent and whose F32/F16/BF16 tensors convert to Float without trapping.
import Foundation
import FuzzDriver
import InfFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let file: SafetensorsFile
    do {
        file = try SafetensorsFile.parse(bytes, path: "fuzz.safetensors")
    } catch let error as SafetensorsError {
        precondition(error.description.hasPrefix("fuzz.safetensors: "), "error does not name the file: \(error)")
        return 0
    } catch {
        fatalError("parse threw \(type(of: error)), not a SafetensorsError: \(error)")
    }
    // The same bytes as a slice that does not start at index 0 must read the same.
    var padded = Data([0xEE])
    padded.append(bytes)
    guard let again = try? SafetensorsFile.parse(padded.dropFirst(), path: "fuzz.safetensors"),
          again.names == file.names else {
        fatalError("a Data slice of the same bytes parses differently")
    }

    for name in file.names {
        guard let info = file.info(name) else { fatalError("tensor \"\(name)\" is listed but has no info") }
        precondition(0 <= info.begin && info.begin <= info.end && info.end <= size, "byte range out of the input")
        precondition(info.shape.allSatisfy { $0 >= 0 }, "negative dimension")
        if let width = info.bytesPerElement {
            precondition(info.elementCount * width == info.byteCount, "byte count does not match shape and dtype")
        }
        do {
            let tensor = try file.tensor(name)
            precondition(info.isLoadableAsFloat, "tensor(_:) converted dtype \(info.dtype)")
            precondition(tensor.shape == info.shape && tensor.count == info.elementCount, "tensor has the wrong size")
            _ = try file.tensor(name, shape: info.shape)
        } catch let error as SafetensorsError {
            precondition(!info.isLoadableAsFloat, "loadable tensor \"\(name)\" failed to load: \(error)")
        } catch {
            fatalError("tensor(_:) threw \(type(of: error)), not a SafetensorsError")
        }
    }
    return 0
}

// libFuzzer takes over from here (Fuzz/Driver: SwiftPM gives every executable its own main).
exit(infbench_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv))
