import AlaverifyBase
import Dispatch

/// The subject bootstrap of FAR and FRR at a fixed threshold.
///
/// A replicate draws S subjects with replacement (multiplicity m_s, the draws of
/// `SubjectBootstrap`); a genuine comparison of subject s weighs m_s and an impostor comparison
/// of (l, r) weighs m_l * m_r. FAR_b = accepted impostor weight / impostor weight, FRR_b =
/// rejected genuine weight / genuine weight (failures included), at the same threshold in every
/// replicate. The interval is the percentile interval of the replicates.
struct FixedThresholdBootstrap: Sendable {
    /// Per subject: genuine comparisons and the rejected ones.
    let genuineTotal: [Int], genuineRejected: [Int]
    /// Per ordered subject pair: its subjects, impostor comparisons and the accepted ones.
    let pairLeft: [Int32], pairRight: [Int32], pairTotal: [Int], pairAccepted: [Int]
    /// The subjects' identities in index order (the order of the multiplicities).
    let subjects: [Int32]
    var subjectCount: Int { subjects.count }

    /// Counts per subject and pair at the similarity-scale threshold `t` (accept iff score >= t).
    init<T: ScoreFloat>(_ s: SortedScores<T>, _ ids: SortedIdentities, threshold t: Double) {
        var index = [Int32: Int32]()
        func number(_ id: Int32) -> Int32 {
            if let k = index[id] { return k }
            let k = Int32(index.count)
            index[id] = k
            return k
        }
        // The same subject order as SubjectBootstrap: genuine subjects, then impostor sides.
        for p in ids.genuine + ids.failedGenuine { _ = number(unpackPair(p).0) }
        for p in ids.impostor + ids.failedImpostor {
            let (a, b) = unpackPair(p)
            _ = number(a)
            _ = number(b)
        }
        var total = [Int](repeating: 0, count: index.count), rejected = total
        for (j, p) in ids.genuine.enumerated() {
            let k = Int(index[unpackPair(p).0]!)
            total[k] += 1
            if Double(s.genuine[j]) < t { rejected[k] += 1 }
        }
        for p in ids.failedGenuine {
            let k = Int(index[unpackPair(p).0]!)
            total[k] += 1
            rejected[k] += 1
        }
        var pairs = [UInt64: (total: Int, accepted: Int)]()
        for (j, p) in ids.impostor.enumerated() {
            let (a, b) = unpackPair(p)
            let key = packPair(index[a]!, index[b]!)
            pairs[key, default: (0, 0)].total += 1
            if Double(s.impostor[j]) >= t { pairs[key, default: (0, 0)].accepted += 1 }
        }
        for p in ids.failedImpostor {
            let (a, b) = unpackPair(p)
            pairs[packPair(index[a]!, index[b]!), default: (0, 0)].total += 1
        }
        let entries = pairs.sorted { $0.key < $1.key }
        pairLeft = entries.map { unpackPair($0.key).0 }
        pairRight = entries.map { unpackPair($0.key).1 }
        pairTotal = entries.map(\.value.total)
        pairAccepted = entries.map(\.value.accepted)
        genuineTotal = total
        genuineRejected = rejected
        var order = [Int32](repeating: 0, count: index.count)
        for (id, k) in index { order[Int(k)] = id }
        subjects = order
    }

    /// FAR and FRR under subject multiplicities `m`; nil for a class with no weight.
    /// - Complexity: O(S + identity pairs).
    func rates(weights m: [Int]) -> (far: Double?, frr: Double?) {
        var wI = 0, accepted = 0, wG = 0, rejected = 0
        for j in pairLeft.indices {
            let w = m[Int(pairLeft[j])] * m[Int(pairRight[j])]
            wI += pairTotal[j] * w
            accepted += pairAccepted[j] * w
        }
        for s in genuineTotal.indices {
            wG += genuineTotal[s] * m[s]
            rejected += genuineRejected[s] * m[s]
        }
        return (wI > 0 ? Double(accepted) / Double(wI) : nil, wG > 0 ? Double(rejected) / Double(wG) : nil)
    }

    /// Percentile intervals of FAR and FRR over `replicates` replicates, run on all cores,
    /// identical for a seed; nil for a rate that fewer than 90% of the replicates can evaluate.
    func intervals(replicates: Int, level: Double, seed: UInt64) -> (far: ConfidenceInterval?, frr: ConfidenceInterval?) {
        let S = subjectCount
        var far = [Double](repeating: .nan, count: replicates), frr = far
        far.withUnsafeMutableBufferPointer { fa in
            frr.withUnsafeMutableBufferPointer { fr in
                let fab = fa.baseAddress!, frb = fr.baseAddress!
                DispatchQueue.concurrentPerform(iterations: replicates) { b in
                    var rng = SeededGenerator(seed: seed, stream: UInt64(b))
                    var m = [Int](repeating: 0, count: S)
                    for _ in 0..<S { m[rng.below(S)] += 1 }
                    let r = rates(weights: m)
                    fab[b] = r.far ?? .nan
                    frb[b] = r.frr ?? .nan
                }
            }
        }
        func percentile(_ values: [Double]) -> ConfidenceInterval? {
            let finite = values.filter { !$0.isNaN }.sorted()
            guard finite.count >= max(2, replicates * 9 / 10) else { return nil }
            let tail = (1 - level) / 2
            return ConfidenceInterval(
                lower: quantile(finite, tail), upper: quantile(finite, 1 - tail), level: level, method: "bootstrap-subjects",
                replicates: replicates)
        }
        return (percentile(far), percentile(frr))
    }
}
