import ScoreMetrics

/// The tail of the impostor score distribution a training step can see: the batch's impostor
/// pairs and the batch against a cross-batch memory of recent embeddings.
///
///     tail = mean of the k largest impostor similarities, k = ceil(fraction * impostor pairs)
///
/// (the conditional value at risk of impostor similarities above their `1 - fraction` quantile).
/// Pushing it down acts where a low-FAR operating point's threshold is set: with `fraction` tied
/// to the target FAR a (e.g. 10 a), a 256-sample batch against 8,192 remembered embeddings has
/// about 2.1M impostor pairs, so at a = 1e-4 the term averages about 2,100 pairs above the
/// batch's 1e-3 quantile. Ties at the k-th value are taken in scan order (batch pairs first).
public final class ImpostorTail {
    /// The share of impostor pairs averaged (0, 1].
    public let fraction: Double
    /// Recent embeddings (detached) and their labels.
    public let memory: CrossBatchMemory
    private let batchSimilarities = Tensor()
    private let memorySimilarities = Tensor()
    private var keys: [UInt32] = []
    private var histogram: [Int] = Array(repeating: 0, count: 1 << 16)
    /// Selected pairs: row i, column j (a batch index, or a memory index when `fromMemory`).
    private var selectedRows: [Int32] = []
    private var selectedColumns: [Int32] = []
    private var selectedFromMemory: [Bool] = []
    /// Impostor pairs seen and pairs averaged at the last `compute`.
    public private(set) var lastPairs = 0
    public private(set) var lastCount = 0
    /// The k-th largest impostor similarity at the last `compute` (the tail's edge).
    public private(set) var lastEdge: Float = .nan

    /// Creates the term with a memory of `memoryCapacity` embeddings.
    public init(fraction: Double, memoryCapacity: Int) {
        precondition(fraction > 0 && fraction <= 1 && memoryCapacity > 0)
        self.fraction = fraction
        memory = CrossBatchMemory(capacity: memoryCapacity)
    }

    /// Order-preserving unsigned key of a float (larger float, larger key).
    @inline(__always) static func key(_ f: Float) -> UInt32 {
        let b = f.bitPattern
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// The key of the k-th largest of `keys[0..<count]` (k in 1...count), by a two-level radix
    /// selection on 16-bit digits. - Complexity: O(count + 2^16).
    func kthLargestKey(_ count: Int, k: Int) -> UInt32 {
        keys.withUnsafeBufferPointer { keys in
            histogram.withUnsafeMutableBufferPointer { h in
                h.update(repeating: 0)
                for i in 0..<count { h[Int(keys[i] >> 16)] += 1 }
                var remaining = k, high = 0xFFFF
                while h[high] < remaining { remaining -= h[high]; high -= 1 }
                h.update(repeating: 0)
                for i in 0..<count where Int(keys[i] >> 16) == high { h[Int(keys[i] & 0xFFFF)] += 1 }
                var low = 0xFFFF
                while h[low] < remaining { remaining -= h[low]; low -= 1 }
                return UInt32(high) << 16 | UInt32(low)
            }
        }
    }

    /// The tail of the impostor similarities of unit-norm `e` `[n, d]` (labels `y`); adds
    /// `weight * d(tail)/d(e)` to `gradient` `[n, d]` and returns the tail (not weighted).
    public func compute(embeddings e: Tensor, labels y: [Int32], weight: Float, gradient: Tensor) -> Float {
        let n = e.shape.n, d = e.shape.rowSize
        let m = memory.count
        precondition(m == 0 || memory.dimension == d, "memory holds \(memory.dimension)-d embeddings, got \(d)")
        batchSimilarities.reshape(Shape(n, n))
        BLAS.gemm(transB: true, m: n, n: n, k: d, e.pointer, lda: d, e.pointer, ldb: d, batchSimilarities.pointer, ldc: n)
        if m > 0 {
            memorySimilarities.reshape(Shape(n, m))
            BLAS.gemm(transB: true, m: n, n: m, k: d, e.pointer, lda: d, memory.embeddings.pointer, ldb: d,
                      memorySimilarities.pointer, ldc: m)
        }
        let (B, M) = (batchSimilarities.pointer, memorySimilarities.pointer)
        // Keys of every impostor pair, batch pairs (i < j) first, then batch x memory.
        let capacity = n * (n - 1) / 2 + n * m
        if keys.count < capacity { keys = [UInt32](repeating: 0, count: capacity) }
        var pairs = 0
        keys.withUnsafeMutableBufferPointer { keys in
            memory.labels.withUnsafeBufferPointer { ym in
                for i in 0..<n {
                    for j in (i + 1)..<max(n, i + 1) where y[i] != y[j] { keys[pairs] = ImpostorTail.key(B[i * n + j]); pairs += 1 }
                }
                for i in 0..<n {
                    let row = M + i * m, yi = y[i]
                    for j in 0..<m where ym[j] != yi { keys[pairs] = ImpostorTail.key(row[j]); pairs += 1 }
                }
            }
        }
        lastPairs = pairs
        guard pairs > 0 else { lastCount = 0; lastEdge = .nan; return 0 }
        let k = min(pairs, max(1, Int((fraction * Double(pairs)).rounded(.up))))
        let edge = kthLargestKey(pairs, k: k)
        // Every pair above the edge, and pairs at the edge in scan order until there are k.
        var above = 0
        keys.withUnsafeBufferPointer { keys in for i in 0..<pairs where keys[i] > edge { above += 1 } }
        var atEdge = k - above
        selectedRows.removeAll(keepingCapacity: true)
        selectedColumns.removeAll(keepingCapacity: true)
        selectedFromMemory.removeAll(keepingCapacity: true)
        var sum = 0.0
        @inline(__always) func consider(_ s: Float, _ i: Int, _ j: Int, _ fromMemory: Bool) {
            let key = ImpostorTail.key(s)
            guard key > edge || (key == edge && atEdge > 0) else { return }
            if key == edge { atEdge -= 1 }
            selectedRows.append(Int32(i))
            selectedColumns.append(Int32(j))
            selectedFromMemory.append(fromMemory)
            sum += Double(s)
        }
        memory.labels.withUnsafeBufferPointer { ym in
            for i in 0..<n {
                for j in (i + 1)..<max(n, i + 1) where y[i] != y[j] { consider(B[i * n + j], i, j, false) }
            }
            for i in 0..<n {
                let row = M + i * m, yi = y[i]
                for j in 0..<m where ym[j] != yi { consider(row[j], i, j, true) }
            }
        }
        lastCount = selectedRows.count
        lastEdge = Float(bitPattern: edge & 0x8000_0000 != 0 ? edge & 0x7FFF_FFFF : ~edge)
        if weight != 0 {
            let c = weight / Float(lastCount)
            let (g, ep, mp) = (gradient.pointer, e.pointer, memory.embeddings.pointer)
            for t in 0..<lastCount {
                let i = Int(selectedRows[t]), j = Int(selectedColumns[t])
                if selectedFromMemory[t] {
                    for q in 0..<d { g[i * d + q] += c * mp[j * d + q] }
                } else {
                    for q in 0..<d {
                        g[i * d + q] += c * ep[j * d + q]
                        g[j * d + q] += c * ep[i * d + q]
                    }
                }
            }
        }
        return Float(sum / Double(lastCount))
    }
}

extension ImpostorTail {
    /// `kthLargestKey` on given keys (for tests).
    func kthLargestKeyForTesting(_ given: [UInt32], k: Int) -> UInt32 {
        if keys.count < given.count { keys = [UInt32](repeating: 0, count: given.count) }
        for (i, v) in given.enumerated() { keys[i] = v }
        return kthLargestKey(given.count, k: k)
    }
}
