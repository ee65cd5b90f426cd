/// The result of one operating-point metric (`frr@far=a` or `far@frr=b`).
public struct OperatingPoint: Sendable, Equatable {
    /// The metric, e.g. `frr@far=1e-4`.
    public var metric: Metric
    /// The target rate a (or b).
    public var target: Double
    /// The rule that chose the threshold.
    public var rule: ThresholdRule
    /// False when no threshold satisfies the target (then threshold, far and frr are nil).
    public var reachable: Bool
    /// The chosen threshold in the input's units; an observed score or `±inf` (reject-all).
    public var threshold: Double?
    /// Achieved FAR = falseAccepts / nI.
    public var far: Double?
    /// Achieved FRR = falseRejects / nG.
    public var frr: Double?
    /// Impostor comparisons accepted (k).
    public var falseAccepts: Int?
    /// Genuine comparisons rejected, failures included.
    public var falseRejects: Int?
    /// nG.
    public var genuineCount: Int
    /// nI.
    public var impostorCount: Int
    /// False when target * n < 3 for the class that sets the threshold (rule of 3).
    public var estimable: Bool
    /// Distinct unordered identity pairs among the impostor comparisons, when identities are known.
    public var impostorIdentityPairs: Int?
    /// Distinct unordered identity pairs among the false accepts, when identities are known.
    public var falseAcceptIdentityPairs: Int?
    /// Distinct identities among the genuine comparisons, when identities are known.
    public var genuineIdentities: Int?
    /// False when target * (independent units) < 3, counting identities instead of comparisons.
    public var estimableBySubjects: Bool?
    /// The confidence interval of the reported rate (FRR for `frr@far`, FAR for `far@frr`).
    public var interval: ConfidenceInterval?

    /// The value the metric reports: FRR for `frr@far`, FAR for `far@frr`.
    public var value: Double? {
        if case .farAtFRR = metric { return far }
        return frr
    }
}

/// A confidence interval and how it was obtained.
public struct ConfidenceInterval: Sendable, Equatable {
    /// Lower end.
    public var lower: Double
    /// Upper end.
    public var upper: Double
    /// Coverage, e.g. 0.95.
    public var level: Double
    /// `bootstrap-subjects` or `wilson`.
    public var method: String
    /// Bootstrap replicates (nil for Wilson).
    public var replicates: Int?
}

/// Largest count k with k <= rate * n, decided in double precision (SPEC section 2).
@inline(__always) func allowedCount(_ rate: Double, _ n: Int) -> Int {
    Int((rate * Double(n)).rounded(.down))
}

extension SortedScores {
    /// The similarity-scale threshold for `frr@far=a` under `rule`, or nil when unreachable.
    ///
    /// With K = floor(a * nI) and v the (K+1)-th largest impostor score, rule `roc` takes the
    /// smallest observed score above v, rule `impostor` the smallest impostor score above v; if
    /// no impostor score is excluded (K >= non-failed impostors) they take the lowest observed
    /// (resp. impostor) score. `+inf` (reject-all) when no score lies above v.
    /// - Complexity: O(log n).
    func thresholdForFAR(_ a: Double, rule: ThresholdRule) -> T? {
        let K = allowedCount(a, impostorCount)
        let m = impostor.count
        if K + 1 > m {
            switch rule {
            case .roc:
                let lows = [genuine.first, impostor.first].compactMap { $0 }
                return lows.min() ?? .infinity
            case .impostor:
                return impostor.first ?? .infinity
            }
        }
        let v = impostor[m - K - 1]
        if v == .infinity { return nil }
        let aboveI = impostor.upperBound(v)
        let nextI: T = aboveI < m ? impostor[aboveI] : .infinity
        if rule == .impostor { return nextI }
        let aboveG = genuine.upperBound(v)
        let nextG: T = aboveG < genuine.count ? genuine[aboveG] : .infinity
        return min(nextI, nextG)
    }

    /// The similarity-scale threshold for `far@frr=b`: the largest observed t with FRR(t) <= b,
    /// or nil when failed genuine comparisons alone exceed b * nG.
    /// - Complexity: O(1).
    func thresholdForFRR(_ b: Double) -> T? {
        let allowed = allowedCount(b, genuineCount) - genuineFailures
        guard allowed >= 0, allowed < genuine.count else { return nil }
        return genuine[allowed]
    }

    /// False accepts and false rejects at a similarity-scale threshold.
    /// - Complexity: O(log n).
    func counts(at t: T) -> (falseAccepts: Int, falseRejects: Int) {
        (impostor.count - impostor.lowerBound(t), genuineFailures + genuine.lowerBound(t))
    }

    /// Evaluates an operating-point metric; intervals are added by the caller.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func operatingPoint(_ metric: Metric, rule: ThresholdRule = .roc) -> OperatingPoint {
        operatingPoint(metric, rule: rule, identityStats: identities.map { IdentityStats($0) })
    }

    func operatingPoint(_ metric: Metric, rule: ThresholdRule, identityStats: IdentityStats?) -> OperatingPoint {
        let nG = genuineCount, nI = impostorCount
        var point: OperatingPoint
        let t: T?
        switch metric {
        case .frrAtFAR(let a):
            t = thresholdForFAR(a, rule: rule)
            point = OperatingPoint(
                metric: metric, target: a, rule: rule, reachable: t != nil, genuineCount: nG, impostorCount: nI,
                estimable: a * Double(nI) >= 3)
        case .farAtFRR(let b):
            t = thresholdForFRR(b)
            point = OperatingPoint(
                metric: metric, target: b, rule: .roc, reachable: t != nil, genuineCount: nG, impostorCount: nI,
                estimable: b * Double(nG) >= 3)
        default:
            preconditionFailure("\(metric) is not an operating point")
        }
        if let t {
            let c = counts(at: t)
            point.threshold = reported(t)
            point.falseAccepts = c.falseAccepts
            point.falseRejects = c.falseRejects
            point.far = Double(c.falseAccepts) / Double(nI)
            point.frr = Double(c.falseRejects) / Double(nG)
        }
        if let ids = identities, let stats = identityStats {
            point.impostorIdentityPairs = stats.impostorPairs
            point.genuineIdentities = stats.genuineSubjects
            if let k = point.falseAccepts {
                var faPairs = ids.impostor[(impostor.count - k)...].map(unorderedPair)
                point.falseAcceptIdentityPairs = distinctCount(&faPairs)
            }
            let units = metric.isFRRAtFAR ? stats.impostorPairs : stats.genuineSubjects
            point.estimableBySubjects = point.target * Double(units) >= 3
        }
        return point
    }
}

extension Metric {
    /// True for `frr@far=a`.
    public var isFRRAtFAR: Bool { if case .frrAtFAR = self { return true }; return false }
    /// True for `frr@far` and `far@frr`.
    public var isOperatingPoint: Bool {
        switch self { case .frrAtFAR, .farAtFRR: return true; default: return false }
    }
}
