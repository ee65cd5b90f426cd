import ScoreMetrics

/// One system as the plots show it: its metrics, thinned curves and score histogram.
public struct PlotSeries: Sendable {
    /// Display name (legend, file names).
    public var name: String
    /// The score file it came from.
    public var source: String
    /// The metrics shown.
    public var metrics: SystemMetrics
    /// The curve thinned for the DET plot's axes.
    public var detCurve: DETCurve
    /// The curve thinned for the ROC plot (log FAR, linear FRR).
    public var rocCurve: DETCurve
    /// Score histogram.
    public var histogram: ScoreHistogram

    /// Creates a series from parts.
    public init(name: String, source: String, metrics: SystemMetrics, detCurve: DETCurve, rocCurve: DETCurve, histogram: ScoreHistogram) {
        self.name = name
        self.source = source
        self.metrics = metrics
        self.detCurve = detCurve
        self.rocCurve = rocCurve
        self.histogram = histogram
    }

    /// Thins the curves of sorted scores whose metrics are known, keeping the points around
    /// every operating point and the EER.
    /// - Complexity: O((maxPoints + k) · log n + bins · log n).
    public init<T>(name: String, source: String, sorted: SortedScores<T>, metrics: SystemMetrics, axes: DETAxes, maxPoints: Int = 1500) {
        var keep = metrics.operatingPoints.compactMap(\.threshold)
        if let eer = metrics.eer { keep.append(eer.threshold) }
        self.init(
            name: name, source: source, metrics: metrics,
            detCurve: sorted.thinnedCurve(CurveThinning(maxPoints: maxPoints, farScale: axes.scale, frrScale: axes.scale), keepingThresholds: keep),
            rocCurve: sorted.thinnedCurve(CurveThinning(maxPoints: maxPoints, farScale: .log, frrScale: .linear), keepingThresholds: keep),
            histogram: sorted.histogram(including: keep))
    }

    /// Sorts, evaluates and thins a score set.
    public static func make(
        name: String, source: String, scores: consuming AnyScoreSet, options: EvaluationOptions, axes: DETAxes
    ) throws(EvaluationError) -> PlotSeries {
        switch consume scores {
        case .float(let s):
            let sorted = SortedScores(s)
            return PlotSeries(name: name, source: source, sorted: sorted, metrics: try sorted.evaluate(options), axes: axes)
        case .double(let s):
            let sorted = SortedScores(s)
            return PlotSeries(name: name, source: source, sorted: sorted, metrics: try sorted.evaluate(options), axes: axes)
        }
    }
}
