// An LRU cache of model outputs keyed by the exact input, in front of any
// model: a hit returns the stored output without running the model.
import InfCore

public final class PredictionCache<Key: Hashable> {
    private struct Entry {
        var key: Key
        var value: Tensor
        var newer: Int   // towards the most recently used; -1 at the head
        var older: Int   // towards the least recently used; -1 at the tail
    }

    public let capacity: Int
    private var index: [Key: Int] = [:]
    private var entries: [Entry] = []
    private var head = -1 // most recently used
    private var tail = -1 // least recently used
    public private(set) var hits = 0
    public private(set) var misses = 0
    /// Bytes of the stored outputs (the keys and bookkeeping are not counted).
    public private(set) var valueBytes = 0

    public init(capacity: Int) {
        precondition(capacity >= 1, "a prediction cache holds at least one entry")
        self.capacity = capacity
    }

    public var count: Int { index.count }

    /// The cached output for `key`, or `compute()`'s, stored as most recently used
    /// (evicting the least recently used entry when full).
    public func value(for key: Key, compute: () -> Tensor) -> Tensor {
        if let i = index[key] {
            hits += 1
            moveToHead(i)
            return entries[i].value
        }
        misses += 1
        let value = compute()
        if entries.count < capacity {
            entries.append(Entry(key: key, value: value, newer: -1, older: -1))
            link(entries.count - 1)
        } else {
            // Reuse the least recently used slot.
            let i = tail
            unlink(i)
            index[entries[i].key] = nil
            valueBytes -= entries[i].value.byteCount
            entries[i].key = key
            entries[i].value = value
            link(i)
        }
        index[key] = head
        valueBytes += value.byteCount
        return value
    }

    private func link(_ i: Int) {
        entries[i].newer = -1
        entries[i].older = head
        if head >= 0 { entries[head].newer = i }
        head = i
        if tail < 0 { tail = i }
    }

    private func unlink(_ i: Int) {
        let (newer, older) = (entries[i].newer, entries[i].older)
        if newer >= 0 { entries[newer].older = older } else { head = older }
        if older >= 0 { entries[older].newer = newer } else { tail = newer }
    }

    private func moveToHead(_ i: Int) {
        guard head != i else { return }
        unlink(i)
        link(i)
    }
}
