extension MergedScores {
    /// Evaluates the metrics the plan was made for: the same values, bit for bit, as
    /// `SortedScores.evaluate` on all the scores, with intervals `none`, `wilson` or `conservative`
    /// (`auto`: conservative when identities are known, else Wilson).
    /// - Complexity: O(g log g) for g genuine scores, plus O(65,536) per refined bin walked.
    public func evaluate() throws(MergeError) -> SystemMetrics {
        var result = SystemMetrics(
            genuineCount: genuineCount, impostorCount: impostorCount, genuineFailures: genuineFailures,
            impostorFailures: impostorFailures, polarity: .similarity, partialAUCs: [], operatingPoints: [])
        if options.curveMetrics {
            result.eer = try equalErrorRate()
            result.eerROCCH = try rocchEER()
            result.rocAUC = rocAUC()
            result.averagePrecision = averagePrecision()
        }
        result.impostorIdentityPairs = basis.impostorIdentityPairs
        let method = resolvedInterval(options.interval, identities: basis.hasIdentities)
        for metric in options.metrics {
            switch metric {
            case .partialAUC(let a):
                result.partialAUCs.append((metric, try partialAUC(maxFAR: a)))
            case .frrAtFAR, .farAtFRR:
                var point = try operatingPoint(metric)
                if point.reachable {
                    switch method {
                    case .conservative: point.interval = try conservativeInterval(point)
                    case .wilson: point.interval = point.wilson(level: options.level)
                    default: break
                    }
                }
                result.operatingPoints.append(point)
            default:
                break
            }
        }
        return result
    }

    /// The similarity-scale threshold key for `frr@far=a` (`SortedScores.thresholdForFAR`).
    func thresholdForFAR(_ a: Double, rule: ThresholdRule) throws(MergeError) -> UInt32? {
        let K = allowedCount(a, impostorCount)
        let inf = scoreKey(.infinity)
        if K + 1 > m {
            let lowestI = try basis.lowestImpostorBin.map { b throws(MergeError) in try lowestImpostorKey(inBin: b) }
            switch rule {
            case .roc: return [basis.genuineKeys.first, lowestI].compactMap { $0 }.min() ?? inf
            case .impostor: return lowestI ?? inf
            }
        }
        let v = try impostorKey(rank: K + 1)
        if v == inf { return nil }
        let nextI = try impostorKey(above: v) ?? inf
        if rule == .impostor { return nextI }
        let aboveG = basis.genuineKeys.upperBound(v)
        let nextG = aboveG < basis.genuineKeys.count ? basis.genuineKeys[aboveG] : inf
        return min(nextI, nextG)
    }

    /// The similarity-scale threshold key for `far@frr=b` (`SortedScores.thresholdForFRR`).
    func thresholdForFRR(_ b: Double) -> UInt32? {
        let allowed = allowedCount(b, genuineCount) - genuineFailures
        guard allowed >= 0, allowed < basis.genuineKeys.count else { return nil }
        return basis.genuineKeys[allowed]
    }

    /// `SortedScores.operatingPoint` on the merged scores.
    func operatingPoint(_ metric: Metric) throws(MergeError) -> OperatingPoint {
        let nG = genuineCount, nI = impostorCount, rule = options.rule
        var point: OperatingPoint
        let t: UInt32?
        var pairs: PairQuery?
        switch metric {
        case .frrAtFAR(let a):
            t = try thresholdForFAR(a, rule: rule)
            point = OperatingPoint(
                metric: metric, target: a, rule: rule, reachable: t != nil, genuineCount: nG, impostorCount: nI,
                estimable: a * Double(nI) >= 3)
            let K = allowedCount(a, nI)
            pairs = K + 1 > m ? PairQuery(fromKey: 0, listBin: nil)
                : PairQuery(fromKey: UInt64(basis.binOfRank(K + 1) + 1) << 16, listBin: basis.binOfRank(K + 1))
        case .farAtFRR(let b):
            t = thresholdForFRR(b)
            point = OperatingPoint(
                metric: metric, target: b, rule: .roc, reachable: t != nil, genuineCount: nG, impostorCount: nI,
                estimable: b * Double(nG) >= 3)
            pairs = t.map { PairQuery(fromKey: UInt64($0), listBin: nil) }
        default:
            preconditionFailure("\(metric) is not an operating point")
        }
        if let t {
            let c = try counts(atKey: t)
            point.threshold = reported(t)
            point.falseAccepts = c.falseAccepts
            point.falseRejects = c.falseRejects
            point.far = Double(c.falseAccepts) / Double(nI)
            point.frr = Double(c.falseRejects) / Double(nG)
        }
        if let impostorPairs = basis.impostorIdentityPairs, let subjects = basis.genuineSubjects {
            point.impostorIdentityPairs = impostorPairs
            point.genuineIdentities = subjects
            if let t, let query = pairs {
                point.falseAcceptIdentityPairs = try falseAcceptPairs(query, threshold: t)
            }
            let units = metric.isFRRAtFAR ? impostorPairs : subjects
            point.estimableBySubjects = point.target * Double(units) >= 3
        }
        return point
    }

    /// Distinct unordered identity pairs among the impostor scores `>= t`.
    func falseAcceptPairs(_ query: PairQuery, threshold t: UInt32) throws(MergeError) -> Int {
        guard let collected = pairSets[query] else { throw unplanned("the identity pairs at \(scoreValue(t))") }
        var all = collected.set
        for entry in collected.list where entry.key >= t { all.append(entry.pair) }
        return distinctCount(&all)
    }

    /// `SortedScores.conservativeInterval` on the merged scores.
    func conservativeInterval(_ point: OperatingPoint) throws(MergeError) -> ConfidenceInterval {
        let level = options.level
        let unitsI = basis.impostorIdentityPairs ?? impostorCount
        let unitsG = basis.genuineSubjects ?? genuineCount
        let bounds: (lower: Double, upper: Double)
        if point.metric.isFRRAtFAR {
            let range = conservativeRateRange(point.target, units: unitsI, level: level)
            let high = try thresholdForFAR(range.lower, rule: options.rule).map { frr(atKey: $0) } ?? 1
            let low = try thresholdForFAR(range.upper, rule: options.rule).map { frr(atKey: $0) } ?? 0
            bounds = (wilsonBounds(low, units: unitsG, level: level).lower, wilsonBounds(high, units: unitsG, level: level).upper)
        } else {
            let range = conservativeRateRange(point.target, units: unitsG, level: level)
            let high = try thresholdForFRR(range.lower).map { k throws(MergeError) in try far(atKey: k) } ?? 1
            let low = try thresholdForFRR(range.upper).map { k throws(MergeError) in try far(atKey: k) } ?? 0
            bounds = (wilsonBounds(low, units: unitsI, level: level).lower, wilsonBounds(high, units: unitsI, level: level).upper)
        }
        return ConfidenceInterval(lower: bounds.lower, upper: bounds.upper, level: level, method: conservativeMethod, replicates: nil)
    }

    private func frr(atKey t: UInt32) -> Double {
        Double(genuineFailures + basis.genuineBelow(key: t)) / Double(genuineCount)
    }

    private func far(atKey t: UInt32) throws(MergeError) -> Double {
        Double(try counts(atKey: t).falseAccepts) / Double(impostorCount)
    }
}
