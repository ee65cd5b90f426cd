/// Genuine and impostor score counts over equal-width bins, in the input's units.
public struct ScoreHistogram: Sendable, Equatable {
    /// Left edge of the first bin.
    public var lower: Double
    /// Right edge of the last bin.
    public var upper: Double
    /// Genuine comparisons per bin (failures excluded; scores outside the range in the end bins).
    public var genuine: [Int]
    /// Impostor comparisons per bin, likewise.
    public var impostor: [Int]
    /// Non-failed genuine scores (the sum of `genuine`).
    public var genuineTotal: Int
    /// Non-failed impostor scores.
    public var impostorTotal: Int
    /// Scores (both classes) outside [lower, upper] that were counted in the end bins.
    public var clamped: Int

    /// The width of one bin.
    public var binWidth: Double { (upper - lower) / Double(genuine.count) }
}

extension SortedScores {
    /// A histogram over the central range of both classes (0.1% to 99.9% quantiles of each),
    /// widened to every finite value of `including` (input units) and padded by 2%; a bin is
    /// [e_k, e_k+1) on the similarity scale, (e_k, e_k+1] for distances.
    /// - Complexity: O(bins · log n).
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func histogram(bins: Int = 100, including: [Double] = []) -> ScoreHistogram {
        genuine.withUnsafeBufferPointer { g in
            impostor.withUnsafeBufferPointer { i in
                func finite(_ a: UnsafeBufferPointer<T>, _ q: Double) -> Double? {
                    let lo = ScoreMetrics.upperBound(a, -T.infinity), hi = ScoreMetrics.lowerBound(a, T.infinity)
                    guard hi > lo else { return nil }
                    let k = lo + Int((Double(hi - lo - 1) * q).rounded())
                    return Double(a[k])
                }
                let lows = [finite(g, 0.001), finite(i, 0.001)].compactMap { $0 }
                let highs = [finite(g, 0.999), finite(i, 0.999)].compactMap { $0 }
                let extra = including.filter(\.isFinite).map { polarity == .distance ? -$0 : $0 }
                let (lo, hi) = histogramRange(lows: lows, highs: highs, including: extra)
                let n = max(bins, 1)
                let distance = polarity == .distance
                // Edges on the similarity scale, ascending.
                let edges = (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
                func counts(_ a: UnsafeBufferPointer<T>) -> (bins: [Int], clamped: Int) {
                    var out = [Int](repeating: 0, count: n)
                    var cut = edges.map { e -> Int in ScoreMetrics.lowerBound(a, T(e)) }
                    cut[0] = 0
                    cut[n] = a.count
                    for k in 0..<n { out[k] = cut[k + 1] - cut[k] }
                    let outside = ScoreMetrics.lowerBound(a, T(edges[0])) + (a.count - ScoreMetrics.lowerBound(a, T(edges[n])))
                    return (distance ? out.reversed() : out, outside)
                }
                let cg = counts(g), ci = counts(i)
                return ScoreHistogram(
                    lower: distance ? -hi : lo, upper: distance ? -lo : hi, genuine: cg.bins, impostor: ci.bins,
                    genuineTotal: g.count, impostorTotal: i.count, clamped: cg.clamped + ci.clamped)
            }
        }
    }
}

/// The range a histogram covers: the lowest low and highest high (with the values it must
/// include), one unit wide when they coincide, padded by 2% on each side.
func histogramRange(lows: [Double], highs: [Double], including extra: [Double]) -> (lo: Double, hi: Double) {
    var lo = (lows + extra).min() ?? 0, hi = (highs + extra).max() ?? 1
    if !(hi > lo) { lo -= 0.5; hi += 0.5 }
    let pad = (hi - lo) * 0.02
    return (lo - pad, hi + pad)
}
