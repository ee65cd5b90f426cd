import AlaverifyBase

/// Where a fixed threshold came from: what users need to trust (or re-derive) it.
public struct ThresholdProvenance: Sendable, Equatable {
    /// How the threshold was obtained.
    public enum Kind: String, Sendable, CaseIterable {
        /// Chosen on a development score file by SPEC section 2's rules.
        case dev
        /// Given as a number.
        case given
        /// Recorded in a model file by `train` (chosen on the run's validation split).
        case model
        /// Taken from a baseline (a metrics JSON's operating point, or chosen on a baseline score file).
        case baseline
    }

    /// How the threshold was obtained.
    public var kind: Kind
    /// The file it came from (nil for a given number).
    public var file: String?
    /// SHA-256 of that file's bytes, when known.
    public var sha256: String?
    /// The rule that chose it: `roc`, `impostor` or `eer`; nil for a given number.
    public var rule: String?

    /// Creates a provenance record.
    public init(kind: Kind, file: String? = nil, sha256: String? = nil, rule: String? = nil) {
        self.kind = kind
        self.file = file
        self.sha256 = sha256
        self.rule = rule
    }
}

/// The rates a threshold achieved on the scores it was chosen on.
public struct ChosenRates: Sendable, Equatable {
    /// FAR and FRR there.
    public var far: Double, frr: Double
    /// False accepts k and false rejects there.
    public var falseAccepts: Int, falseRejects: Int
    /// nG and nI there.
    public var genuineCount: Int, impostorCount: Int
    /// SPEC's rule of 3 on the comparisons of the class that set the threshold (true for EER).
    public var estimable: Bool

    /// Creates a record.
    public init(far: Double, frr: Double, falseAccepts: Int, falseRejects: Int, genuineCount: Int, impostorCount: Int, estimable: Bool) {
        self.far = far
        self.frr = frr
        self.falseAccepts = falseAccepts
        self.falseRejects = falseRejects
        self.genuineCount = genuineCount
        self.impostorCount = impostorCount
        self.estimable = estimable
    }
}

/// A threshold to apply to other scores, with what it was chosen for and where it came from.
public struct FixedThreshold: Sendable, Equatable {
    /// What it was chosen for: an operating point (`frr@far=1e-3`, `far@frr=0.01`), the EER
    /// (`eer`), or nil for a number given as it is.
    public var chosenFor: Metric?
    /// The threshold in the input's units (accept iff score >= t; distance: distance <= t).
    /// An observed score of the scores it was chosen on, or `+inf` (reject all).
    public var threshold: Double
    /// The polarity of the scores it applies to.
    public var polarity: Polarity
    /// Where it came from.
    public var provenance: ThresholdProvenance
    /// The rates it achieved where it was chosen, when known.
    public var chosenOn: ChosenRates?

    /// Creates a fixed threshold.
    public init(chosenFor: Metric?, threshold: Double, polarity: Polarity, provenance: ThresholdProvenance, chosenOn: ChosenRates? = nil) {
        self.chosenFor = chosenFor
        self.threshold = threshold
        self.polarity = polarity
        self.provenance = provenance
        self.chosenOn = chosenOn
    }

    /// `frr@far=1e-3`, `eer`, or `threshold=0.52` for a given number.
    public var name: String { chosenFor?.description ?? "threshold=\(threshold)" }

    /// The target rate of an operating point (a of `frr@far=a`, b of `far@frr=b`).
    public var target: Double? {
        switch chosenFor {
        case .frrAtFAR(let a): return a
        case .farAtFRR(let b): return b
        default: return nil
        }
    }
}

/// FAR and FRR of scores at a threshold fixed elsewhere (SPEC section 2, "Fixed thresholds").
public struct ThresholdResult: Sendable, Equatable {
    /// The threshold applied.
    public var fixed: FixedThreshold
    /// Achieved FAR = falseAccepts / nI and FRR = falseRejects / nG on these scores.
    public var far: Double, frr: Double
    /// k and the false rejects (failures included).
    public var falseAccepts: Int, falseRejects: Int
    /// nG and nI.
    public var genuineCount: Int, impostorCount: Int
    /// Intervals of FAR and FRR at the fixed threshold (subject bootstrap or Wilson).
    public var farInterval: ConfidenceInterval?, frrInterval: ConfidenceInterval?

    /// Half total error rate (FAR + FRR) / 2.
    public var hter: Double { (far + frr) / 2 }

    /// Achieved / target for the rate the threshold was chosen to hold: FAR / a for `frr@far=a`,
    /// FRR / b for `far@frr=b`; nil otherwise.
    public var drift: Double? {
        switch fixed.chosenFor {
        case .frrAtFAR(let a): return far / a
        case .farAtFRR(let b): return frr / b
        default: return nil
        }
    }

    /// False when the held rate's target * n < 3 on these scores (rule of 3); nil without a target.
    public var estimable: Bool? {
        switch fixed.chosenFor {
        case .frrAtFAR(let a): return a * Double(impostorCount) >= 3
        case .farAtFRR(let b): return b * Double(genuineCount) >= 3
        default: return nil
        }
    }
}

/// A threshold that cannot be applied.
public enum FixedThresholdError: AlaverifyError, Sendable, Equatable {
    /// NaN or infinite where a finite number is needed.
    case notFinite(Double)
    /// The threshold was chosen for scores of another polarity.
    case polarityMismatch(threshold: Polarity, scores: Polarity)
    /// The operating point cannot be reached on the scores the threshold is chosen on.
    case unreachable(Metric)

    public var description: String {
        switch self {
        case .notFinite(let t): return "threshold \(t) is not a finite number"
        case .polarityMismatch(let t, let s):
            return "the threshold is for \(t.rawValue) scores, but these scores are read as \(s.rawValue) (--polarity)"
        case .unreachable(let m): return "\(m) is unreachable there (failed comparisons alone exceed it), so it gives no threshold"
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .notFinite, .polarityMismatch: return .usage
        case .unreachable: return .dataError
        }
    }
}

extension SortedScores {
    /// The thresholds these (development) scores choose for `metrics` under `rule`, in order,
    /// then the EER threshold (the observed threshold nearest the DET crossing) when `eer` is true
    /// and the curve reaches FAR = FRR. Only `frr@far` and `far@frr` are taken from `metrics`.
    /// - Complexity: O(n) for the EER, O(log n) per operating point.
    public func chooseThresholds(_ metrics: [Metric], rule: ThresholdRule, eer: Bool, provenance: ThresholdProvenance)
        throws(FixedThresholdError) -> [FixedThreshold]
    {
        var out = [FixedThreshold]()
        for metric in metrics where metric.isOperatingPoint {
            let p = operatingPoint(metric, rule: rule)
            guard let t = p.threshold, let far = p.far, let frr = p.frr else { throw .unreachable(metric) }
            var source = provenance
            source.rule = metric.isFRRAtFAR ? rule.rawValue : ThresholdRule.roc.rawValue
            out.append(FixedThreshold(
                chosenFor: metric, threshold: t, polarity: polarity, provenance: source,
                chosenOn: ChosenRates(
                    far: far, frr: frr, falseAccepts: p.falseAccepts!, falseRejects: p.falseRejects!, genuineCount: genuineCount,
                    impostorCount: impostorCount, estimable: p.estimable)))
        }
        if eer, let e = equalErrorRate() {
            var source = provenance
            source.rule = "eer"
            let c = counts(atReported: e.threshold)
            out.append(FixedThreshold(
                chosenFor: .eer, threshold: e.threshold, polarity: polarity, provenance: source,
                chosenOn: ChosenRates(
                    far: Double(c.falseAccepts) / Double(impostorCount), frr: Double(c.falseRejects) / Double(genuineCount),
                    falseAccepts: c.falseAccepts, falseRejects: c.falseRejects, genuineCount: genuineCount,
                    impostorCount: impostorCount, estimable: true)))
        }
        return out
    }

    /// False accepts and false rejects at a threshold in the input's units, compared in double
    /// precision: accept iff score >= t (distance: distance <= t); failures are never accepted.
    /// - Complexity: O(log n).
    public func counts(atReported t: Double) -> (falseAccepts: Int, falseRejects: Int) {
        let s = polarity == .distance ? -t : t
        return (impostor.count - firstAtLeast(impostor, s), genuineFailures + firstAtLeast(genuine, s))
    }

    /// Index of the first element whose double value is >= s in an ascending array.
    func firstAtLeast(_ a: [T], _ s: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if Double(a[mid]) < s { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Applies a fixed threshold: counts, rates and intervals (`interval`: `auto` bootstraps
    /// subjects at the fixed threshold when identities are known, else Wilson; the threshold is
    /// not re-derived in the replicates; `conservative` takes Wilson bounds on independent units,
    /// identity pairs and genuine identities when known).
    /// - Complexity: O(log n), plus O(n) once and O(B * (S + identity pairs)) for the bootstrap.
    public func apply(
        _ fixed: FixedThreshold, interval: IntervalMethod = .auto, level: Double = 0.95, replicates: Int = 1000, seed: UInt64 = 0
    ) throws -> ThresholdResult {
        guard !fixed.threshold.isNaN else { throw FixedThresholdError.notFinite(fixed.threshold) }
        guard fixed.polarity == polarity else { throw FixedThresholdError.polarityMismatch(threshold: fixed.polarity, scores: polarity) }
        if interval == .bootstrap && identities == nil { throw EvaluationError.bootstrapNeedsIdentities }
        let c = counts(atReported: fixed.threshold)
        var r = ThresholdResult(
            fixed: fixed, far: Double(c.falseAccepts) / Double(impostorCount), frr: Double(c.falseRejects) / Double(genuineCount),
            falseAccepts: c.falseAccepts, falseRejects: c.falseRejects, genuineCount: genuineCount, impostorCount: impostorCount)
        switch interval {
        case .none: break
        case .conservative:
            // The threshold is fixed, so its range is one point: Wilson bounds of the observed
            // rates on independent units (impostor identity pairs, genuine identities; else the
            // comparisons), as the operating points' conservative interval takes them.
            let stats = identities.map { IdentityStats($0) }
            let far = wilsonBounds(r.far, units: stats?.impostorPairs ?? impostorCount, level: level)
            let frr = wilsonBounds(r.frr, units: stats?.genuineSubjects ?? genuineCount, level: level)
            r.farInterval = ConfidenceInterval(lower: far.lower, upper: far.upper, level: level, method: conservativeMethod, replicates: nil)
            r.frrInterval = ConfidenceInterval(lower: frr.lower, upper: frr.upper, level: level, method: conservativeMethod, replicates: nil)
        case .wilson, .auto, .bootstrap:
            if interval != .wilson, let ids = identities {
                let similarity = polarity == .distance ? -fixed.threshold : fixed.threshold
                let b = FixedThresholdBootstrap(self, ids, threshold: similarity)
                (r.farInterval, r.frrInterval) = b.intervals(replicates: replicates, level: level, seed: seed)
            } else {
                r.farInterval = wilsonInterval(successes: c.falseAccepts, trials: impostorCount, level: level)
                r.frrInterval = wilsonInterval(successes: c.falseRejects, trials: genuineCount, level: level)
            }
        }
        return r
    }
}

extension AnyScoreSet {
    /// Sorts and chooses thresholds (see `SortedScores.chooseThresholds`).
    public func chooseThresholds(_ metrics: [Metric], rule: ThresholdRule, eer: Bool, provenance: ThresholdProvenance)
        throws(FixedThresholdError) -> [FixedThreshold]
    {
        switch self {
        case .float(let s): return try SortedScores(s).chooseThresholds(metrics, rule: rule, eer: eer, provenance: provenance)
        case .double(let s): return try SortedScores(s).chooseThresholds(metrics, rule: rule, eer: eer, provenance: provenance)
        }
    }
}

/// What `evaluate(_:thresholds:calibration:)` computes beyond the metrics of `EvaluationOptions`.
public struct FullEvaluation: Sendable {
    /// The metric engine's results.
    public var metrics: SystemMetrics
    /// One result per fixed threshold, in order.
    public var thresholds: [ThresholdResult]
    /// Cllr and minCllr (and the calibrated Cllr), when asked for.
    public var calibration: CalibrationMetrics?
}

extension AnyScoreSet {
    /// Sorts once and evaluates the metrics, every fixed threshold (intervals as `options` ask),
    /// and, when `cllr` is true or a calibration map is given, Cllr and minCllr.
    public consuming func evaluate(
        _ options: EvaluationOptions, thresholds: [FixedThreshold], cllr: Bool, calibration: LinearCalibration?
    ) throws -> FullEvaluation {
        func run<T>(_ s: SortedScores<T>) throws -> FullEvaluation {
            FullEvaluation(
                metrics: try s.evaluate(options),
                thresholds: try thresholds.map {
                    try s.apply($0, interval: options.interval, level: options.level, replicates: options.replicates, seed: options.seed)
                },
                calibration: cllr || calibration != nil ? s.calibrationMetrics(calibration) : nil)
        }
        switch consume self {
        case .float(let s): return try run(SortedScores(s))
        case .double(let s): return try run(SortedScores(s))
        }
    }

    /// Fits a linear calibration on these (development) scores.
    public func fitCalibration() throws(CalibrationError) -> LinearCalibration {
        switch self {
        case .float(let s): return try SortedScores(s).fitCalibration()
        case .double(let s): return try SortedScores(s).fitCalibration()
        }
    }
}
