/// Counts of float32 scores over the top 16 bits of their order-preserving keys: 65,536 bins
/// whose edges are float32 values, so counts of scores `>= e` are exact at every bin edge `e`.
///
/// A bin holds the scores whose key (see `ScoreFloat`) shares its top 16 bits: the sign, the
/// exponent and the top 7 bits of the significand, a relative width of 1/128. `-0` counts as
/// `+0`; NaN (a failed comparison) is counted apart. Histograms of disjoint score sets add up to
/// the histogram of their union.
public struct RadixHistogram: Sendable, Equatable {
    /// The number of bins.
    public static let binCount = 1 << 16

    /// Non-NaN scores per bin (bin = key >> 16).
    public var counts: [UInt64]
    /// NaN scores (failed comparisons).
    public var failures: Int
    /// Scores equal to `-inf` (also counted in their bin).
    public var negativeInfinities: Int
    /// Scores equal to `+inf` (also counted in their bin).
    public var positiveInfinities: Int

    /// An empty histogram.
    public init() {
        counts = [UInt64](repeating: 0, count: Self.binCount)
        failures = 0
        negativeInfinities = 0
        positiveInfinities = 0
    }

    /// Creates a histogram from stored parts; `counts` must have `binCount` entries.
    public init(counts: [UInt64], failures: Int, negativeInfinities: Int, positiveInfinities: Int) {
        precondition(counts.count == Self.binCount, "a radix histogram has \(Self.binCount) bins, got \(counts.count)")
        self.counts = counts
        self.failures = failures
        self.negativeInfinities = negativeInfinities
        self.positiveInfinities = positiveInfinities
    }

    /// Counts one score.
    @inline(__always)
    public mutating func add(_ x: Float) {
        if x.isNaN { failures += 1; return }
        if x.isInfinite { if x < 0 { negativeInfinities += 1 } else { positiveInfinities += 1 } }
        counts[Int(scoreKey(x) >> 16)] &+= 1
    }

    /// Non-NaN scores counted.
    public var total: Int { counts.reduce(0) { $0 + Int($1) } }

    /// The sum of two histograms (of disjoint score sets).
    public static func + (a: RadixHistogram, b: RadixHistogram) -> RadixHistogram {
        var out = a
        out.add(b)
        return out
    }

    /// Adds another histogram's counts.
    public mutating func add(_ other: RadixHistogram) {
        counts.withUnsafeMutableBufferPointer { c in
            other.counts.withUnsafeBufferPointer { o in for j in 0..<c.count { c[j] &+= o[j] } }
        }
        failures += other.failures
        negativeInfinities += other.negativeInfinities
        positiveInfinities += other.positiveInfinities
    }
}

/// The order-preserving key of a non-NaN float32 score, `-0` keyed as `+0`.
@inline(__always) func scoreKey(_ x: Float) -> UInt32 {
    Float.radixKey(x == 0 ? 0 : x)
}

/// The float32 score of a key.
@inline(__always) func scoreValue(_ key: UInt32) -> Float {
    Float.fromRadixKey(key)
}

/// A set of unordered identity pairs that grows by appending and compacts by sorting, or a
/// bitmap over `bound x bound` pairs when the identities are small non-negative integers.
struct PairSet: Sendable {
    private var items: [UInt64] = []
    private var compacted = 0
    private var bitmap: [UInt64]
    private let bound: Int

    /// Identities in `0..<bound` use a bitmap when `bound * bound` bits fit in 8 MiB.
    init(identityBound: Int?) {
        if let b = identityBound, b > 0, b <= 8192 {
            bound = b
            bitmap = [UInt64](repeating: 0, count: (b * b + 63) / 64)
        } else {
            bound = 0
            bitmap = []
        }
    }

    /// Adds the unordered pair of identities `a` and `b`.
    @inline(__always)
    mutating func insert(_ a: Int32, _ b: Int32) {
        let lo = min(a, b), hi = max(a, b)
        if bound > 0, lo >= 0, Int(hi) < bound {
            let bit = Int(lo) * bound + Int(hi)
            bitmap[bit >> 6] |= 1 << UInt64(bit & 63)
            return
        }
        items.append(packPair(lo, hi))
        if items.count >= max(1 << 16, 2 * compacted) { compact() }
    }

    private mutating func compact() {
        items.sort()
        var kept = 0
        for j in items.indices where kept == 0 || items[j] != items[kept - 1] {
            items[kept] = items[j]
            kept += 1
        }
        items.removeLast(items.count - kept)
        compacted = kept
    }

    /// Adds every pair of another set (built with the same bound).
    mutating func formUnion(_ other: PairSet) {
        for j in bitmap.indices { bitmap[j] |= other.bitmap[j] }
        items += other.items
        compact()
    }

    /// The number of distinct pairs.
    mutating func count() -> Int {
        compact()
        return items.count + bitmap.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// The pairs as packed values (for sets that must be combined with loose pairs).
    mutating func packed() -> [UInt64] {
        compact()
        var out = items
        if bound > 0 {
            for (w, word) in bitmap.enumerated() where word != 0 {
                for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                    let index = w * 64 + bit
                    out.append(packPair(Int32(index / bound), Int32(index % bound)))
                }
            }
        }
        return out
    }
}
