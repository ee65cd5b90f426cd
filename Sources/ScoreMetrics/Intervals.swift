import Dispatch

/// The Wilson score interval for a proportion k/n at coverage `level`.
/// - Complexity: O(1).
public func wilsonInterval(successes k: Int, trials n: Int, level: Double = 0.95) -> ConfidenceInterval {
    precondition(n > 0 && k >= 0 && k <= n)
    let z = probit(1 - (1 - level) / 2)
    let nn = Double(n), p = Double(k) / nn
    let z2 = z * z
    let denominator = 1 + z2 / nn
    let center = (p + z2 / (2 * nn)) / denominator
    let half = z * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot() / denominator
    return ConfidenceInterval(
        lower: max(0, center - half), upper: min(1, center + half), level: level, method: "wilson", replicates: nil)
}

/// The q-quantile of ascending `sorted` values with linear interpolation (numpy's default).
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let lo = Int(position.rounded(.down))
    let hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
}

/// Comparisons of one system re-indexed by dense subject numbers, ready for resampling.
///
/// A replicate draws S subjects with replacement (multiplicity m_s); a genuine comparison of
/// subject s weighs m_s, an impostor comparison of subjects (l, r) weighs m_l * m_r.
struct SubjectBootstrap<T: ScoreFloat>: Sendable {
    let subjectCount: Int
    /// Sorted genuine scores with their subject.
    let genuine: [T]
    let genuineSubject: [Int32]
    /// Failed genuine comparisons per subject.
    let failedGenuine: [Int]
    /// All genuine comparisons (failures included) per subject.
    let genuinePerSubject: [Int]
    /// Sorted impostor scores with their subjects.
    let impostor: [T]
    let impostorLeft: [Int32]
    let impostorRight: [Int32]
    /// Impostor comparisons (failures included) per distinct ordered subject pair.
    let pairLeft: [Int32]
    let pairRight: [Int32]
    let pairCount: [Int]

    init(_ s: SortedScores<T>, _ ids: SortedIdentities) {
        var dense = [Int32: Int32]()
        func index(_ id: Int32) -> Int32 {
            if let d = dense[id] { return d }
            let d = Int32(dense.count)
            dense[id] = d
            return d
        }
        genuineSubject = ids.genuine.map { index(unpackPair($0).0) }
        let failedG = ids.failedGenuine.map { index(unpackPair($0).0) }
        var left = [Int32](), right = [Int32]()
        left.reserveCapacity(ids.impostor.count)
        right.reserveCapacity(ids.impostor.count)
        var pairs = [UInt64: Int]()
        for p in ids.impostor {
            let (a, b) = unpackPair(p)
            let l = index(a), r = index(b)
            left.append(l)
            right.append(r)
            pairs[packPair(l, r), default: 0] += 1
        }
        for p in ids.failedImpostor {
            let (a, b) = unpackPair(p)
            pairs[packPair(index(a), index(b)), default: 0] += 1
        }
        subjectCount = dense.count
        var failed = [Int](repeating: 0, count: dense.count)
        for s in failedG { failed[Int(s)] += 1 }
        var perSubject = failed
        for s in genuineSubject { perSubject[Int(s)] += 1 }
        failedGenuine = failed
        genuinePerSubject = perSubject
        genuine = s.genuine
        impostor = s.impostor
        impostorLeft = left
        impostorRight = right
        let entries = pairs.sorted { $0.key < $1.key }
        pairLeft = entries.map { unpackPair($0.key).0 }
        pairRight = entries.map { unpackPair($0.key).1 }
        pairCount = entries.map { $0.value }
    }

    /// One replicate's value of an operating point, or nil when the replicate cannot reach it.
    func replicate(_ metric: Metric, rule: ThresholdRule, rng: inout SeededGenerator) -> Double? {
        let S = subjectCount
        var m = [Int](repeating: 0, count: S)
        for _ in 0..<S { m[rng.below(S)] += 1 }
        var wI = 0, wG = 0
        for j in pairLeft.indices { wI += pairCount[j] * m[Int(pairLeft[j])] * m[Int(pairRight[j])] }
        for s in 0..<S { wG += genuinePerSubject[s] * m[s] }
        guard wI > 0, wG > 0 else { return nil }
        var failedWeight = 0
        for s in 0..<S { failedWeight += failedGenuine[s] * m[s] }

        switch metric {
        case .frrAtFAR(let a):
            let limit = a * Double(wI)
            // Walk impostor groups from the top; v is the first value whose inclusion breaks FAR <= a.
            var cumulative = 0
            var j = impostor.count
            var v: T? = nil
            var lastPositive: T = .infinity  // smallest impostor value with weight above v so far
            while j > 0 {
                let value = impostor[j - 1]
                var groupWeight = 0
                while j > 0 && impostor[j - 1] == value {
                    groupWeight += m[Int(impostorLeft[j - 1])] * m[Int(impostorRight[j - 1])]
                    j -= 1
                }
                if groupWeight == 0 { continue }
                if Double(cumulative + groupWeight) > limit { v = value; break }
                cumulative += groupWeight
                lastPositive = value
            }
            var rejected = failedWeight
            if let v {
                if v == .infinity { return nil }
                // roc: t is the smallest observed score above v, so FR counts genuine <= v.
                // impostor: t is the smallest weighted impostor score above v.
                var k = 0
                while k < genuine.count {
                    let g = genuine[k]
                    if rule == .roc ? g > v : g >= lastPositive { break }
                    rejected += m[Int(genuineSubject[k])]
                    k += 1
                }
            } else if rule == .impostor {
                var k = 0
                while k < genuine.count && genuine[k] < lastPositive {
                    rejected += m[Int(genuineSubject[k])]
                    k += 1
                }
            }
            return Double(rejected) / Double(wG)
        case .farAtFRR(let b):
            let limit = b * Double(wG)
            if Double(failedWeight) > limit { return nil }
            var cumulative = failedWeight
            var k = 0
            var t: T? = nil
            while k < genuine.count {
                let value = genuine[k]
                var groupWeight = 0
                while k < genuine.count && genuine[k] == value {
                    groupWeight += m[Int(genuineSubject[k])]
                    k += 1
                }
                if groupWeight == 0 { continue }
                if Double(cumulative + groupWeight) > limit { t = value; break }
                cumulative += groupWeight
            }
            guard let t else { return nil }
            var accepted = 0
            var j = impostor.count
            while j > 0 && impostor[j - 1] >= t {
                accepted += m[Int(impostorLeft[j - 1])] * m[Int(impostorRight[j - 1])]
                j -= 1
            }
            return Double(accepted) / Double(wI)
        default:
            return nil
        }
    }

    /// Percentile interval over `replicates` replicates, run on all cores, identical for a seed.
    func interval(_ metric: Metric, rule: ThresholdRule, replicates: Int, level: Double, seed: UInt64)
        -> ConfidenceInterval?
    {
        var values = [Double](repeating: .nan, count: replicates)
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: replicates) { b in
                var rng = SeededGenerator(seed: seed, stream: UInt64(b))
                base[b] = replicate(metric, rule: rule, rng: &rng) ?? .nan
            }
        }
        let finite = values.filter { !$0.isNaN }.sorted()
        // Too many unreachable replicates make the percentiles meaningless.
        guard finite.count >= max(2, replicates * 9 / 10) else { return nil }
        let tail = (1 - level) / 2
        return ConfidenceInterval(
            lower: quantile(finite, tail), upper: quantile(finite, 1 - tail), level: level,
            method: "bootstrap-subjects", replicates: replicates)
    }
}
