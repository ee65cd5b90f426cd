import AlaverifyBase
import Foundation
import ScoreMetrics

/// The ROC plot: true accept rate (1 - FRR, linear) against FAR on a log axis.
public struct ROCPlot: ReportFigure {
    /// The systems, in legend order.
    public var series: [PlotSeries]
    /// Where things go.
    public var layout: PlotLayout
    /// The FAR axis (log10).
    public var farAxis: RateAxis
    /// The true-accept-rate axis (linear).
    public var tarAxis: RateAxis

    /// Creates the plot: FAR from the DET plot's lower end to 100%, TAR from a round value
    /// below the lowest TAR shown up to 100%.
    public init(series: [PlotSeries], layout: PlotLayout = .square) {
        self.series = series
        self.layout = layout
        let det = DETPlot.range(series, axes: .log)
        farAxis = RateAxis(scale: .log, lower: det.lower, upper: 1)
        var lowest = 1.0
        for s in series {
            let c = s.rocCurve
            for j in c.points.indices where c.far(j) >= det.lower { lowest = min(lowest, 1 - c.frr(j)) }
        }
        let bottom = min(max(((lowest - 0.02) * 10).rounded(.down) / 10, 0), 0.9)
        tarAxis = RateAxis(scale: .linear, lower: bottom, upper: 1)
    }

    public var fileName: String { "roc.png" }
    public var title: String { "ROC curve (log FAR axis)" }
    public var shownMetrics: JSONValue { shownMetricsJSON(series) }

    /// The pixel of a (FAR, TAR) pair.
    public func pixel(far: Double, tar: Double) -> (x: Double, y: Double) {
        (layout.x(farAxis.fraction(far)), layout.y(tarAxis.fraction(tar)))
    }

    public func render() throws(ReportError) -> RGBAImage {
        let canvas = try Canvas(width: layout.width, height: layout.height)
        let r = layout.plot
        let painter = AxesPainter(canvas: canvas, layout: layout)
        let maxNI = series.map(\.metrics.impostorCount).max() ?? 1
        let farFloor = min(max(pixel(far: 1 / Double(maxNI), tar: 0.5).x, r.x), r.maxX)
        canvas.fill(Rect(x: r.x, y: r.y, width: farFloor - r.x, height: r.height), .shade)
        painter.xTicks(farAxis.ticks.map { (farAxis.fraction($0), RateAxis.percentLabel($0)) }, minor: farAxis.minorTicks.map { farAxis.fraction($0) })
        painter.yTicks(tarAxis.ticks.map { (tarAxis.fraction($0), RateAxis.percentLabel($0)) })
        canvas.clipped(to: r) {
            for (k, s) in series.enumerated() {
                let c = s.rocCurve
                var pts = [(Double, Double)]()
                for j in c.points.indices where c.points[j].falseAccepts > 0 {
                    let p = pixel(far: c.far(j), tar: 1 - c.frr(j))
                    pts.append((clampPixel(p.x, r.x, r.maxX), clampPixel(p.y, r.y, r.maxY)))
                }
                canvas.polyline(pts, Color.series[k % Color.series.count], width: 2, roundCaps: true)
            }
            for (k, s) in series.enumerated() {
                let color = Color.series[k % Color.series.count]
                for p in s.metrics.operatingPoints {
                    guard let far = p.far, let frr = p.frr else { continue }
                    let x = far > 0 ? far : p.target
                    let c = pixel(far: x, tar: 1 - frr)
                    if p.metric.isFRRAtFAR, let ci = p.interval {
                        let a = pixel(far: x, tar: 1 - ci.lower).y, b = pixel(far: x, tar: 1 - ci.upper).y
                        canvas.line(c.x, a, c.x, b, color, width: 1.6)
                        canvas.line(c.x - 4, a, c.x + 4, a, color, width: 1.6)
                        canvas.line(c.x - 4, b, c.x + 4, b, color, width: 1.6)
                    }
                    Marker(color: color, hollow: !p.estimable || p.estimableBySubjects == false).draw(canvas, x: clampPixel(c.x, r.x, r.maxX), y: c.y, radius: 5)
                }
            }
        }
        painter.frame()
        painter.titles(title: title, x: "False accept rate, FAR (%, log scale)", y: "True accept rate, 1 - FRR (%)")
        var legend = LegendWriter(canvas: canvas, area: layout.legend)
        for (k, s) in series.enumerated() {
            let color = Color.series[k % Color.series.count]
            let m = s.metrics
            // Keep room for the key below; the summary lists every system anyway.
            if !legend.fits(lines: m.operatingPoints.count + m.partialAUCs.count + 3 + (k == series.count - 1 ? 0 : 2), reserve: 2) {
                legend.line("+ \(series.count - k) more system(s): see summary.md", indent: 0)
                break
            }
            legend.heading(s.name, color: color)
            if let auc = m.rocAUC { legend.line(String(format: "ROC AUC %.5f", auc)) }
            for p in m.partialAUCs { legend.line(String(format: "%@ %.5f", p.metric.description, p.value)) }
            for p in m.operatingPoints where p.metric.isFRRAtFAR {
                let tar = p.frr.map { "TAR \(percent(1 - $0))" } ?? "unreachable"
                legend.line("at FAR \(compactRate(p.target)): \(tar)\(p.estimable ? "" : " n.e.")", marker: Marker(color: color, hollow: !p.estimable))
            }
            legend.gap()
        }
        legend.gap(4)
        canvas.fill(Rect(x: layout.legend.x, y: legend.y - 11, width: 26, height: 12), .shade)
        legend.line("FAR < 1/nI: not resolvable")
        return try canvas.image()
    }
}
