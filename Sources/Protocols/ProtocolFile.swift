import SampleData
import ScoreMetrics

/// An evaluation protocol (SPEC section 6): the data, how it becomes comparisons, what to
/// report, and the gates a system must pass.
///
/// Paths are resolved relative to the protocol file's folder when the file is loaded.
public struct EvaluationProtocol: Sendable {
    /// The protocol file as given.
    public var file: String
    /// The protocol's name; baselines record it.
    public var name: String
    /// Free text.
    public var description: String?
    /// The samples file (`data:`), resolved; read by `train`/`score`, not by `gate`.
    public var data: String?
    /// Score files gated when the command line names none (`scores:`), resolved.
    public var scores: [String]
    /// Score file format (`format:`), `auto` unless given.
    public var format: ScoreFileFormat
    /// Score polarity (`polarity:`).
    public var polarity: Polarity
    /// How identities are split (`split:`).
    public var split: IdentitySplit?
    /// How samples are paired into comparisons (`pairs:`).
    public var pairs: PairFormation?
    /// Multi-sample enrolment templates (`templates:`); nil means single samples.
    public var templates: TemplateFormation?
    /// Metrics to report (`report:`).
    public var report: [Metric]
    /// Threshold rule for `frr@far` (`threshold_rule:`).
    public var thresholdRule: ThresholdRule
    /// Bootstrap settings (`intervals:`).
    public var intervals: IntervalSettings
    /// The baseline metrics JSON or score file (`baseline:`), resolved.
    public var baseline: String?
    /// The development score file gates take thresholds from (`dev:`), resolved.
    public var dev: String? = nil
    /// The model file (or run folder) gates take recorded thresholds from (`model:`), resolved.
    public var model: String? = nil
    /// The gates, in file order.
    public var gates: [Gate]

    /// Every metric the protocol reports or gates on, in first-mention order.
    public var metrics: [Metric] {
        var seen = Set<Metric>()
        return (report + gates.map(\.metric)).filter { seen.insert($0).inserted }
    }

    /// True when some gate compares against a baseline or takes its threshold from one.
    public var needsBaseline: Bool { gates.contains { $0.isRegression || $0.fixed?.source == .baseline } }
}

/// Seeded, identity-disjoint split of a samples file (`split:`).
public struct IdentitySplit: Sendable, Equatable {
    /// Seed of the identity shuffle.
    public var seed: UInt64
    /// Fractions of identities for training, validation and test; they sum to 1.
    public var train: Double
    public var validation: Double
    public var test: Double
    /// The part that is scored and gated (`evaluate:`), `test` unless given.
    public var evaluate: Part

    /// A part of the split.
    public enum Part: String, Sendable, CaseIterable { case train, validation, test }
}

/// How comparisons are formed from samples (`pairs:`).
public struct PairFormation: Sendable, Equatable {
    /// `generate` forms pairs from the (split) samples; `file` uses the file's `/pairs` list.
    public var source: Source
    /// Genuine comparisons.
    public var genuine: PairCount
    /// Impostor comparisons.
    public var impostor: PairCount
    /// Seed of the sampling, required when a count samples.
    public var seed: UInt64?

    /// Where the pairs come from.
    public enum Source: String, Sendable, CaseIterable { case generate, file }
}

/// A number of comparisons of one class.
public enum PairCount: Sendable, Equatable, CustomStringConvertible {
    /// Every pair.
    case all
    /// A seeded sample of this many pairs.
    case count(Int)
    /// A seeded sample of this many impostor pairs per genuine pair.
    case perGenuine(Int)

    public var description: String {
        switch self {
        case .all: return "all"
        case .count(let n): return "\(n)"
        case .perGenuine(let n): return "\(n) per genuine"
        }
    }
}

/// Multi-sample enrolment templates (`templates:`).
public struct TemplateFormation: Sendable, Equatable {
    /// Samples per enrolment template (1 = single samples).
    public var samples: Int
    /// How a template's samples are combined.
    public var fusion: Fusion
    /// Seed of the choice of enrolment samples (required when samples > 1).
    public var seed: UInt64?

    /// Template fusion rules.
    public enum Fusion: String, Sendable, CaseIterable {
        /// Average the L2-normalised embeddings, compare once.
        case meanEmbedding = "mean_embedding"
        /// Compare with each sample, average the scores.
        case meanScore = "mean_score"
        /// Compare with each sample, keep the best score.
        case maxScore = "max_score"
    }
}

/// Bootstrap settings for intervals and paired comparisons (`intervals:`).
public struct IntervalSettings: Sendable, Equatable {
    /// Bootstrap replicates.
    public var replicates: Int
    /// Bootstrap seed.
    public var seed: UInt64

    /// SPEC's defaults: 1000 replicates, seed 0.
    public init(replicates: Int = 1000, seed: UInt64 = 0) {
        self.replicates = replicates
        self.seed = seed
    }
}

/// One gate: a limit on a metric, or a bound on its regression against a baseline.
public struct Gate: Sendable, Equatable {
    /// Display name (`name:`, or generated from the rule).
    public var name: String
    /// The metric gated.
    public var metric: Metric
    /// The rule.
    public var rule: Rule
    /// Line of the gate in the protocol file.
    public var line: Int
    /// Position in `gates:`.
    public var index: Int
    /// For a gate on FAR, FRR or HTER at a fixed threshold: the threshold's source (then
    /// `metric` is the operating point the threshold was chosen for, `eer` for a given number).
    public var fixed: FixedThresholdGate? = nil

    /// What a gate checks.
    public enum Rule: Sendable, Equatable {
        /// Pass iff the chosen value (estimate or CI bound) is at most the limit.
        case max(Double, use: Bound)
        /// Pass iff the chosen value is at least the limit.
        case min(Double, use: Bound)
        /// Pass iff the regression against the baseline stays within the tolerance; with a
        /// significance level, fail only when the regression beyond tolerance is significant.
        case regression(Tolerance, significance: Double?)
    }

    /// Which value of a metric an absolute limit applies to.
    public enum Bound: String, Sendable, CaseIterable {
        /// The point estimate.
        case estimate
        /// The upper end of the 95% interval.
        case ci95Upper = "ci95_upper"
        /// The lower end of the 95% interval.
        case ci95Lower = "ci95_lower"
    }

    /// How much worse than the baseline a metric may get.
    public enum Tolerance: Sendable, Equatable {
        /// In the metric's units (0.01 = one percentage point of FRR).
        case absolute(Double)
        /// As a fraction of the baseline's value (0.1 = 10% worse).
        case relative(Double)

        /// The allowed worsening for a baseline value.
        public func allowance(baseline: Double) -> Double {
            switch self {
            case .absolute(let d): return d
            case .relative(let r): return r * abs(baseline)
            }
        }
    }

    /// True for regression gates.
    public var isRegression: Bool { if case .regression = rule { return true }; return false }

    /// The limit as the table shows it.
    public var limitDescription: String {
        switch rule {
        case .max(let v, let use): return (use == .estimate ? "" : "\(use.rawValue) ") + "<= \(short(v))"
        case .min(let v, let use): return (use == .estimate ? "" : "\(use.rawValue) ") + ">= \(short(v))"
        case .regression(let t, let alpha):
            let tolerance: String
            switch t {
            case .absolute(let d): tolerance = "worse by <= \(short(d))"
            case .relative(let r): tolerance = "worse by <= \(short(r * 100))%"
            }
            return tolerance + (alpha.map { " (significance \(short($0)))" } ?? " (strict)")
        }
    }
}

/// Compact decimal text for limits and values in tables.
func short(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e9 { return String(Int(x)) }
    let text = String(format: "%.6g", x)
    return text
}
