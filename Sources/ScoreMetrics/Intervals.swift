import AlaverifyBase
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

/// The subject bootstrap of one system: replicates draw S subjects with replacement
/// (multiplicity m_s); a genuine comparison of subject s weighs m_s, an impostor comparison of
/// subjects (l, r) weighs m_l * m_r, and the threshold is re-derived on the weighted counts
/// (`WeightedSubjects.value`, shared with the paired bootstrap of two systems).
struct SubjectBootstrap<T: ScoreFloat>: Sendable {
    let weighted: WeightedSubjects<T>
    let subjectCount: Int

    init(_ s: SortedScores<T>, _ ids: SortedIdentities) {
        let builder = WeightedSubjects<T>.builder(s)
        var index = [Int32: Int32]()
        for id in builder.rawSubjects where index[id] == nil { index[id] = Int32(index.count) }
        weighted = WeightedSubjects(s, index)
        subjectCount = index.count
    }

    /// Percentile interval over `replicates` replicates, run on all cores, identical for a seed.
    func interval(_ metric: Metric, rule: ThresholdRule, replicates: Int, level: Double, seed: UInt64)
        -> ConfidenceInterval?
    {
        let S = subjectCount
        var values = [Double](repeating: .nan, count: replicates)
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: replicates) { b in
                var rng = SeededGenerator(seed: seed, stream: UInt64(b))
                var m = [Int](repeating: 0, count: S)
                for _ in 0..<S { m[rng.below(S)] += 1 }
                base[b] = weighted.value(metric, rule: rule, weights: m) ?? .nan
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
