// A small tensor value: contiguous row-major Float storage with a shape.
// Layers write into preallocated tensors (`inout`), so a forward pass
// reuses its buffers instead of allocating.

public struct Tensor: Equatable, Sendable {
    /// Row-major shape, outermost first, e.g. (B, T, C).
    public private(set) var shape: [Int]
    /// `shape.reduce(1, *)` floats, row-major.
    public var storage: [Float]

    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == storage.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, storage: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor filled by `body(flatIndex)`.
    public init(shape: [Int], _ body: (Int) -> Float) {
        let n = shape.reduce(1, *)
        self.init(shape: shape, storage: (0..<n).map(body))
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var byteCount: Int { storage.count * MemoryLayout<Float>.stride }

    /// Same elements, new shape (element count must match).
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == storage.count,
                     "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        var t = self
        t.reshape(newShape)
        return t
    }

    /// Makes this tensor `newShape`, reallocating only when the element count
    /// outgrows the storage's capacity; contents are unspecified afterwards. This is
    /// the arena step: after the first call for a batch shape, later calls allocate
    /// nothing, even when one buffer takes maps of several sizes in turn (the blocks
    /// of an EfficientNet), where a fresh array per size would be page-faulted anew.
    public mutating func resize(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n < storage.count {
            storage.removeLast(storage.count - n)
        } else if n > storage.count {
            if n > storage.capacity { storage = [Float](repeating: 0, count: n) } else { storage.append(contentsOf: repeatElement(0, count: n - storage.count)) }
        }
        shape = newShape
    }

    /// Items `range` of the outermost dimension (images of a batch) into `out`, reusing its buffer.
    public func copyItems(_ range: Range<Int>, into out: inout Tensor) {
        precondition(!shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0], "items \(range) of \(shape)")
        let per = shape[0] == 0 ? 0 : count / shape[0]
        out.resize([range.count] + shape.dropFirst())
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                if per * range.count > 0 { dst.baseAddress!.update(from: src.baseAddress! + range.lowerBound * per, count: per * range.count) }
            }
        }
    }

    /// Writes `items` (k, …) over items start..<start+k of the outermost dimension.
    public mutating func setItems(_ start: Int, from items: Tensor) {
        precondition(!shape.isEmpty && Array(items.shape.dropFirst()) == Array(shape.dropFirst()) && start >= 0
                     && start + items.shape[0] <= shape[0], "cannot write \(items.shape) at item \(start) of \(shape)")
        let per = shape[0] == 0 ? 0 : count / shape[0]
        items.storage.withUnsafeBufferPointer { src in
            storage.withUnsafeMutableBufferPointer { dst in
                if src.count > 0 { (dst.baseAddress! + start * per).update(from: src.baseAddress!, count: src.count) }
            }
        }
    }

    @inlinable
    public subscript(flat i: Int) -> Float {
        get { storage[i] }
        set { storage[i] = newValue }
    }

    /// Rows of the last dimension, e.g. a (B, T, C) tensor has B*T rows of C.
    public var rows: Int { shape.isEmpty ? 1 : storage.count / Swift.max(shape.last!, 1) }
    public var lastDim: Int { shape.last ?? 1 }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)" }
}
