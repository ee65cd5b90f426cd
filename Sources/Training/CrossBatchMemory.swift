/// A ring buffer of recent (detached) embeddings and their labels (cross-batch memory,
/// Wang et al. 2020), so each step compares the batch with many more impostors.
public final class CrossBatchMemory {
    /// Maximum number of stored embeddings.
    public let capacity: Int
    /// Stored embeddings (at most `capacity`).
    public private(set) var count = 0
    /// The embedding dimension (0 until the first enqueue).
    public private(set) var dimension = 0
    /// The next slot to overwrite.
    public private(set) var head = 0
    /// `[capacity, dimension]`; rows `0..<count` are valid.
    public let embeddings = Tensor()
    /// Labels of the stored rows.
    public private(set) var labels: [Int32]

    /// An empty memory.
    public init(capacity: Int) {
        precondition(capacity > 0, "memory capacity must be positive")
        self.capacity = capacity
        labels = [Int32](repeating: 0, count: capacity)
    }

    /// Appends the rows of `batch`, overwriting the oldest entries when full.
    public func enqueue(_ batch: Tensor, labels batchLabels: [Int32]) {
        let d = batch.shape.rowSize
        if dimension == 0 {
            dimension = d
            embeddings.reshape(Shape(capacity, d))
        }
        precondition(d == dimension, "memory holds \(dimension)-d embeddings, got \(d)")
        for r in 0..<batch.shape.n {
            (embeddings.pointer + head * d).update(from: batch.pointer + r * d, count: d)
            labels[head] = batchLabels[r]
            head = (head + 1) % capacity
            count = min(count + 1, capacity)
        }
    }

    /// Empties the memory.
    public func clear() { count = 0; head = 0 }

    var state: (floats: [NamedArray], integers: [NamedIntegers]) {
        ([NamedArray(name: "memory/embeddings", shape: [count, dimension], values: Array(embeddings.buffer.prefix(count * dimension)))],
         [NamedIntegers(name: "memory/labels", shape: [count], values: labels.prefix(count).map(Int64.init)),
          NamedIntegers(name: "memory/position", shape: [3], values: [Int64(count), Int64(head), Int64(dimension)])])
    }

    func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError) {
        guard let e = floats.first(where: { $0.name == "memory/embeddings" }),
              let l = integers.first(where: { $0.name == "memory/labels" }),
              let p = integers.first(where: { $0.name == "memory/position" }), p.values.count == 3
        else { throw .stateMismatch("cross-batch memory state missing") }
        let (c, h, d) = (Int(p.values[0]), Int(p.values[1]), Int(p.values[2]))
        guard c <= capacity, h < capacity, l.values.count == c, e.values.count == c * d else {
            throw .stateMismatch("cross-batch memory of \(c) rows does not fit capacity \(capacity)")
        }
        count = c
        head = h
        dimension = d
        if d > 0 {
            embeddings.reshape(Shape(capacity, d))
            e.values.withUnsafeBufferPointer { embeddings.pointer.update(from: $0.baseAddress!, count: c * d) }
        }
        for i in 0..<c { labels[i] = Int32(l.values[i]) }
    }
}
