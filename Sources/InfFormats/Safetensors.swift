// Reads and writes .safetensors checkpoints: an 8-byte little-endian header length,
// a JSON header mapping tensor names to dtype/shape/byte range, then the raw bytes.
// Everything is validated when the file is opened, so a bad checkpoint fails early
// with one sentence naming the file and tensor instead of crashing mid-load.
import Foundation
import InfCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Errors

/// One clear sentence naming the file and, where relevant, the tensor:
/// `model.safetensors: tensor "w" has shape [384, 384], expected [256, 256].`
public struct SafetensorsError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        case unreadable        // missing, a directory, or I/O failed
        case otherFormat       // recognisably some other checkpoint format
        case badHeader         // length prefix or JSON header malformed
        case badEntry          // a tensor's header entry is malformed
        case badLayout         // byte ranges out of bounds, wrong size or overlapping
        case unsupportedDtype  // listed fine, but cannot be loaded as Float / written
        case missingTensor
        case shapeMismatch
        case invalidArgument   // writer given bad names or dtype
        case writeFailed
    }

    public let kind: Kind
    public let file: String
    public let tensor: String?
    /// The part after "file: " / "tensor "x" ", without the final period.
    public let problem: String

    public init(_ kind: Kind, file: String, tensor: String? = nil, _ problem: String) {
        self.kind = kind
        self.file = file
        self.tensor = tensor
        self.problem = problem
    }

    public var description: String {
        if let tensor { return "\(file): tensor \"\(shortened(tensor))\" \(problem)." }
        return "\(file): \(problem)."
    }

    public var errorDescription: String? { description }
}

/// A name cut to 80 characters for a message, with its full length said: a hostile
/// 50 MB tensor name must not be echoed (nor word-wrapped by the CLI) in full.
func shortened(_ name: String) -> String {
    let limit = 80
    guard name.utf8.count > limit else { return name }
    return "\(name.prefix(limit))… (\(name.utf8.count) bytes)"
}

/// Longer tensor names are refused when the header is read (real ones are under 200 bytes).
public let maxTensorNameBytes = 4096

// MARK: Dtypes

/// Bytes per element of every dtype the safetensors format defines; used to check
/// byte ranges even for dtypes infbench cannot load (e.g. MiniLM's I64 position ids).
private let safetensorsDtypeSizes: [String: Int] = [
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
]

/// The dtypes infbench converts to and from Float.
private let floatDtypes: Set<String> = ["F32", "F16", "BF16"]

// MARK: Reader

public struct SafetensorsTensorInfo: Equatable, Sendable {
    public let name: String
    /// As written in the header, e.g. "F32", "BF16", "I64".
    public let dtype: String
    public let shape: [Int]
    /// Byte range relative to the first byte after the header.
    public let begin: Int
    public let end: Int
    public let elementCount: Int

    public var byteCount: Int { end - begin }
    /// Nil for a dtype string the safetensors format does not define.
    public var bytesPerElement: Int? { safetensorsDtypeSizes[dtype] }
    /// Whether `SafetensorsFile.tensor(_:)` can convert this tensor to Float.
    public var isLoadableAsFloat: Bool { floatDtypes.contains(dtype) }
}

public struct SafetensorsFile: Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Tensor names in the order their bytes appear in the file.
    public let names: [String]

    private let infos: [String: SafetensorsTensorInfo]
    /// The whole file, memory-mapped, so opening a large checkpoint reads only its header.
    private let bytes: Data
    /// File offset of the first data byte: 8 + header length.
    private let dataStart: Int

    /// The reference implementation refuses headers above 100 MB; a larger length
    /// prefix means the file is not safetensors (or is corrupt), not a huge model.
    public static let maxHeaderLength = 100_000_000

    public static func open(path: String) throws -> SafetensorsFile {
        func fail(_ kind: SafetensorsError.Kind, tensor: String? = nil, _ problem: String) -> SafetensorsError {
            SafetensorsError(kind, file: path, tensor: tensor, problem)
        }

        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw fail(.unreadable, "no such file")
        }
        guard !isDirectory.boolValue else {
            throw fail(.unreadable, "is a directory, not a .safetensors file")
        }
        // A FIFO or a device (/dev/zero) cannot be mapped, and reading one may never end.
        if let problem = regularFileProblem(path) { throw fail(.unreadable, problem) }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw fail(.unreadable, "cannot be read (\(error.localizedDescription))")
        }
        return try parse(bytes, path: path)
    }

    /// Validates a whole checkpoint already in memory; `path` only names it in errors.
    /// `open(path:)` maps the file and calls this; the fuzzer (Fuzz/) calls it directly.
    public static func parse(_ data: Data, path: String) throws -> SafetensorsFile {
        // Offsets below count from byte 0; a slice of a larger Data starts elsewhere.
        let bytes = data.startIndex == 0 ? data : Data(data)
        func fail(_ kind: SafetensorsError.Kind, tensor: String? = nil, _ problem: String) -> SafetensorsError {
            SafetensorsError(kind, file: path, tensor: tensor, problem)
        }
        if let format = otherFormat(bytes.prefix(8)) {
            throw fail(.otherFormat, "is \(format), not a safetensors file")
        }
        guard bytes.count >= 8 else {
            throw fail(.badHeader, bytes.isEmpty
                ? "is empty, not a safetensors file"
                : "is \(bytes.count) bytes long, too short for the 8-byte header length of a safetensors file")
        }
        let headerLength64 = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength64 <= UInt64(maxHeaderLength) else {
            throw fail(.badHeader, "declares a \(headerLength64)-byte header, more than the \(maxHeaderLength)-byte limit (not a safetensors file, or corrupt)")
        }
        let headerLength = Int(headerLength64)
        guard headerLength <= bytes.count - 8 else {
            throw fail(.badHeader, "declares a \(headerLength)-byte header but only \(bytes.count - 8) bytes follow the length (truncated file?)")
        }
        let headerBytes = [UInt8](bytes[8..<(8 + headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail(.badHeader, "has a header that is not valid UTF-8")
        }

        let json: JSONValue
        do {
            var parser = JSONParser(bytes: headerBytes)
            json = try parser.parseDocument()
        } catch let error as JSONParser.Failure {
            switch error.duplicateKey {
            case let (key, topLevel)?:
                // JSON allows repeated keys but every reader keeps only one of them,
                // so a repeated tensor name would silently load the wrong bytes.
                throw topLevel
                    ? fail(.badHeader, tensor: key, "appears twice in the header")
                    : fail(.badHeader, "has the key \"\(shortened(key))\" twice in one object of its header")
            case nil:
                throw fail(.badHeader, "has a header that is not valid JSON (\(error.message))")
            }
        }
        guard case .object(let entries) = json else {
            throw fail(.badHeader, "has a JSON header that is not an object")
        }

        let dataLength = bytes.count - 8 - headerLength
        var metadata: [String: String] = [:]
        var infos: [String: SafetensorsTensorInfo] = [:]
        for (name, value) in entries {
            if name.utf8.count > maxTensorNameBytes {
                throw fail(.badEntry, tensor: name, "has a name of \(name.utf8.count) bytes, more than the \(maxTensorNameBytes)-byte limit (not a real checkpoint)")
            }
            if name == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw fail(.badHeader, "has \"__metadata__\" that is not a JSON object")
                }
                for (key, item) in pairs {
                    guard case .string(let text) = item else {
                        throw fail(.badHeader, "has \"__metadata__\" entry \"\(shortened(key))\" that is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            infos[name] = try parseEntry(name: name, value: value, dataLength: dataLength, path: path)
        }

        // Sorting by range makes overlap a check between neighbours; zero-length
        // tensors may share an offset with anything.
        let ordered = infos.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previous: SafetensorsTensorInfo?
        for info in ordered where info.byteCount > 0 {
            if let p = previous, info.begin < p.end {
                throw fail(.badLayout, tensor: info.name,
                           "(bytes \(info.begin)..<\(info.end)) overlaps tensor \"\(p.name)\" (bytes \(p.begin)..<\(p.end))")
            }
            previous = info
        }
        // Gaps between tensors are tolerated: they cost nothing to read past.

        return SafetensorsFile(path: path, metadata: metadata, names: ordered.map(\.name),
                               infos: infos, bytes: bytes, dataStart: 8 + headerLength)
    }

    /// Validates one `"name": {"dtype", "shape", "data_offsets"}` header entry.
    private static func parseEntry(name: String, value: JSONValue, dataLength: Int, path: String) throws -> SafetensorsTensorInfo {
        func fail(_ kind: SafetensorsError.Kind, _ problem: String) -> SafetensorsError {
            SafetensorsError(kind, file: path, tensor: name, problem)
        }
        guard case .object(let fields) = value else {
            throw fail(.badEntry, "has a header entry that is not a JSON object")
        }
        func field(_ key: String) throws -> JSONValue {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw fail(.badEntry, "has no \"\(key)\" field in its header entry")
            }
            return v
        }
        func integers(_ key: String) throws -> [Int] {
            guard case .array(let items) = try field(key) else {
                throw fail(.badEntry, "has a \"\(key)\" that is not an array of integers")
            }
            return try items.map { item in
                guard case .number(let lexeme) = item else {
                    throw fail(.badEntry, "has a \"\(key)\" that is not an array of integers")
                }
                guard let n = Int(lexeme) else {
                    throw fail(.badEntry, "has \"\(key)\" entry \(lexeme), which is not an integer infbench can represent")
                }
                return n
            }
        }

        guard case .string(let dtype) = try field("dtype") else {
            throw fail(.badEntry, "has a \"dtype\" that is not a string")
        }
        let shape = try integers("shape")
        if shape.contains(where: { $0 < 0 }) {
            throw fail(.badEntry, "has a negative dimension in shape \(shape)")
        }
        var elementCount = 1
        for dim in shape {
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dim)
            if overflow { throw fail(.badEntry, "has shape \(shape), whose element count overflows") }
            elementCount = product
        }
        let offsets = try integers("data_offsets")
        guard offsets.count == 2 else {
            throw fail(.badEntry, "has data_offsets \(offsets), expected two integers [begin, end]")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0 else {
            throw fail(.badLayout, "has data_offsets \(offsets) with a negative begin")
        }
        guard begin <= end else {
            throw fail(.badLayout, "has data_offsets \(offsets) whose begin is after its end")
        }
        guard end <= dataLength else {
            throw fail(.badLayout, "has data_offsets \(offsets) ending beyond the \(dataLength)-byte data region (truncated file?)")
        }
        if let size = safetensorsDtypeSizes[dtype] {
            let (expected, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow, end - begin == expected else {
                throw fail(.badLayout, "has \(end - begin) bytes of data, but shape \(shape) of \(dtype) needs \(overflow ? "more than Int.max" : String(expected))")
            }
        }
        // A dtype string the format does not define is listed, not rejected: its
        // size is unknown, so only loading it fails (see `tensor(_:)`).
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape,
                                     begin: begin, end: end, elementCount: elementCount)
    }

    /// Names other checkpoint formats from their first bytes.
    private static func otherFormat(_ head: Data) -> String? {
        let b = [UInt8](head)
        func starts(_ magic: [UInt8]) -> Bool { b.starts(with: magic) }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "a zip archive (a PyTorch .pt/.bin checkpoint?)" }
        if b.count >= 2, b[0] == 0x80, (2...5).contains(b[1]) { return "a Python pickle (a legacy PyTorch checkpoint?)" }
        if starts(Array("GGUF".utf8)) { return "a GGUF model (llama.cpp)" }
        if starts([0x89, 0x48, 0x44, 0x46]) { return "an HDF5 file (a Keras .h5 checkpoint?)" }
        if starts([0x93] + Array("NUMPY".utf8)) { return "a NumPy .npy array" }
        return nil
    }

    public func info(_ name: String) -> SafetensorsTensorInfo? { infos[name] }

    /// The tensor `name` converted to Float (from F32, F16 or BF16).
    public func tensor(_ name: String) throws -> Tensor {
        let info = try loadableInfo(name)
        return Tensor(shape: info.shape, storage: floats(info))
    }

    /// The tensor `name`, which must have exactly `expected` shape; checked before
    /// any conversion so a wrong checkpoint fails fast.
    public func tensor(_ name: String, shape expected: [Int]) throws -> Tensor {
        let info = try loadableInfo(name)
        guard info.shape == expected else {
            throw SafetensorsError(.shapeMismatch, file: path, tensor: name,
                                   "has shape \(info.shape), expected \(expected)")
        }
        return Tensor(shape: info.shape, storage: floats(info))
    }

    private func loadableInfo(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = infos[name] else {
            throw SafetensorsError(.missingTensor, file: path, tensor: name,
                                   "is not in the file (it holds \(names.count) tensor\(names.count == 1 ? "" : "s"))")
        }
        guard info.isLoadableAsFloat else {
            throw SafetensorsError(.unsupportedDtype, file: path, tensor: name,
                                   "has dtype \(info.dtype), which infbench cannot load as Float (it reads F32, F16 and BF16)")
        }
        return info
    }

    /// Decodes little-endian elements; the data region need not be aligned, so
    /// loads are unaligned.
    private func floats(_ info: SafetensorsTensorInfo) -> [Float] {
        let start = dataStart + info.begin
        let n = info.elementCount
        return bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            let src = UnsafeRawBufferPointer(rebasing: raw[start..<(dataStart + info.end)])
            return [Float](unsafeUninitializedCapacity: n) { dst, initialized in
                switch info.dtype {
                case "F32":
                    #if _endian(little)
                    UnsafeMutableRawBufferPointer(dst).copyMemory(from: src)
                    #else
                    for i in 0..<n {
                        dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                    #endif
                case "F16":
                    for i in 0..<n {
                        dst[i] = floatFromFP16Bits(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                case "BF16":
                    for i in 0..<n {
                        dst[i] = floatFromBF16Bits(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                default:
                    preconditionFailure("loadableInfo admits only F32, F16 and BF16, got \(info.dtype)")
                }
                initialized = n
            }
        }
    }
}

// MARK: Writer

public enum SafetensorsWriter {
    /// Writes `tensors` in the given order as `dtype` (F32, F16 or BF16), with a
    /// sorted-key JSON header padded with spaces to a multiple of 8 bytes (so the
    /// data is 8-byte aligned, as the reference implementation does). The file
    /// appears atomically: it is written to a temporary file in the same
    /// directory and renamed over `path`, so a failure never leaves half a file.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], dtype: String = "F32",
                             metadata: [String: String] = [:], to path: String) throws {
        func fail(_ kind: SafetensorsError.Kind, tensor: String? = nil, _ problem: String) -> SafetensorsError {
            SafetensorsError(kind, file: path, tensor: tensor, problem)
        }
        guard floatDtypes.contains(dtype) else {
            throw fail(.invalidArgument, "cannot be written as dtype \(dtype) (infbench writes F32, F16 and BF16)")
        }
        var seen: Set<String> = []
        for (name, _) in tensors {
            guard !name.isEmpty else { throw fail(.invalidArgument, "cannot hold a tensor with an empty name") }
            guard name != "__metadata__" else {
                throw fail(.invalidArgument, tensor: name, "uses the name reserved for the header's metadata")
            }
            guard seen.insert(name).inserted else {
                throw fail(.invalidArgument, tensor: name, "is given twice; names in a safetensors file must be unique")
            }
        }

        // Encode the data first: F16 overflow is found here, before any file exists.
        let size = safetensorsDtypeSizes[dtype]!
        var data = Data(capacity: tensors.reduce(0) { $0 + $1.tensor.count * size })
        var entries: [(key: String, json: String)] = []
        for (name, tensor) in tensors {
            let begin = data.count
            switch dtype {
            case "F32":
                appendLittleEndian(tensor.storage.map(\.bitPattern), to: &data)
            case "F16":
                let bits = convertToFP16(tensor.storage)
                if let i = bits.indices.first(where: { tensor.storage[$0].isFinite && bits[$0] & 0x7C00 == 0x7C00 }) {
                    throw fail(.invalidArgument, tensor: name,
                               "has value \(tensor.storage[i]) at index \(i), beyond the F16 range (±65504)")
                }
                appendLittleEndian(bits, to: &data)
            default:  // BF16 has fp32's exponent range; only values within half a bf16 ulp of 2^128 become inf.
                appendLittleEndian(convertToBF16(tensor.storage), to: &data)
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append((name, "{\"data_offsets\":[\(begin),\(data.count)],\"dtype\":\"\(dtype)\",\"shape\":[\(shape)]}"))
        }
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
            entries.append(("__metadata__", "{" + pairs.joined(separator: ",") + "}"))
        }
        entries.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var header = Array(("{" + entries.map { "\(jsonQuoted($0.key)):\($0.json)" }.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)

        var file = Data(capacity: 8 + header.count + data.count)
        appendLittleEndian(UInt64(header.count), to: &file)
        file.append(contentsOf: header)
        file.append(data)
        try writeAtomically(file, to: path)
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    /// One bulk copy on little-endian hosts (all infbench targets); byte-swapped otherwise.
    private static func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to data: inout Data) {
        #if _endian(little)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        #else
        values.map(\.littleEndian).withUnsafeBytes { data.append(contentsOf: $0) }
        #endif
    }

    /// A JSON string literal; escapes what JSON requires and nothing else.
    private static func jsonQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func writeAtomically(_ contents: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temp = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UUID().uuidString)"
        do {
            guard FileManager.default.createFile(atPath: temp, contents: nil) else {
                throw SafetensorsError(.writeFailed, file: path, "cannot be created (is \(directory) a writable directory?)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temp))
            do {
                try handle.write(contentsOf: contents)
                // Flush before the rename so a crash cannot expose an empty file under the final name.
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temp, path) == 0 else {
                throw SafetensorsError(.writeFailed, file: path, "cannot be replaced (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            if let error = error as? SafetensorsError { throw error }
            throw SafetensorsError(.writeFailed, file: path, "cannot be written (\(error.localizedDescription))")
        }
    }
}

// MARK: Header JSON

/// A parsed JSON value. Objects keep their pairs in order, numbers keep their
/// text so integers are read exactly (no trip through Double).
private indirect enum JSONValue {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null
}

/// A small strict JSON parser for the header. Foundation's JSONSerialization
/// silently keeps one of two duplicate keys and may read `true` as the number 1;
/// a duplicated tensor name would then load the wrong bytes without a word.
private struct JSONParser {
    struct Failure: Error {
        let message: String
        /// Set when the JSON is well formed but an object repeats a key.
        var duplicateKey: (key: String, topLevel: Bool)?
    }

    let bytes: [UInt8]
    var i = 0
    var depth = 0
    /// Deep nesting cannot occur in a valid header; the limit keeps a hostile
    /// file from overflowing the stack through recursion.
    static let maxDepth = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        let value = try parseValue()
        skipWhitespace()  // the reference writer pads the header with trailing spaces
        guard i == bytes.count else { throw failure("unexpected text after the top-level value") }
        return value
    }

    private func failure(_ message: String) -> Failure {
        Failure(message: "\(message) at byte \(i) of the header")
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    private mutating func expect(_ literal: String) throws {
        let utf8 = Array(literal.utf8)
        guard bytes.count - i >= utf8.count, Array(bytes[i..<(i + utf8.count)]) == utf8 else {
            throw failure("expected \(literal)")
        }
        i += utf8.count
    }

    private mutating func parseValue() throws -> JSONValue {
        skipWhitespace()
        guard i < bytes.count else { throw failure("unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected character")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        var pairs: [(key: String, value: JSONValue)] = []
        var keys: Set<String> = []
        try parseElements(close: "}", inside: "an object") { p in
            p.skipWhitespace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\"") else { throw p.failure("expected a quoted key") }
            let keyStart = p.i
            let key = try p.parseString()
            guard keys.insert(key).inserted else {
                p.i = keyStart
                var error = p.failure("duplicate key \"\(key)\"")
                error.duplicateKey = (key, p.depth == 1)
                throw error
            }
            p.skipWhitespace()
            try p.expect(":")
            pairs.append((key, try p.parseValue()))
        }
        return .object(pairs)
    }

    private mutating func parseArray() throws -> JSONValue {
        var items: [JSONValue] = []
        try parseElements(close: "]", inside: "an array") { p in items.append(try p.parseValue()) }
        return .array(items)
    }

    /// From the opening bracket at i past the matching `close`: `element` for each element, the
    /// elements separated by commas; one level deeper, within `maxDepth`.
    private mutating func parseElements(close: Unicode.Scalar, inside what: String,
                                        _ element: (inout JSONParser) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth)") }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: close) { i += 1; return }
        while true {
            try element(&self)
            skipWhitespace()
            guard i < bytes.count else { throw failure("unexpected end inside \(what)") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: close) { i += 1; return }
            throw failure("expected ',' or '\(close)'")
        }
    }

    /// The header was already checked to be valid UTF-8, so raw bytes are copied
    /// through and only escapes need decoding.
    private mutating func parseString() throws -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw failure("unterminated string") }
            let c = bytes[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard i < bytes.count else { throw failure("unterminated string") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A high surrogate must be followed by an escaped low one.
                        try expect("\\u")
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw failure("unpaired surrogate")
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(code)!).utf8))
                default:
                    throw failure("invalid escape")
                }
            case 0..<0x20:
                throw failure("control character inside a string")
            default:
                out.append(c)
            }
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard bytes.count - i >= 4,
              let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
            throw failure("invalid \\u escape")
        }
        i += 4
        return v
    }

    /// Returns the number's text; callers convert (only integers are meaningful here).
    private mutating func parseNumber() throws -> String {
        let start = i
        func digits() -> Int {
            let s = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            return i - s
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        guard digits() > 0 else { throw failure("invalid number") }
        if bytes[intStart] == UInt8(ascii: "0"), i - intStart > 1 { throw failure("number with a leading zero") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw failure("invalid number") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw failure("invalid number") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }
}
