import AlaverifyBase
import Foundation
import ScoreMetrics

/// Genuine and impostor score distributions of one system with its operating thresholds.
///
/// Each class is drawn as the share of its comparisons per bin (so both are visible whatever
/// nG and nI are); every operating point's threshold and the EER threshold are vertical lines.
public struct HistogramPlot: ReportFigure {
    /// The system.
    public var series: PlotSeries
    /// Index of the system in the report (file name and colour).
    public var index: Int
    /// Where things go.
    public var layout: PlotLayout

    /// Creates the plot for the system at `index`.
    public init(series: PlotSeries, index: Int, layout: PlotLayout = .wide) {
        self.series = series
        self.index = index
        self.layout = layout
    }

    public var fileName: String { "hist-\(index + 1)-\(fileSlug(series.name)).png" }
    public var title: String { "Score distributions: \(series.name)" }
    public var shownMetrics: JSONValue { shownMetricsJSON([series]) }

    static let genuineColor = Color(hex: 0x2CA02C)
    static let impostorColor = Color(hex: 0xD62728)

    /// The largest share of one bin over both classes, the top of the vertical axis before rounding.
    var peak: Double {
        let h = series.histogram
        let g = (h.genuine.max() ?? 0).double / max(h.genuineTotal, 1).double
        let i = (h.impostor.max() ?? 0).double / max(h.impostorTotal, 1).double
        return max(g, i, 1e-9)
    }

    public func render() throws(ReportError) -> RGBAImage {
        let canvas = try Canvas(width: layout.width, height: layout.height)
        let r = layout.plot
        let h = series.histogram
        let painter = AxesPainter(canvas: canvas, layout: layout)
        let yTicks = niceTicks(0, peak * 1.08, count: 6)
        let top = max(yTicks.last ?? peak, peak * 1.08)
        let xTicks = niceTicks(h.lower, h.upper, count: 8)
        func fx(_ v: Double) -> Double { (v - h.lower) / (h.upper - h.lower) }
        painter.xTicks(xTicks.map { (fx($0), shortNumber($0)) })
        painter.yTicks(yTicks.map { (($0 / top), RateAxis.percentLabel($0)) })
        canvas.clipped(to: r) {
            for (counts, total, color) in [(h.impostor, h.impostorTotal, HistogramPlot.impostorColor), (h.genuine, h.genuineTotal, HistogramPlot.genuineColor)] {
                var outline = [(Double, Double)]()
                outline.append((layout.x(0), layout.y(0)))
                for k in counts.indices {
                    let share = counts[k].double / max(total, 1).double
                    let y = layout.y(share / top)
                    outline.append((layout.x(Double(k) / Double(counts.count)), y))
                    outline.append((layout.x(Double(k + 1) / Double(counts.count)), y))
                }
                outline.append((layout.x(1), layout.y(0)))
                canvas.fillPolygon(outline, color.alpha(0.28))
                canvas.polyline(outline, color, width: 1.5)
            }
            for (t, dash, _, _) in thresholdLines() {
                let x = layout.x(fx(t))
                canvas.line(x, r.y, x, r.maxY, .axis, width: 1.4, dash: dash)
            }
        }
        // Threshold tags above the frame, on a second row when they would overlap.
        var rowRight = [-Double.infinity, -Double.infinity]
        for (t, _, _, tag) in thresholdLines().sorted(by: { $0.0 < $1.0 }) {
            let x = layout.x(fx(t))
            guard x >= r.x, x <= r.maxX else { continue }
            let w = canvas.textWidth(tag, size: 11)
            guard let row = rowRight.indices.first(where: { x - w / 2 > rowRight[$0] + 4 }) else { continue }
            canvas.text(tag, x: x, y: r.y - 6 - 14 * Double(row), size: 11, anchor: .center, color: .axis)
            rowRight[row] = x + w / 2
        }
        painter.frame()
        let unit = series.metrics.polarity == .distance ? "Distance (accept iff distance <= t)" : "Score (accept iff score >= t)"
        painter.titles(title: title, x: unit, y: "Share of comparisons per bin (%)")

        var legend = LegendWriter(canvas: canvas, area: layout.legend)
        let m = series.metrics
        canvas.fill(Rect(x: layout.legend.x, y: legend.y - 11, width: 26, height: 12), HistogramPlot.genuineColor.alpha(0.5))
        legend.line("genuine: \(grouped(h.genuineTotal))")
        canvas.fill(Rect(x: layout.legend.x, y: legend.y - 11, width: 26, height: 12), HistogramPlot.impostorColor.alpha(0.5))
        legend.line("impostor: \(grouped(h.impostorTotal))")
        if m.genuineFailures + m.impostorFailures > 0 {
            legend.line("failed (not drawn): \(grouped(m.genuineFailures)) G, \(grouped(m.impostorFailures)) I", color: Color(hex: 0x666666))
        }
        if h.clamped > 0 { legend.line("\(grouped(h.clamped)) outside, in end bins", color: Color(hex: 0x666666)) }
        legend.gap()
        for (t, dash, tag, _) in thresholdLines() {
            canvas.line(layout.legend.x, legend.y - 4.5, layout.legend.x + 26, legend.y - 4.5, .axis, width: 1.4, dash: dash)
            legend.line("\(tag): t = \(shortNumber(t, digits: 6))")
        }
        for p in m.operatingPoints {
            guard let t = p.threshold, !t.isFinite else { continue }
            legend.line("\(p.metric): t = \(shortNumber(t)) (\((t > 0) == (m.polarity == .similarity) ? "rejects all" : "accepts all"))")
        }
        for p in m.operatingPoints where !p.reachable { legend.line("\(p.metric): unreachable") }
        return try canvas.image()
    }

    /// (threshold, dash, name, short tag) for the EER and every reachable operating point.
    func thresholdLines() -> [(Double, [Double], String, String)] {
        var out = [(Double, [Double], String, String)]()
        if let eer = series.metrics.eer, eer.threshold.isFinite { out.append((eer.threshold, [2, 3], "EER", "EER")) }
        for p in series.metrics.operatingPoints {
            guard let t = p.threshold, t.isFinite else { continue }
            let tag = (p.metric.isFRRAtFAR ? "FAR " : "FRR ") + compactRate(p.target)
            out.append((t, [6, 4], p.metric.description, tag))
        }
        return out
    }
}

/// A file-name-safe form of a system name: letters, digits, `-`, `_` and `.`.
func fileSlug(_ name: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    let s = String(name.map { allowed.contains($0) ? $0 : "_" }.prefix(60))
    return s.isEmpty ? "system" : s
}
