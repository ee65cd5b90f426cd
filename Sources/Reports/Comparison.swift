import ScoreMetrics

/// How a system differs from the report's first system at one operating point: the difference
/// of the values on the full data and its paired subject-bootstrap interval (both systems'
/// thresholds re-derived on the same resampled identities in every replicate).
public struct SystemDifference: Sendable {
    /// The operating point (`frr@far` or `far@frr`).
    public var metric: Metric
    /// The first system's name.
    public var reference: String
    /// This system's name.
    public var system: String
    /// The reference's and this system's values on the full data.
    public var values: (reference: Double, system: Double)?
    /// This system's value minus the reference's.
    public var difference: Double? { values.map { $0.system - $0.reference } }
    /// The interval of the difference; nil when it could not be computed (see `note`).
    public var interval: ConfidenceInterval?
    /// Why there is no interval (no identities, an unreachable target, ...).
    public var note: String?

    /// The paired differences of every system after the first from the first, at every operating
    /// point of `metrics`, with `replicates` seeded replicates at `level`.
    /// - Complexity: O(B * (S + n)) per system and metric for B replicates, S subjects and n comparisons.
    public static func compute(
        _ systems: [(name: String, scores: AnyScoreSet)], metrics: [Metric], rule: ThresholdRule, level: Double,
        replicates: Int, seed: UInt64
    ) -> [SystemDifference] {
        guard let first = systems.first else { return [] }
        var out = [SystemDifference]()
        for metric in metrics where metric.isOperatingPoint {
            for other in systems.dropFirst() {
                var d = SystemDifference(metric: metric, reference: first.name, system: other.name)
                do {
                    let paired = try PairedReplicates.run(
                        baseline: first.scores, candidate: other.scores, metric: metric, rule: rule, replicates: replicates, seed: seed)
                    d.values = (paired.baseline, paired.candidate)
                    d.interval = paired.differenceInterval(level: level)
                } catch {
                    d.note = error.description
                }
                out.append(d)
            }
        }
        return out
    }

    /// Whether the interval excludes 0 (nil without an interval).
    public var resolved: Bool? { interval.map { $0.lower > 0 || $0.upper < 0 } }

    /// One line, rates in percent and differences in percentage points: `frr@far=0.001: ala 61.2%
    /// vs fixed 64.3%: -3.10 points, 95% CI [-6.02, -0.41] (paired subject bootstrap, 1000
    /// replicates): the CI excludes 0 (ala lower)`.
    public var line: String {
        let head = "\(metric): \(system)"
        guard let values, let difference, let interval, let resolved else {
            return "\(head) vs \(reference): not compared (\(note ?? "no interval"))"
        }
        let level = Int((interval.level * 100).rounded())
        let verdict = resolved
            ? "the CI excludes 0 (\(system) \(difference < 0 ? "lower" : "higher"))"
            : "the CI contains 0 (no difference resolved)"
        return "\(head) \(percent(values.system)) vs \(reference) \(percent(values.reference)): \(points(difference)) points, \(level)% CI [\(points(interval.lower)), \(points(interval.upper))] (paired subject bootstrap, \(interval.replicates ?? 0) replicates): \(verdict)"
    }

    private func points(_ x: Double) -> String { String(format: "%+.2f", x * 100) }
}
