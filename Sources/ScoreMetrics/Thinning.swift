import Foundation

/// A monotone transform of a rate axis (FAR or FRR) as it is drawn.
public enum RateScale: String, Sendable, CaseIterable {
    /// Normal deviate: `probit(rate)`, the DET convention.
    case probit
    /// `log10(rate)`.
    case log
    /// The rate itself.
    case linear

    /// The axis coordinate of a rate; rates outside (0, 1) map to `±inf` for probit and log.
    public func position(_ rate: Double) -> Double {
        switch self {
        case .probit: return ScoreMetrics.probit(rate)
        case .log: return rate > 0 ? log10(rate) : -.infinity
        case .linear: return rate
        }
    }

    /// The rate at an axis coordinate (the inverse of `position`).
    public func rate(at position: Double) -> Double {
        switch self {
        case .probit: return normalCDF(position)
        case .log: return Foundation.pow(10, position)
        case .linear: return position
        }
    }

    /// The coordinate of `count / n`, with counts clamped to [0.5, n - 0.5] (probit) or
    /// [0.5, n] (log) so that the rates 0 and 1 land a half count beyond the resolvable ends.
    func clampedPosition(_ count: Int, _ n: Int) -> Double {
        let c = Double(count), total = Double(n)
        switch self {
        case .probit: return position(min(max(c, 0.5), total - 0.5) / total)
        case .log: return position(max(c, 0.5) / total)
        case .linear: return c / total
        }
    }
}

/// How a curve is reduced to what a plot can show.
public struct CurveThinning: Sendable, Equatable {
    /// The budget: at most this many points from the walk (plus endpoints and kept points).
    public var maxPoints: Int
    /// How FAR is drawn.
    public var farScale: RateScale
    /// How FRR is drawn.
    public var frrScale: RateScale

    /// Creates a thinning; 1000 points is finer than a 1000-pixel axis can show.
    public init(maxPoints: Int = 1000, farScale: RateScale = .probit, frrScale: RateScale = .probit) {
        self.maxPoints = max(maxPoints, 4)
        self.farScale = farScale
        self.frrScale = frrScale
    }

    /// The step of the walk in axis units: twice the summed range of both axes over the budget
    /// (every step may add the point before it, so the walk yields at most `maxPoints` + 2).
    func step(genuineCount nG: Int, impostorCount nI: Int) -> Double {
        let u = farScale.clampedPosition(nI, nI) - farScale.clampedPosition(0, nI)
        let v = frrScale.clampedPosition(nG, nG) - frrScale.clampedPosition(0, nG)
        return 2 * (u + v) / Double(maxPoints)
    }

    /// The smallest false-accept count whose FAR coordinate reaches `u` (may exceed nI).
    func falseAcceptsReaching(_ u: Double, _ nI: Int) -> Int {
        let r = farScale.rate(at: u)
        if !(r < 1) { return nI + 1 }
        return Int((r * Double(nI)).rounded(.up))
    }

    /// The largest false-reject count whose FRR coordinate is at most `v` (may be negative).
    func falseRejectsReaching(_ v: Double, _ nG: Int) -> Int {
        let r = frrScale.rate(at: v)
        if !(r > 0) { return -1 }
        return Int((r * Double(nG)).rounded(.down))
    }

    /// The walk shared by the materialised and the streaming curve. Positions are ordered from
    /// the strictest threshold (`first`) to the loosest (`last`) by `<`.
    ///
    /// From the last kept point (FA, FR) it jumps to the first later point whose FAR coordinate
    /// moved by at least the step or whose FRR coordinate did; it also keeps the point right
    /// before each jump so that long steps of the curve are drawn exactly.
    func walk<P: Comparable>(
        first: P, last: P, genuineCount nG: Int, impostorCount nI: Int,
        counts: (P) -> (fa: Int, fr: Int),
        next: (_ after: P, _ faAtLeast: Int, _ frAtMost: Int) -> P,
        previous: (P) -> P
    ) -> [P] {
        var kept = [first]
        guard first < last else { return kept }
        let delta = step(genuineCount: nG, impostorCount: nI)
        var at = first
        var (fa, fr) = counts(first)
        while at < last {
            let u = farScale.clampedPosition(fa, nI), v = frrScale.clampedPosition(fr, nG)
            let needFA = max(falseAcceptsReaching(u + delta, nI), fa + 1)
            let needFR = min(falseRejectsReaching(v - delta, nG), fr - 1)
            let to = next(at, needFA, needFR)
            let before = previous(to)
            if at < before { kept.append(before) }
            kept.append(to)
            at = to
            (fa, fr) = counts(to)
        }
        return kept
    }
}

extension DETCurve {
    /// The curve reduced to what a plot can show: the first and last point, the points a
    /// `thinning` walk keeps (see `CurveThinning`), and each index in `keeping` with its two
    /// neighbours. Points keep their thresholds and exact counts.
    /// - Complexity: O(maxPoints · log n + k log k) for k kept points.
    public func thinned(_ thinning: CurveThinning = CurveThinning(), keeping: [Int] = []) -> DETCurve {
        guard !points.isEmpty else { return self }
        let last = points.count - 1
        var indices = points.withUnsafeBufferPointer { p in
            thinning.walk(
                first: 0, last: last, genuineCount: genuineCount, impostorCount: impostorCount,
                counts: { (p[$0].falseAccepts, p[$0].falseRejects) },
                next: { after, needFA, needFR in
                    // FA is non-decreasing and FR non-increasing along the points.
                    var lo = after + 1, hi = last
                    while lo < hi {
                        let mid = (lo + hi) >> 1
                        if p[mid].falseAccepts >= needFA || p[mid].falseRejects <= needFR { hi = mid } else { lo = mid + 1 }
                    }
                    return lo
                },
                previous: { max($0 - 1, 0) })
        }
        for j in keeping where j >= 0 && j <= last {
            indices += [max(j - 1, 0), j, min(j + 1, last)]
        }
        let unique = Array(Set(indices)).sorted()
        return DETCurve(points: unique.map { points[$0] }, genuineCount: genuineCount, impostorCount: impostorCount)
    }
}

/// A point of the streaming walk: a similarity-scale threshold, ordered strictest first.
struct WalkThreshold<T: ScoreFloat>: Comparable {
    var t: T
    static func < (a: Self, b: Self) -> Bool { a.t > b.t }
}

extension SortedScores {
    /// The thinned DET curve computed from the sorted scores without materialising the full
    /// curve: the same points as `curve().thinned(thinning, keeping:)` with `keeping` given as
    /// thresholds (in the input's units) instead of indices.
    ///
    /// Thresholds that are not observed scores (or the reject-all `+inf`) are ignored.
    /// - Complexity: O((maxPoints + k) · log n) for k kept thresholds.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func thinnedCurve(_ thinning: CurveThinning = CurveThinning(), keepingThresholds: [Double] = []) -> DETCurve {
        genuine.withUnsafeBufferPointer { g in
            impostor.withUnsafeBufferPointer { i in
                let fg = genuineFailures
                let m = i.count
                // Reject-all is a point of its own unless a score is +inf (see `forEachPoint`).
                let first = T.infinity
                let bottom = Swift.min(g.first ?? T.infinity, i.first ?? T.infinity)
                guard m + g.count > 0 else {
                    return DETCurve(
                        points: [CurvePoint(threshold: reported(.infinity), falseAccepts: 0, falseRejects: fg)],
                        genuineCount: genuineCount, impostorCount: impostorCount)
                }
                func counts(_ p: WalkThreshold<T>) -> (fa: Int, fr: Int) {
                    (m - ScoreMetrics.lowerBound(i, p.t), fg + ScoreMetrics.lowerBound(g, p.t))
                }
                /// The largest observed score below t (or t itself when none is).
                func below(_ t: T) -> T {
                    let a = ScoreMetrics.lowerBound(i, t), b = ScoreMetrics.lowerBound(g, t)
                    let x = a > 0 ? i[a - 1] : -T.infinity, y = b > 0 ? g[b - 1] : -T.infinity
                    if a == 0 && b == 0 { return t }
                    return Swift.max(x, y)
                }
                /// The smallest observed score above t, or the reject-all +inf.
                func above(_ t: T) -> T {
                    let a = ScoreMetrics.upperBound(i, t), b = ScoreMetrics.upperBound(g, t)
                    let x = a < m ? i[a] : T.infinity, y = b < g.count ? g[b] : T.infinity
                    return Swift.min(x, y)
                }
                let walked = thinning.walk(
                    first: WalkThreshold(t: first), last: WalkThreshold(t: bottom),
                    genuineCount: genuineCount, impostorCount: impostorCount,
                    counts: counts,
                    next: { after, needFA, needFR in
                        // FA(t) >= needFA for every t <= tA; FR(t) <= needFR for every t <= tR.
                        var reach = -T.infinity
                        var any = false
                        if needFA >= 1 && needFA <= m { reach = i[m - needFA]; any = true }
                        let r = needFR - fg
                        if r >= g.count { return WalkThreshold(t: below(after.t)) }
                        if r >= 0 { reach = any ? Swift.max(reach, g[r]) : g[r]; any = true }
                        if !any { return WalkThreshold(t: bottom) }
                        return WalkThreshold(t: reach < after.t ? reach : below(after.t))
                    },
                    previous: { WalkThreshold(t: above($0.t)) })
                var thresholds = walked.map(\.t)
                for x in keepingThresholds {
                    var t = T(polarity == .distance ? -x : x)
                    if t == 0 { t = 0 }
                    guard t == .infinity || isObserved(t, g, i) else { continue }
                    thresholds += [above(t), t, below(t)]
                }
                thresholds.sort(by: >)
                var points = [CurvePoint]()
                points.reserveCapacity(thresholds.count)
                var previousT: T?
                for t in thresholds where t != previousT {
                    previousT = t
                    let c = counts(WalkThreshold(t: t))
                    points.append(CurvePoint(threshold: reported(t), falseAccepts: c.fa, falseRejects: c.fr))
                }
                return DETCurve(points: points, genuineCount: genuineCount, impostorCount: impostorCount)
            }
        }
    }

    private func isObserved(_ t: T, _ g: UnsafeBufferPointer<T>, _ i: UnsafeBufferPointer<T>) -> Bool {
        let a = ScoreMetrics.lowerBound(i, t), b = ScoreMetrics.lowerBound(g, t)
        return (a < i.count && i[a] == t) || (b < g.count && g[b] == t)
    }
}

extension AnyScoreSet {
    /// Sorts and returns the thinned curve (see `SortedScores.thinnedCurve`).
    public consuming func thinnedCurve(_ thinning: CurveThinning = CurveThinning()) -> DETCurve {
        switch consume self {
        case .float(let s): return SortedScores(s).thinnedCurve(thinning)
        case .double(let s): return SortedScores(s).thinnedCurve(thinning)
        }
    }
}

/// What plots need from one system, computed from a single sort: its metrics, its curve thinned
/// for each requested pair of axes (keeping every operating point and the EER), and a histogram.
public struct PlotSummary: Sendable {
    /// The metrics.
    public var metrics: SystemMetrics
    /// One thinned curve per requested thinning, in order.
    public var curves: [DETCurve]
    /// The score histogram (its range includes every finite operating threshold).
    public var histogram: ScoreHistogram
    /// Results at the fixed thresholds asked for, in order.
    public var thresholds: [ThresholdResult] = []
}

extension SortedScores {
    /// Evaluates, applies the fixed thresholds, thins and bins (see `PlotSummary`); the curves
    /// keep the points of every operating and fixed threshold.
    func plotSummary(_ options: EvaluationOptions, thinnings: [CurveThinning], bins: Int, thresholds: [FixedThreshold]) throws -> PlotSummary {
        let metrics = try evaluate(options)
        let fixed = try thresholds.map {
            try apply($0, interval: options.interval, level: options.level, replicates: options.replicates, seed: options.seed)
        }
        var keep = metrics.operatingPoints.compactMap(\.threshold) + thresholds.map(\.threshold)
        if let eer = metrics.eer { keep.append(eer.threshold) }
        return PlotSummary(
            metrics: metrics, curves: thinnings.map { thinnedCurve($0, keepingThresholds: keep) },
            histogram: histogram(bins: bins, including: keep), thresholds: fixed)
    }
}

extension AnyScoreSet {
    /// Sorts once (in place when this is the only reference), evaluates, applies the fixed
    /// thresholds, thins each curve and bins the scores; specialised for the set's precision.
    /// - Complexity: O(n) to sort and evaluate, plus O((maxPoints + bins) · log n).
    public consuming func plotSummary(
        _ options: EvaluationOptions, thinnings: [CurveThinning], bins: Int = 100, thresholds: [FixedThreshold] = []
    ) throws -> PlotSummary {
        switch consume self {
        case .float(let s): return try SortedScores(s).plotSummary(options, thinnings: thinnings, bins: bins, thresholds: thresholds)
        case .double(let s): return try SortedScores(s).plotSummary(options, thinnings: thinnings, bins: bins, thresholds: thresholds)
        }
    }
}
