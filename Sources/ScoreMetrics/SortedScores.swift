/// Scores of one system sorted ascending on the similarity scale, failures removed and counted.
///
/// Distance scores are negated on entry, so every definition here reads "accept iff score >= t";
/// thresholds are converted back to the input's units when reported.
public struct SortedScores<T: ScoreFloat>: Sendable {
    /// Non-NaN genuine scores, ascending, `-0` stored as `+0`.
    public let genuine: [T]
    /// Non-NaN impostor scores, ascending, `-0` stored as `+0`.
    public let impostor: [T]
    /// Genuine comparisons that failed (NaN).
    public let genuineFailures: Int
    /// Impostor comparisons that failed (NaN).
    public let impostorFailures: Int
    /// The input's polarity.
    public let polarity: Polarity
    /// Identities aligned with the sorted arrays, when the input had them.
    let identities: SortedIdentities?

    /// nG: genuine comparisons, failures included.
    public var genuineCount: Int { genuine.count + genuineFailures }
    /// nI: impostor comparisons, failures included.
    public var impostorCount: Int { impostor.count + impostorFailures }

    /// Sorts a score set with radix passes on order-preserving keys.
    ///
    /// Without identities the sort runs in place on the set's arrays (no copy when the caller
    /// hands over the only reference); with identities it carries them along.
    /// - Complexity: O(n) for a fixed key width.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public init(_ set: consuming ScoreSet<T>) {
        polarity = set.polarity
        let negate = set.polarity == .distance
        if set.hasIdentities, let gi = set.genuineIdentities, let ii = set.impostorIdentities {
            let g = Self.sortedWithIdentities(set.genuine, gi, negate: negate)
            let i = Self.sortedWithIdentities(set.impostor, ii, negate: negate)
            genuine = g.values
            impostor = i.values
            genuineFailures = g.failed.count
            impostorFailures = i.failed.count
            identities = SortedIdentities(
                genuine: g.pairs, impostor: i.pairs, failedGenuine: g.failed, failedImpostor: i.failed)
        } else {
            var g = set.genuine
            var i = set.impostor
            set.genuine = []
            set.impostor = []
            genuineFailures = Self.prepare(&g, negate: negate)
            impostorFailures = Self.prepare(&i, negate: negate)
            Radix.sort(&g)
            Radix.sort(&i)
            genuine = g
            impostor = i
            identities = nil
        }
    }

    /// Removes NaNs in place (returning how many), negates for distance polarity.
    static func prepare(_ values: inout [T], negate: Bool) -> Int {
        var kept = 0
        values.withUnsafeMutableBufferPointer { v in
            for j in 0..<v.count {
                let x = v[j]
                if x.isNaN { continue }
                v[kept] = negate ? -x : x
                kept += 1
            }
        }
        let failures = values.count - kept
        values.removeLast(failures)
        return failures
    }

    static func sortedWithIdentities(_ values: [T], _ ids: ComparisonIdentities, negate: Bool)
        -> (values: [T], pairs: [UInt64], failed: [UInt64])
    {
        var keys = [T.Key]()
        var pairs = [UInt64]()
        var failed = [UInt64]()
        keys.reserveCapacity(values.count)
        pairs.reserveCapacity(values.count)
        for j in values.indices {
            let pair = packPair(ids.left[j], ids.right[j])
            var x = values[j]
            if x.isNaN { failed.append(pair); continue }
            if negate { x = -x }
            if x == 0 { x = 0 }
            keys.append(T.radixKey(x))
            pairs.append(pair)
        }
        Radix.sortPairs(&keys, &pairs)
        return (keys.map { T.fromRadixKey($0) }, pairs, failed)
    }

    /// Converts an internal (similarity-scale) threshold to the input's units.
    @inline(__always) public func reported(_ t: T) -> Double {
        // 0 - x and x + 0 turn a zero threshold into +0 on both paths.
        polarity == .distance ? 0 - Double(t) : Double(t) + 0
    }
}

/// Identity pairs of sorted comparisons, packed as `left << 32 | right` (UInt32 bit patterns).
struct SortedIdentities: Sendable {
    var genuine: [UInt64]
    var impostor: [UInt64]
    var failedGenuine: [UInt64]
    var failedImpostor: [UInt64]
}

@inline(__always) func packPair(_ a: Int32, _ b: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
}

@inline(__always) func unpackPair(_ p: UInt64) -> (Int32, Int32) {
    (Int32(bitPattern: UInt32(truncatingIfNeeded: p >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: p)))
}

/// The unordered identity pair of a packed pair, as a canonical packed value.
@inline(__always) func unorderedPair(_ p: UInt64) -> UInt64 {
    let (a, b) = unpackPair(p)
    return a <= b ? packPair(a, b) : packPair(b, a)
}

extension Radix {
    /// Sorts keys ascending and permutes `payload` along (LSD radix, 8 bits a pass).
    /// - Complexity: O(n * w / 8), 2n extra keys and payloads.
    static func sortPairs<K: FixedWidthInteger & UnsignedInteger>(_ keys: inout [K], _ payload: inout [UInt64]) {
        let n = keys.count
        guard n > 1 else { return }
        var k2 = [K](repeating: 0, count: n)
        var p2 = [UInt64](repeating: 0, count: n)
        let passes = K.bitWidth / 8
        for p in 0..<passes {
            let shift = K(p * 8)
            var counts = [Int](repeating: 0, count: 256)
            for k in keys { counts[Int(truncatingIfNeeded: k >> shift) & 255] += 1 }
            if counts.contains(n) { continue }
            var acc = 0
            for d in 0..<256 { let t = counts[d]; counts[d] = acc; acc += t }
            keys.withUnsafeBufferPointer { ks in
                payload.withUnsafeBufferPointer { ps in
                    k2.withUnsafeMutableBufferPointer { kd in
                        p2.withUnsafeMutableBufferPointer { pd in
                            for j in 0..<n {
                                let d = Int(truncatingIfNeeded: ks[j] >> shift) & 255
                                let at = counts[d]
                                kd[at] = ks[j]
                                pd[at] = ps[j]
                                counts[d] = at + 1
                            }
                        }
                    }
                }
            }
            swap(&keys, &k2)
            swap(&payload, &p2)
        }
    }
}

/// Index of the first element `>= value` in an ascending buffer.
@inline(__always) func lowerBound<T: Comparable>(_ a: UnsafeBufferPointer<T>, _ value: T) -> Int {
    var lo = 0, hi = a.count
    while lo < hi {
        let mid = (lo &+ hi) >> 1
        if a[mid] < value { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

/// Index of the first element `> value` in an ascending buffer.
@inline(__always) func upperBound<T: Comparable>(_ a: UnsafeBufferPointer<T>, _ value: T) -> Int {
    var lo = 0, hi = a.count
    while lo < hi {
        let mid = (lo &+ hi) >> 1
        if a[mid] <= value { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

extension Array where Element: Comparable {
    func lowerBound(_ value: Element) -> Int { withUnsafeBufferPointer { ScoreMetrics.lowerBound($0, value) } }
    func upperBound(_ value: Element) -> Int { withUnsafeBufferPointer { ScoreMetrics.upperBound($0, value) } }
}
