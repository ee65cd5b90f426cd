/// One point of the ROC/DET curve: a threshold and the counts it produces.
public struct CurvePoint: Sendable, Equatable {
    /// The threshold in the input's units (`+inf`/`-inf` for reject-all).
    public var threshold: Double
    /// Impostor comparisons accepted at this threshold.
    public var falseAccepts: Int
    /// Genuine comparisons rejected at this threshold (failures included).
    public var falseRejects: Int
}

/// The full ROC/DET curve over all distinct thresholds, ordered by ascending FAR.
public struct DETCurve: Sendable {
    /// The points, strongest threshold first (FAR ascending, FRR descending).
    public var points: [CurvePoint]
    /// nG.
    public var genuineCount: Int
    /// nI.
    public var impostorCount: Int

    /// FAR of point j.
    public func far(_ j: Int) -> Double { Double(points[j].falseAccepts) / Double(impostorCount) }
    /// FRR of point j.
    public func frr(_ j: Int) -> Double { Double(points[j].falseRejects) / Double(genuineCount) }
}

/// The equal error rate and where it lies.
public struct EqualErrorRate: Sendable, Equatable {
    /// Where the DET polyline crosses FAR = FRR.
    public var value: Double
    /// The observed threshold nearest the crossing (input units).
    public var threshold: Double
}

/// Steps through the operating points of sorted scores in descending threshold order: the
/// reject-all threshold `+inf` first (when no score is `+inf`), then each distinct score.
///
/// A plain iterator rather than a closure walk, so callers keep their state in locals and can stop
/// early; valid only inside the `withUnsafeBufferPointer` scope its buffers come from.
struct PointWalker<T: ScoreFloat> {
    let g: UnsafeBufferPointer<T>
    let i: UnsafeBufferPointer<T>
    let genuineFailures: Int
    var gp: Int
    var ip: Int
    var rejectAllPending: Bool

    init(genuine: UnsafeBufferPointer<T>, impostor: UnsafeBufferPointer<T>, genuineFailures: Int) {
        g = genuine
        i = impostor
        self.genuineFailures = genuineFailures
        gp = genuine.count
        ip = impostor.count
        let topG = gp > 0 ? genuine[gp - 1] : -T.infinity
        let topI = ip > 0 ? impostor[ip - 1] : -T.infinity
        rejectAllPending = !(topG == .infinity || topI == .infinity)
    }

    /// The next point: similarity-scale threshold, false accepts, false rejects.
    @inline(__always)
    mutating func next() -> (t: T, fa: Int, fr: Int)? {
        if rejectAllPending {
            rejectAllPending = false
            return (.infinity, 0, genuineFailures + gp)
        }
        guard gp > 0 || ip > 0 else { return nil }
        let v: T
        if gp == 0 { v = i[ip - 1] } else if ip == 0 { v = g[gp - 1] } else { v = max(g[gp - 1], i[ip - 1]) }
        while gp > 0 && g[gp - 1] == v { gp -= 1 }
        while ip > 0 && i[ip - 1] == v { ip -= 1 }
        return (v, i.count - ip, genuineFailures + gp)
    }
}

extension SortedScores {
    /// Runs `body` with a walker over this set's points.
    @inline(__always)
    func withWalker<R>(_ body: (inout PointWalker<T>) -> R) -> R {
        genuine.withUnsafeBufferPointer { g in
            impostor.withUnsafeBufferPointer { i in
                var walker = PointWalker(genuine: g, impostor: i, genuineFailures: genuineFailures)
                return body(&walker)
            }
        }
    }

    /// Visits every operating point over distinct thresholds in descending threshold order:
    /// the reject-all threshold `+inf` first (when no score is `+inf`), then each distinct score.
    /// `body(t, falseAccepts, falseRejects)` receives the similarity-scale threshold.
    /// - Complexity: O(nG + nI).
    func forEachPoint(_ body: (T, Int, Int) -> Void) {
        withWalker { w in
            while let p = w.next() { body(p.t, p.fa, p.fr) }
        }
    }

    /// The full curve (one point per distinct threshold plus reject-all).
    /// - Complexity: O(nG + nI) time and memory.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func curve() -> DETCurve {
        var points = [CurvePoint]()
        withWalker { w in
            while let p = w.next() {
                points.append(CurvePoint(threshold: reported(p.t), falseAccepts: p.fa, falseRejects: p.fr))
            }
        }
        return DETCurve(points: points, genuineCount: genuineCount, impostorCount: impostorCount)
    }

    /// EER: where the polyline through consecutive (FAR, FRR) points crosses FAR = FRR.
    ///
    /// The crossing is the first segment, walking from the reject-all end, whose FAR - FRR goes
    /// from negative to non-negative; the value is linearly interpolated on that segment. The
    /// threshold is the segment end nearer the crossing (the stricter one on a tie, decided on
    /// counts). Nil when the polyline never reaches FAR >= FRR (possible only with failures).
    /// - Complexity: O(points up to the crossing).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func equalErrorRate() -> EqualErrorRate? {
        let nI = Double(impostorCount), nG = Double(genuineCount)
        return withWalker { w -> EqualErrorRate? in
            guard let first = w.next() else { return nil }
            var px = Double(first.fa) / nI, py = Double(first.fr) / nG
            var pt = first.t, pfa = first.fa, pfr = first.fr
            if px == py { return EqualErrorRate(value: px, threshold: reported(pt)) }
            while let p = w.next() {
                let x = Double(p.fa) / nI, y = Double(p.fr) / nG
                let pd = px - py, d = x - y
                if pd < 0 && d >= 0 {
                    let s = -pd / (d - pd)
                    let value = px + s * (x - px)
                    // -pd <= d decided exactly on counts: (pfr + fr) / nG <= (pfa + fa) / nI.
                    let lhs = (pfr + p.fr).multipliedFullWidth(by: impostorCount)
                    let rhs = (pfa + p.fa).multipliedFullWidth(by: genuineCount)
                    let nearer = lhs <= rhs ? pt : p.t
                    return EqualErrorRate(value: value, threshold: reported(nearer))
                }
                px = x; py = y; pt = p.t; pfa = p.fa; pfr = p.fr
            }
            return nil
        }
    }

    /// ROCCH-EER: the EER of the lower convex hull of the curve's points together with
    /// (FAR 0, FRR 1) and (FAR 1, FRR 0).
    ///
    /// Only the first point of each FRR level can be a hull vertex (later ones share its FRR at a
    /// higher FAR), so the hull is built from at most nG + 2 candidates.
    /// - Complexity: O(nG + nI) time, O(hull) memory.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func rocchEER() -> Double {
        let nI = Double(impostorCount), nG = Double(genuineCount)
        var hull: [(x: Double, y: Double)] = [(0, 1)]
        hull.reserveCapacity(1024)
        withWalker { w in
            var lastFR = -1
            while let p = w.next() {
                if p.fr == lastFR { continue }
                lastFR = p.fr
                addToLowerHull((Double(p.fa) / nI, Double(p.fr) / nG), &hull)
            }
        }
        addToLowerHull((1, 0), &hull)
        return polylineEER(hull) ?? 0
    }

    /// ROC AUC = P(g > i) + 0.5 P(g = i) over all genuine/impostor pairs; NaN ranks as `-inf`.
    /// - Complexity: O(nG + nI), exact integer counts.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func rocAUC() -> Double {
        let fi = impostorFailures
        var twiceWins: UInt64 = 0
        genuine.withUnsafeBufferPointer { g in
            impostor.withUnsafeBufferPointer { i in
                let negInfImpostors = fi + ScoreMetrics.upperBound(i, -T.infinity)
                // Failed genuine comparisons rank as -inf: they tie with -inf and failed impostors.
                twiceWins &+= UInt64(genuineFailures) &* UInt64(negInfImpostors)
                var ip = 0
                var j = 0
                while j < g.count {
                    let v = g[j]
                    var run = 1
                    while j + run < g.count && g[j + run] == v { run += 1 }
                    while ip < i.count && i[ip] < v { ip += 1 }
                    var eq = ip
                    while eq < i.count && i[eq] == v { eq += 1 }
                    let below: Int, ties: Int
                    if v == -T.infinity { below = 0; ties = negInfImpostors } else { below = fi + ip; ties = eq - ip }
                    twiceWins &+= UInt64(run) &* UInt64(2 * below + ties)
                    j += run
                }
            }
        }
        return Double(twiceWins) / (2.0 * Double(genuineCount) * Double(impostorCount))
    }

    /// Average precision (genuine positive): the sum over distinct thresholds, descending, of
    /// (R_n - R_{n-1}) * P_n, with NaN ranked as `-inf` — scikit-learn's `average_precision_score`.
    /// - Complexity: O(nG + nI).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func averagePrecision() -> Double {
        let nG = genuineCount, nI = impostorCount
        var ap = 0.0
        var previousTP = 0
        genuine.withUnsafeBufferPointer { g in
            impostor.withUnsafeBufferPointer { i in
                var j = g.count
                var ip = i.count
                while j > 0 {
                    let v = g[j - 1]
                    if v == -T.infinity { break }
                    while j > 0 && g[j - 1] == v { j -= 1 }
                    while ip > 0 && i[ip - 1] >= v { ip -= 1 }
                    let tp = g.count - j, fp = i.count - ip
                    ap += Double(tp - previousTP) / Double(nG) * (Double(tp) / Double(tp + fp))
                    previousTP = tp
                }
            }
        }
        if previousTP < nG {
            ap += Double(nG - previousTP) / Double(nG) * (Double(nG) / Double(nG + nI))
        }
        return ap
    }

    /// pAUC@a: the area under TPR(FAR) for FAR in [0, a] divided by a, linear between ROC
    /// points, starting at (0, 0); held flat beyond the last point when failures keep FAR below a.
    /// - Complexity: O(nG + nI).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func partialAUC(maxFAR a: Double) -> Double {
        withWalker { w -> Double in
            partialAreaUnderROC(maxFAR: a, impostors: impostorCount, genuines: genuineCount) {
                w.next().map { (fa: $0.fa, fr: $0.fr) }
            }
        }
    }
}

/// The area under the ROC (FAR, 1 - FRR) from FAR 0 to `a`, divided by `a`: trapezoids between the
/// corner points `next()` gives in ascending FAR, starting at (0, 0), the last one cut at FAR = `a`
/// by linear interpolation, held flat beyond the last point when failures keep FAR below `a`.
/// Shared by the in-memory curve and the merged shards' curve.
func partialAreaUnderROC<E: Error>(maxFAR a: Double, impostors: Int, genuines: Int,
                                   next: () throws(E) -> (fa: Int, fr: Int)?) throws(E) -> Double {
    let nI = Double(impostors), nG = Double(genuines)
    var area = 0.0
    var px = 0.0, py = 0.0
    while let p = try next() {
        let x = Double(p.fa) / nI, y = 1 - Double(p.fr) / nG
        if x >= a {
            let yAtA = x == px ? py : py + (y - py) * (a - px) / (x - px)
            area += (a - px) * (py + yAtA) / 2
            return area / a
        }
        area += (x - px) * (py + y) / 2
        px = x; py = y
    }
    area += (a - px) * py
    return area / a
}

/// Adds a point (in ascending FAR) to the lower convex hull of the points added before it.
@inline(__always) func addToLowerHull(_ p: (x: Double, y: Double), _ hull: inout [(x: Double, y: Double)]) {
    while let last = hull.last, last.x == p.x, p.y <= last.y { hull.removeLast() }
    while hull.count >= 2 {
        let o = hull[hull.count - 2], a = hull[hull.count - 1]
        let cross = (a.x - o.x) * (p.y - o.y) - (a.y - o.y) * (p.x - o.x)
        if cross <= 0 { hull.removeLast() } else { break }
    }
    if let last = hull.last, last.x == p.x, last.y <= p.y { return }
    hull.append(p)
}

/// The crossing of a (FAR, FRR) polyline with FAR = FRR, walking from its first point.
func polylineEER(_ points: [(x: Double, y: Double)]) -> Double? {
    guard let first = points.first else { return nil }
    if first.x == first.y { return first.x }
    for j in 1..<points.count {
        let p = points[j - 1], q = points[j]
        let pd = p.x - p.y, d = q.x - q.y
        if pd < 0 && d >= 0 {
            let s = -pd / (d - pd)
            return p.x + s * (q.x - p.x)
        }
    }
    return nil
}
