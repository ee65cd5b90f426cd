/// A system's scores known through a first pass and its refinement: enough to compute every
/// metric the plan was made for exactly as `SortedScores` computes it on all the scores.
///
/// It answers, on the similarity scale, the impostor count at or above a threshold that is a
/// genuine score, lies in a refined bin or is `+inf`; and the impostor score of a rank when the
/// rank's bin was refined. `evaluate` reports the same `SystemMetrics`, bit for bit, as
/// `SortedScores(set).evaluate` on the scores the passes saw (intervals: `none`, `wilson`,
/// `conservative`).
public struct MergedScores: Sendable {
    let basis: MergeBasis
    let options: EvaluationOptions
    /// #I < distinct genuine key j, and #I == key j.
    let lessThanGenuine: [Int]
    let equalToGenuine: [Int]
    /// Per refined bin: suffix[k] = impostor scores of the bin with low 16 bits >= k (65,537 entries).
    let refined: [Int: [Int]]
    /// Distinct identity pairs per pair query (sets compacted, lists kept for thresholds).
    var pairSets: [PairQuery: (set: [UInt64], list: [(key: UInt32, pair: UInt64)])]

    /// Combines a plan's first pass with the refinement of all impostor scores; fails when the
    /// refinement did not count as many impostor scores as the first pass.
    public init(_ refinement: Refinement) throws(MergeError) {
        let plan = refinement.plan
        basis = plan.basis
        options = plan.options
        guard refinement.counted == basis.impostorCount else {
            throw MergeError(
                "the second pass counted \(refinement.counted) impostor scores, the first \(basis.impostorCount)",
                status: .dataError)
        }
        var less = [Int](repeating: 0, count: basis.distinctKeys.count)
        var running = 0
        for j in less.indices {
            running += Int(refinement.below[j])
            less[j] = running
            running += Int(refinement.equal[j])
        }
        lessThanGenuine = less
        equalToGenuine = refinement.equal.map { Int($0) }
        var refined = [Int: [Int]]()
        for (s, b) in plan.refinedBins.enumerated() {
            var suffix = [Int](repeating: 0, count: 65537)
            var acc = 0
            for k in stride(from: 65535, through: 0, by: -1) {
                acc += Int(refinement.keyCounts[s << 16 | k])
                suffix[k] = acc
            }
            guard acc == Int(basis.impostor.counts[b]) else {
                throw MergeError(
                    "bin \(b): the second pass counted \(acc) impostor scores, the first \(basis.impostor.counts[b])",
                    status: .dataError)
            }
            refined[b] = suffix
        }
        // The bins of -inf and +inf hold no other non-NaN key: their counts are exact as they are.
        for key in [scoreKey(-.infinity), scoreKey(.infinity)] {
            let b = Int(key >> 16), n = Int(basis.impostor.counts[b])
            guard refined[b] == nil, n > 0 else { continue }
            var suffix = [Int](repeating: 0, count: 65537)
            for k in 0...Int(key & 0xFFFF) { suffix[k] = n }
            refined[b] = suffix
        }
        self.refined = refined
        var sets = [PairQuery: (set: [UInt64], list: [(key: UInt32, pair: UInt64)])]()
        var r = refinement
        for (q, query) in plan.pairQueries.enumerated() { sets[query] = (r.pairSets[q].packed(), r.pairLists[q]) }
        pairSets = sets
    }

    var genuine: [Float] { basis.genuine }
    var genuineFailures: Int { basis.genuineFailures }
    var genuineCount: Int { basis.genuineCount }
    var impostorCount: Int { basis.impostorCount }
    var impostorFailures: Int { basis.impostor.failures }
    /// Non-NaN impostor scores.
    var m: Int { basis.impostorScores }

    /// Impostor scores `>= key`, or nil when the passes cannot tell.
    func impostors(atLeast key: UInt32) -> Int? {
        if key == scoreKey(.infinity) { return basis.impostor.positiveInfinities }
        if let j = genuineIndex(key) { return m - lessThanGenuine[j] }
        let b = Int(key >> 16)
        if let suffix = refined[b] { return basis.above[b] + suffix[Int(key & 0xFFFF)] }
        if key & 0xFFFF == 0 { return basis.impostorsFromBin(b) }
        return nil
    }

    /// The index of `key` among the distinct genuine keys, if it is one.
    func genuineIndex(_ key: UInt32) -> Int? {
        let b = Int(key >> 16)
        var lo = Int(basis.binStart[b]), hi = Int(basis.binStart[b + 1])
        while lo < hi {
            let mid = (lo + hi) >> 1
            if basis.distinctKeys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(basis.binStart[b + 1]) && basis.distinctKeys[lo] == key ? lo : nil
    }

    /// The key of the impostor score of rank r from the top (1-based: r = 1 is the maximum).
    func impostorKey(rank r: Int) throws(MergeError) -> UInt32 {
        let b = basis.binOfRank(r)
        guard let suffix = refined[b] else { throw unplanned("rank \(r)") }
        let within = r - basis.above[b]
        // The largest low part k with suffix[k] >= within.
        var lo = 0, hi = 65535
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if suffix[mid] >= within { lo = mid } else { hi = mid - 1 }
        }
        return UInt32(b) << 16 | UInt32(lo)
    }

    /// The smallest impostor key above `key` (whose bin must be refined if it holds impostor
    /// scores, like the next bin above with any), or nil when none is.
    func impostorKey(above key: UInt32) throws(MergeError) -> UInt32? {
        let b = Int(key >> 16)
        if let suffix = refined[b] {
            var k = Int(key & 0xFFFF) + 1
            while k < 65536 && suffix[k] == suffix[k + 1] { k += 1 }
            if k < 65536 { return UInt32(b) << 16 | UInt32(k) }
        } else if basis.impostor.counts[b] > 0 {
            throw unplanned("the impostor score above \(scoreValue(key))")
        }
        guard let up = basis.impostorBinAbove(b) else { return nil }
        return try lowestImpostorKey(inBin: up)
    }

    /// The lowest impostor key of a bin holding impostor scores (the bin must be refined).
    func lowestImpostorKey(inBin b: Int) throws(MergeError) -> UInt32 {
        guard let suffix = refined[b] else { throw unplanned("bin \(b)") }
        var k = 0
        while k < 65536 && suffix[k] == suffix[k + 1] { k += 1 }
        return UInt32(b) << 16 | UInt32(min(k, 65535))
    }

    /// False accepts and false rejects at a threshold key (similarity scale).
    func counts(atKey key: UInt32) throws(MergeError) -> (falseAccepts: Int, falseRejects: Int) {
        guard let fa = impostors(atLeast: key) else { throw unplanned("counts at \(scoreValue(key))") }
        return (fa, genuineFailures + basis.genuineBelow(key: key))
    }

    func unplanned(_ what: String) -> MergeError {
        MergeError("internal: the merge plan did not refine what \(what) needs", status: .internalError)
    }
}
