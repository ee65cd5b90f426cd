import AlaverifyBase

/// How confidence intervals of operating points are computed.
public enum IntervalMethod: String, Sendable, CaseIterable {
    /// Subject bootstrap when identities are known, else Wilson at the chosen threshold.
    case auto
    /// Subject bootstrap; requires identities.
    case bootstrap
    /// Wilson interval at the chosen threshold (the threshold's own uncertainty is ignored).
    case wilson
    /// Wilson bounds on independent units (identities) over the threshold's own range: what
    /// merged shard summaries give instead of the subject bootstrap (see `conservativeInterval`).
    case conservative
    /// No interval.
    case none
}

/// What to compute for a system.
public struct EvaluationOptions: Sendable {
    /// Operating points (`frr@far`, `far@frr`) and partial AUCs to report.
    public var metrics: [Metric]
    /// Threshold rule for `frr@far`.
    public var rule: ThresholdRule
    /// Interval method for operating points.
    public var interval: IntervalMethod
    /// Interval coverage.
    public var level: Double
    /// Bootstrap replicates.
    public var replicates: Int
    /// Bootstrap seed.
    public var seed: UInt64
    /// Compute EER, ROCCH-EER, AUC and AP (needs the sorted scores).
    public var curveMetrics: Bool

    /// Creates options; the defaults are SPEC's.
    public init(
        metrics: [Metric] = [], rule: ThresholdRule = .roc, interval: IntervalMethod = .auto, level: Double = 0.95,
        replicates: Int = 1000, seed: UInt64 = 0, curveMetrics: Bool = true
    ) {
        self.metrics = metrics
        self.rule = rule
        self.interval = interval
        self.level = level
        self.replicates = replicates
        self.seed = seed
        self.curveMetrics = curveMetrics
    }
}

/// Everything the metric engine reports for one system.
public struct SystemMetrics: Sendable {
    /// nG, nI and failures.
    public var genuineCount: Int
    public var impostorCount: Int
    public var genuineFailures: Int
    public var impostorFailures: Int
    /// The polarity the scores were read with.
    public var polarity: Polarity
    /// EER on the DET polyline (nil when not computed or not reached).
    public var eer: EqualErrorRate?
    /// EER of the ROC convex hull.
    public var eerROCCH: Double?
    /// ROC AUC.
    public var rocAUC: Double?
    /// Average precision.
    public var averagePrecision: Double?
    /// Partial AUCs in request order.
    public var partialAUCs: [(metric: Metric, value: Double)]
    /// Operating points in request order.
    public var operatingPoints: [OperatingPoint]
    /// Distinct unordered identity pairs among impostor comparisons, when identities are known.
    public var impostorIdentityPairs: Int?

    /// The value of a metric if it was computed (FRR for `frr@far`, FAR for `far@frr`).
    public func value(of metric: Metric) -> Double? {
        switch metric {
        case .eer: return eer?.value
        case .rocAUC: return rocAUC
        case .averagePrecision: return averagePrecision
        case .partialAUC: return partialAUCs.first { $0.metric == metric }?.value
        case .frrAtFAR, .farAtFRR: return operatingPoints.first { $0.metric == metric }?.value
        }
    }
}

/// An evaluation request that cannot be served.
public enum EvaluationError: AlaverifyError, Sendable, Equatable {
    /// A bootstrap interval was asked for but the scores carry no identities.
    case bootstrapNeedsIdentities

    public var description: String {
        switch self {
        case .bootstrapNeedsIdentities:
            return "a bootstrap interval needs comparison identities (left_id/right_id columns or /scores/left_identity)"
        }
    }

    public var exitStatus: ExitStatus { .usage }
}

extension SortedScores {
    /// Evaluates the metrics requested in `options`.
    /// - Complexity: O(nG + nI) for the curve metrics, plus O(B * work per replicate) for bootstrap.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func evaluate(_ options: EvaluationOptions) throws(EvaluationError) -> SystemMetrics {
        if options.interval == .bootstrap && identities == nil { throw .bootstrapNeedsIdentities }
        var result = SystemMetrics(
            genuineCount: genuineCount, impostorCount: impostorCount, genuineFailures: genuineFailures,
            impostorFailures: impostorFailures, polarity: polarity, partialAUCs: [], operatingPoints: [])
        if options.curveMetrics {
            result.eer = equalErrorRate()
            result.eerROCCH = rocchEER()
            result.rocAUC = rocAUC()
            result.averagePrecision = averagePrecision()
        }
        let stats = identities.map { IdentityStats($0) }
        result.impostorIdentityPairs = stats?.impostorPairs
        var bootstrap: SubjectBootstrap<T>?
        let useBootstrap = options.interval == .bootstrap || (options.interval == .auto && identities != nil)
        for metric in options.metrics {
            switch metric {
            case .partialAUC(let a):
                result.partialAUCs.append((metric, partialAUC(maxFAR: a)))
            case .frrAtFAR, .farAtFRR:
                var point = operatingPoint(metric, rule: options.rule, identityStats: stats)
                if point.reachable, options.interval != .none {
                    if options.interval == .conservative {
                        point.interval = conservativeInterval(point, rule: options.rule, level: options.level, stats: stats)
                    } else if useBootstrap, let ids = identities {
                        if bootstrap == nil { bootstrap = SubjectBootstrap(self, ids) }
                        point.interval = bootstrap!.interval(
                            metric, rule: options.rule, replicates: options.replicates, level: options.level,
                            seed: options.seed)
                    } else {
                        point.interval = point.wilson(level: options.level)
                    }
                }
                result.operatingPoints.append(point)
            default:
                break
            }
        }
        return result
    }
}

extension OperatingPoint {
    /// Wilson interval of the reported rate at the chosen threshold.
    func wilson(level: Double) -> ConfidenceInterval? {
        if metric.isFRRAtFAR {
            guard let k = falseRejects else { return nil }
            return wilsonInterval(successes: k, trials: genuineCount, level: level)
        }
        guard let k = falseAccepts else { return nil }
        return wilsonInterval(successes: k, trials: impostorCount, level: level)
    }
}

/// Identity counts that do not depend on the operating point.
struct IdentityStats: Sendable {
    /// Distinct unordered identity pairs among impostor comparisons (failures included).
    var impostorPairs: Int
    /// Distinct identities among genuine comparisons (failures included).
    var genuineSubjects: Int

    init(_ ids: SortedIdentities) {
        var pairs = [UInt64]()
        pairs.reserveCapacity(ids.impostor.count + ids.failedImpostor.count)
        for p in ids.impostor { pairs.append(unorderedPair(p)) }
        for p in ids.failedImpostor { pairs.append(unorderedPair(p)) }
        impostorPairs = distinctCount(&pairs)
        var subjects = ids.genuine.map { $0 >> 32 } + ids.failedGenuine.map { $0 >> 32 }
        genuineSubjects = distinctCount(&subjects)
    }
}

/// Number of distinct values (sorts `values` in place with radix passes).
func distinctCount(_ values: inout [UInt64]) -> Int {
    guard !values.isEmpty else { return 0 }
    values.withUnsafeMutableBufferPointer { v in
        let scratch = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(min(v.count, 1 << 16), v.count / 4))
        defer { scratch.deallocate() }
        Radix.sortKeys(v, shift: 56, scratch: scratch)
    }
    var distinct = 1
    for j in 1..<values.count where values[j] != values[j - 1] { distinct += 1 }
    return distinct
}

extension AnyScoreSet {
    /// Sorts (in place when this is the only reference) and evaluates.
    public consuming func evaluate(_ options: EvaluationOptions) throws(EvaluationError) -> SystemMetrics {
        switch consume self {
        case .float(let s): return try SortedScores(s).evaluate(options)
        case .double(let s): return try SortedScores(s).evaluate(options)
        }
    }

    /// Sorts and returns the full curve.
    public consuming func sortedCurve() -> DETCurve {
        switch consume self {
        case .float(let s): return SortedScores(s).curve()
        case .double(let s): return SortedScores(s).curve()
        }
    }
}
