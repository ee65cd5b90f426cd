/// The second pass of a merge: every impostor score is counted against the plan. Parts of the
/// impostor scores (shards, blocks, threads) each fill a `Refinement`; refinements add up.
///
/// It counts the impostor scores below and equal to every distinct genuine score (what ROC AUC,
/// average precision, ROCCH-EER and FAR at a genuine threshold need), the scores of the planned
/// bins key by key (thresholds inside a bin, the EER crossing, a partial AUC's points), and the
/// identity pairs above thresholds.
public struct Refinement: Sendable {
    let plan: MergePlan
    /// below[j]: impostor scores between distinct genuine keys j-1 and j (exclusive); the last
    /// entry counts those above every genuine score.
    var below: [UInt64]
    /// equal[j]: impostor scores equal to distinct genuine key j.
    var equal: [UInt64]
    /// Per planned bin (in `plan.refinedBins` order), counts by the low 16 bits of the key.
    var keyCounts: [UInt64]
    /// Bin -> index in `plan.refinedBins`, or -1.
    private let slot: [Int32]
    /// Per pair query: pairs with a key at or above `fromKey`.
    var pairSets: [PairSet]
    /// Per pair query with a `listBin`: (key, packed unordered pair) of that bin's scores.
    var pairLists: [[(key: UInt32, pair: UInt64)]]
    private let lowestPairKey: UInt64
    /// Impostor scores counted (NaN included), to check against the first pass.
    public private(set) var counted = 0

    /// An empty refinement for `plan`.
    public init(_ plan: MergePlan) {
        self.plan = plan
        let distinct = plan.basis.distinctKeys.count
        below = [UInt64](repeating: 0, count: distinct + 1)
        equal = [UInt64](repeating: 0, count: distinct)
        keyCounts = [UInt64](repeating: 0, count: plan.refinedBins.count << 16)
        var slot = [Int32](repeating: -1, count: RadixHistogram.binCount)
        for (s, b) in plan.refinedBins.enumerated() { slot[b] = Int32(s) }
        self.slot = slot
        pairSets = plan.pairQueries.map { _ in PairSet(identityBound: plan.basis.identityBound) }
        pairLists = plan.pairQueries.map { _ in [] }
        lowestPairKey = plan.pairQueries.map { $0.listBin.map { UInt64($0) << 16 } ?? $0.fromKey }.min() ?? .max
    }

    /// Counts one impostor score with the identities of its comparison.
    /// - Complexity: O(log g) for g distinct genuine scores in the score's bin, O(q) above the
    ///   lowest identity-pair threshold for q pair queries.
    @inline(__always)
    public mutating func add(_ x: Float, left: Int32, right: Int32) {
        counted += 1
        if x.isNaN { return }
        let key = scoreKey(x)
        let bin = Int(key >> 16)
        plan.basis.distinctKeys.withUnsafeBufferPointer { v in
            plan.basis.binStart.withUnsafeBufferPointer { start in
                var lo = Int(start[bin]), hi = Int(start[bin + 1])
                while lo < hi {
                    let mid = (lo &+ hi) >> 1
                    if v[mid] < key { lo = mid + 1 } else { hi = mid }
                }
                if lo < v.count && v[lo] == key { equal[lo] &+= 1 } else { below[lo] &+= 1 }
            }
        }
        let s = slot[bin]
        if s >= 0 { keyCounts[Int(s) << 16 | Int(key & 0xFFFF)] &+= 1 }
        if UInt64(key) >= lowestPairKey { addPair(key, bin, left, right) }
    }

    private mutating func addPair(_ key: UInt32, _ bin: Int, _ left: Int32, _ right: Int32) {
        for (q, query) in plan.pairQueries.enumerated() {
            if UInt64(key) >= query.fromKey {
                pairSets[q].insert(left, right)
            } else if query.listBin == bin {
                pairLists[q].append((key, packPair(min(left, right), max(left, right))))
            }
        }
    }

    /// Adds another refinement of the same plan (another part of the impostor scores).
    public mutating func add(_ other: Refinement) {
        func sum(_ a: inout [UInt64], _ b: [UInt64]) {
            a.withUnsafeMutableBufferPointer { x in b.withUnsafeBufferPointer { y in for j in 0..<x.count { x[j] &+= y[j] } } }
        }
        sum(&below, other.below)
        sum(&equal, other.equal)
        sum(&keyCounts, other.keyCounts)
        for q in pairSets.indices {
            pairSets[q].formUnion(other.pairSets[q])
            pairLists[q] += other.pairLists[q]
        }
        counted += other.counted
    }
}
