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
    /// Results at thresholds fixed elsewhere (e.g. chosen on a dev file), marked on the DET.
    public var thresholds: [ThresholdResult] = []

    /// Creates a series from parts.
    public init(name: String, source: String, metrics: SystemMetrics, detCurve: DETCurve, rocCurve: DETCurve, histogram: ScoreHistogram) {
        self.name = name
        self.source = source
        self.metrics = metrics
        self.detCurve = detCurve
        self.rocCurve = rocCurve
        self.histogram = histogram
    }

    /// Sorts, evaluates, applies `thresholds` and thins a score set: the DET curve for `axes`, the ROC curve for log
    /// FAR and linear FRR, each keeping the points around every operating point and the EER.
    /// - Complexity: O(n) to sort and evaluate, plus O(maxPoints · log n).
    public static func make(
        name: String, source: String, scores: consuming AnyScoreSet, options: EvaluationOptions, axes: DETAxes,
        maxPoints: Int = 1500, thresholds: [FixedThreshold] = []
    ) throws -> PlotSeries {
        let summary = try scores.plotSummary(options, thinnings: [
            CurveThinning(maxPoints: maxPoints, farScale: axes.scale, frrScale: axes.scale),
            CurveThinning(maxPoints: maxPoints, farScale: .log, frrScale: .linear),
        ], thresholds: thresholds)
        var series = PlotSeries(
            name: name, source: source, metrics: summary.metrics, detCurve: summary.curves[0], rocCurve: summary.curves[1],
            histogram: summary.histogram)
        series.thresholds = summary.thresholds
        return series
    }
}
