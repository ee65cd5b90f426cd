/// Operating points computed without sorting: radix selection plus linear scans.
extension ScoreSet {
    /// Evaluates only the operating points in `options` (no EER/AUC/AP), in O(n) time and
    /// O(n / 65536)-ish extra memory for typical data. With identities it falls back to the sorted
    /// engine (subject counts and the bootstrap need the order).
    public func operatingPointsOnly(_ options: EvaluationOptions) throws(EvaluationError) -> SystemMetrics {
        var options = options
        options.curveMetrics = false
        if hasIdentities || options.interval == .bootstrap || options.interval == .conservative {
            return try SortedScores(self).evaluate(options)
        }
        if polarity == .distance {
            var negated = self
            negated.genuine = genuine.map { -$0 }
            negated.impostor = impostor.map { -$0 }
            negated.polarity = .similarity
            var result = try negated.operatingPointsOnly(options)
            result.polarity = .distance
            for j in result.operatingPoints.indices {
                result.operatingPoints[j].threshold = result.operatingPoints[j].threshold.map { 0 - $0 }
            }
            return result
        }
        let nG = genuine.count, nI = impostor.count
        var genuineFailures = 0
        for g in genuine where g.isNaN { genuineFailures += 1 }
        var result = SystemMetrics(
            genuineCount: nG, impostorCount: nI, genuineFailures: genuineFailures, impostorFailures: 0,
            polarity: polarity, partialAUCs: [], operatingPoints: [])
        var impostorFailures: Int? = nil
        for metric in options.metrics {
            var point: OperatingPoint
            var t: T?
            var k = 0
            switch metric {
            case .frrAtFAR(let a):
                let K = allowedCount(a, nI)
                let selected = impostor.withUnsafeBufferPointer { Radix.selectFromTop($0, rankFromTop: K) }
                impostorFailures = nI - selected.count
                if let v = selected.value {
                    // k = #{i > v}: no impostor lies strictly between v and the chosen threshold.
                    var nextI = T.infinity
                    impostor.withUnsafeBufferPointer { i in
                        for x in i where x > v {
                            k += 1
                            if x < nextI { nextI = x }
                        }
                    }
                    if v == .infinity {
                        t = nil
                    } else if options.rule == .impostor {
                        t = nextI
                    } else {
                        var nextG = T.infinity
                        for g in genuine where g > v && g < nextG { nextG = g }
                        t = Swift.min(nextI, nextG)
                    }
                } else {
                    k = selected.count
                    var lowest = T.infinity
                    for x in impostor where x < lowest { lowest = x }
                    if options.rule == .roc { for g in genuine where g < lowest { lowest = g } }
                    t = lowest
                }
                point = OperatingPoint(
                    metric: metric, target: a, rule: options.rule, reachable: t != nil, genuineCount: nG,
                    impostorCount: nI, estimable: a * Double(nI) >= 3)
            case .farAtFRR(let b):
                let allowed = allowedCount(b, nG) - genuineFailures
                let finite = nG - genuineFailures
                if allowed >= 0 && allowed < finite {
                    t = genuine.withUnsafeBufferPointer { Radix.selectFromTop($0, rankFromTop: finite - 1 - allowed).value }
                }
                if let t { for x in impostor where x >= t { k += 1 } }
                point = OperatingPoint(
                    metric: metric, target: b, rule: .roc, reachable: t != nil, genuineCount: nG, impostorCount: nI,
                    estimable: b * Double(nG) >= 3)
            default:
                continue  // pAUC and curve metrics need the sorted scores

            }
            if let t {
                var rejected = genuineFailures
                for g in genuine where g < t { rejected += 1 }
                point.threshold = Double(t) + 0  // -0 -> +0, as the sorted engine reports it
                point.falseAccepts = k
                point.falseRejects = rejected
                point.far = Double(k) / Double(nI)
                point.frr = Double(rejected) / Double(nG)
                if options.interval != .none { point.interval = point.wilson(level: options.level) }
            }
            result.operatingPoints.append(point)
        }
        if impostorFailures == nil {
            var failures = 0
            for x in impostor where x.isNaN { failures += 1 }
            impostorFailures = failures
        }
        result.impostorFailures = impostorFailures ?? 0
        return result
    }
}

extension AnyScoreSet {
    /// Operating points only, without sorting (see `ScoreSet.operatingPointsOnly`).
    public func operatingPointsOnly(_ options: EvaluationOptions) throws(EvaluationError) -> SystemMetrics {
        switch self {
        case .float(let s): return try s.operatingPointsOnly(options)
        case .double(let s): return try s.operatingPointsOnly(options)
        }
    }
}
