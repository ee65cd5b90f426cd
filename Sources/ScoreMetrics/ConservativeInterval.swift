/// The Wilson bounds of a proportion `p` observed on `n` independent units (`(0, 1)` for n < 1).
/// - Complexity: O(1).
func wilsonBounds(_ p: Double, units n: Int, level: Double) -> (lower: Double, upper: Double) {
    guard n >= 1 else { return (0, 1) }
    let z = probit(1 - (1 - level) / 2)
    let nn = Double(n), z2 = z * z
    let denominator = 1 + z2 / nn
    let center = (p + z2 / (2 * nn)) / denominator
    let half = z * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot() / denominator
    return (max(0, center - half), min(1, center + half))
}

/// The range of target rates the conservative interval derives thresholds for: the Wilson
/// bounds of `rate` on `units` independent units.
func conservativeRateRange(_ rate: Double, units: Int, level: Double) -> (lower: Double, upper: Double) {
    wilsonBounds(rate, units: units, level: level)
}

/// The name the metrics JSON gives the conservative interval.
let conservativeMethod = "conservative"

extension SortedScores {
    /// The conservative interval of an operating point (`IntervalMethod.conservative`): Wilson
    /// bounds on independent units taken over the threshold's own range.
    ///
    /// Units are the impostor identity pairs (U_I) and the genuine identities (U_G) when
    /// identities are known, else the comparisons (nI, nG). For `frr@far=a`: [a-, a+] is the
    /// Wilson interval of a on U_I; t+ and t- are the thresholds the rule picks for the FAR
    /// targets a- and a+; the interval is [lower Wilson bound of FRR(t-) on U_G, upper Wilson bound
    /// of FRR(t+) on U_G] (FRR(t+) = 1 when a- is unreachable). `far@frr=b` mirrors it: [b-, b+]
    /// on U_G, thresholds for b- and b+, FAR bounds on U_I (FAR 1 when b- is unreachable, 0 when
    /// b+ lies beyond every genuine score).
    /// - Complexity: O(log n).
    func conservativeInterval(_ point: OperatingPoint, rule: ThresholdRule, level: Double, stats: IdentityStats?)
        -> ConfidenceInterval
    {
        let unitsI = stats?.impostorPairs ?? impostorCount
        let unitsG = stats?.genuineSubjects ?? genuineCount
        let bounds: (lower: Double, upper: Double)
        if point.metric.isFRRAtFAR {
            let range = conservativeRateRange(point.target, units: unitsI, level: level)
            let high = thresholdForFAR(range.lower, rule: rule).map { frr(at: $0) } ?? 1
            let low = thresholdForFAR(range.upper, rule: rule).map { frr(at: $0) } ?? 0
            bounds = (wilsonBounds(low, units: unitsG, level: level).lower, wilsonBounds(high, units: unitsG, level: level).upper)
        } else {
            let range = conservativeRateRange(point.target, units: unitsG, level: level)
            let high = thresholdForFRR(range.lower).map { far(at: $0) } ?? 1
            let low = thresholdForFRR(range.upper).map { far(at: $0) } ?? 0
            bounds = (wilsonBounds(low, units: unitsI, level: level).lower, wilsonBounds(high, units: unitsI, level: level).upper)
        }
        return ConfidenceInterval(lower: bounds.lower, upper: bounds.upper, level: level, method: conservativeMethod, replicates: nil)
    }

    private func frr(at t: T) -> Double { Double(counts(at: t).falseRejects) / Double(genuineCount) }
    private func far(at t: T) -> Double { Double(counts(at: t).falseAccepts) / Double(impostorCount) }
}
