import AlaverifyBase
import Foundation
import ScoreMetrics

/// The DET plot: FRR against FAR on normal-deviate (or log) axes, several systems overlaid.
///
/// Both axes share one range, so the plotting area is square in rate units and FAR = FRR is
/// its diagonal. The range runs from a round rate just below the finest rate any system can
/// resolve (1/nI, 1/nG) or any requested target, up to 40% or the round rate above the largest
/// of 1.6 x EER, every operating point's rates and the FRR at the curve's first false accept
/// (so the curve stays in view over every resolvable FAR), at most 99.9%.
/// The bands FAR < 1/nI and FRR < 1/nG (largest n over the systems) are shaded: no system can
/// resolve rates there. Each operating point is a marker with its confidence interval drawn as
/// a cross; not-estimable points are hollow.
public struct DETPlot: ReportFigure {
    /// The systems, in legend order.
    public var series: [PlotSeries]
    /// Probit or log axes.
    public var axes: DETAxes
    /// Where things go.
    public var layout: PlotLayout
    /// The range and transform of both axes.
    public var axis: RateAxis
    /// The differences from the first system, listed in the legend (with their intervals).
    public var differences: [SystemDifference]

    /// Creates the plot and chooses its range from the data.
    public init(series: [PlotSeries], axes: DETAxes = .probit, layout: PlotLayout = .square, differences: [SystemDifference] = []) {
        self.series = series
        self.axes = axes
        self.layout = layout
        self.axis = DETPlot.range(series, axes: axes)
        self.differences = differences
    }

    public var fileName: String { "det.png" }
    public var title: String { axes == .probit ? "DET curve (normal-deviate axes)" : "DET curve (log axes)" }
    public var shownMetrics: JSONValue { shownMetricsJSON(series) }

    /// The shared axis: lower end a round rate below the finest resolvable rate or target.
    static func range(_ series: [PlotSeries], axes: DETAxes) -> RateAxis {
        var need = 0.01
        var highest = 0.0
        for s in series {
            let m = s.metrics
            need = min(need, 1 / Double(max(m.impostorCount, 1)), 1 / Double(max(m.genuineCount, 1)))
            for p in m.operatingPoints {
                need = min(need, p.target)
                for r in [p.far, p.frr].compactMap({ $0 }) where r > 0 { need = min(need, r) }
            }
            highest = max(highest, (m.eer?.value ?? 0) * 1.6)
            // The curve from its first false accept on stays in view.
            let c = s.detCurve
            if let j = c.points.firstIndex(where: { $0.falseAccepts > 0 }), c.frr(j) < 1 { highest = max(highest, c.frr(j)) }
            for p in m.operatingPoints {
                for r in [p.far, p.frr].compactMap({ $0 }) where r < 1 { highest = max(highest, r) }
            }
            for t in s.thresholds {
                for r in [t.far, t.frr] where r > 0 && r < 1 {
                    need = min(need, r)
                    highest = max(highest, r)
                }
            }
        }
        let limit = need * 0.95
        var lower = 1e-9
        switch axes {
        case .probit:
            for e in stride(from: -9, through: -1, by: 1) {
                for m in [1.0, 2, 5] where decimalPower(m, e) < limit { lower = decimalPower(m, e) }
            }
            let upper = [0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999].first { $0 >= min(highest, 0.999) } ?? 0.999
            return RateAxis(scale: .probit, lower: lower, upper: upper)
        case .log:
            lower = decimalPower(1, Int(log10(limit).rounded(.down)))
            return RateAxis(scale: .log, lower: max(lower, 1e-9), upper: 1)
        }
    }

    /// The pixel of a (FAR, FRR) pair.
    public func pixel(far: Double, frr: Double) -> (x: Double, y: Double) {
        (layout.x(axis.fraction(far)), layout.y(axis.fraction(frr)))
    }

    public func render() throws(ReportError) -> RGBAImage {
        let canvas = try Canvas(width: layout.width, height: layout.height)
        let r = layout.plot
        let painter = AxesPainter(canvas: canvas, layout: layout)
        let maxNI = series.map(\.metrics.impostorCount).max() ?? 1
        let maxNG = series.map(\.metrics.genuineCount).max() ?? 1

        // Unresolvable bands.
        let farFloor = min(max(pixel(far: 1 / Double(maxNI), frr: 0.5).x, r.x), r.maxX)
        let frrFloor = max(min(pixel(far: 0.5, frr: 1 / Double(maxNG)).y, r.maxY), r.y)
        canvas.fill(Rect(x: r.x, y: r.y, width: farFloor - r.x, height: r.height), .shade)
        canvas.fill(Rect(x: r.x, y: frrFloor, width: r.width, height: r.maxY - frrFloor), .shade)

        let ticks = axis.ticks.map { (axis.fraction($0), RateAxis.percentLabel($0)) }
        let minor = axis.minorTicks.map { axis.fraction($0) }
        painter.xTicks(ticks, minor: minor)
        painter.yTicks(ticks, minor: minor)
        if farFloor - r.x >= 18 {
            canvas.verticalText("FAR < 1/nI: not resolvable", x: (r.x + farFloor) / 2 + 5, y: r.y + r.height * 0.3, size: 12, color: Color(hex: 0x707070))
        }
        if r.maxY - frrFloor >= 18 {
            canvas.text("FRR < 1/nG: not resolvable", x: r.maxX - 8, y: (frrFloor + r.maxY) / 2 + 4.5, size: 12, anchor: .right, color: Color(hex: 0x707070))
        }

        canvas.clipped(to: r) {
            // FAR = FRR.
            canvas.line(r.x, r.maxY, r.maxX, r.y, Color(hex: 0x808080), width: 1.2, dash: [7, 5])
            // Requested targets.
            var farTargets = Set<Double>(), frrTargets = Set<Double>()
            for s in series {
                for p in s.metrics.operatingPoints {
                    if p.metric.isFRRAtFAR { farTargets.insert(p.target) } else { frrTargets.insert(p.target) }
                }
            }
            for a in farTargets.sorted() {
                let x = pixel(far: a, frr: 0.5).x
                canvas.line(x, r.y, x, r.maxY, Color(hex: 0x505050), width: 1, dash: [2, 3])
            }
            for b in frrTargets.sorted() {
                let y = pixel(far: 0.5, frr: b).y
                canvas.line(r.x, y, r.maxX, y, Color(hex: 0x505050), width: 1, dash: [2, 3])
            }
            // Other systems' own resolution limits, when they differ.
            for (k, s) in series.enumerated() where s.metrics.impostorCount != maxNI {
                let x = pixel(far: 1 / Double(s.metrics.impostorCount), frr: 0.5).x
                canvas.line(x, r.y, x, r.maxY, Color.series[k % Color.series.count].alpha(0.6), width: 1, dash: [1, 3])
            }
            // Curves.
            for (k, s) in series.enumerated() {
                canvas.polyline(curvePixels(s.detCurve), Color.series[k % Color.series.count], width: 2, roundCaps: true)
            }
        }
        // Operating points: markers beyond the range sit on the frame.
        canvas.clipped(to: Rect(x: r.x - 8, y: r.y - 8, width: r.width + 16, height: r.height + 16)) {
            var tags = [Rect]()
            for (k, s) in series.enumerated() {
                for p in s.metrics.operatingPoints { drawPoint(canvas, p, color: Color.series[k % Color.series.count], tags: &tags) }
            }
            drawFixedThresholds(canvas)
        }
        painter.frame()
        painter.titles(title: title, x: "False accept rate, FAR (%)", y: "False reject rate, FRR (%)")
        // Target labels above the frame.
        var lastRight = -Double.infinity
        let targets = Set(series.flatMap { $0.metrics.operatingPoints.filter(\.metric.isFRRAtFAR).map(\.target) }).sorted()
        for a in targets {
            let x = pixel(far: a, frr: 0.5).x
            guard x >= r.x, x <= r.maxX else { continue }
            let label = compactRate(a)
            let w = canvas.textWidth(label, size: 11)
            if x - w / 2 > lastRight + 4 && x + w / 2 < layout.width.double {
                canvas.text(label, x: x, y: r.y - 6, size: 11, anchor: .center, color: Color(hex: 0x505050))
                lastRight = x + w / 2
            }
        }
        drawLegend(canvas)
        return try canvas.image()
    }

    /// Pixels of a thinned curve, leaving out points at FAR = 0 or FRR = 0 (at infinity).
    func curvePixels(_ c: DETCurve) -> [(Double, Double)] {
        let r = layout.plot
        var out = [(Double, Double)]()
        out.reserveCapacity(c.points.count)
        for j in c.points.indices where c.points[j].falseAccepts > 0 && c.points[j].falseRejects > 0 {
            let p = pixel(far: c.far(j), frr: c.frr(j))
            out.append((clampPixel(p.x, r.x, r.maxX), clampPixel(p.y, r.y, r.maxY)))
        }
        return out
    }

    func drawPoint(_ canvas: Canvas, _ p: OperatingPoint, color: Color, tags: inout [Rect]) {
        guard let far = p.far, let frr = p.frr else { return }
        let r = layout.plot
        let level = p.interval?.level ?? 0.95
        // The marker sits at the achieved rates; with no false accepts at all it sits at the target.
        let x = far > 0 ? far : (p.metric.isFRRAtFAR ? p.target : far)
        let y = frr > 0 ? frr : (p.metric.isFRRAtFAR ? frr : p.target)
        let center = pixel(far: x, frr: y)
        let cx = min(max(center.x.isNaN ? r.x : center.x, r.x), r.maxX), cy = min(max(center.y.isNaN ? r.y : center.y, r.y), r.maxY)
        let farCI: (Double, Double)?, frrCI: (Double, Double)?
        if p.metric.isFRRAtFAR {
            frrCI = p.interval.map { ($0.lower, $0.upper) }
            farCI = p.falseAccepts.map { k in let w = wilsonInterval(successes: k, trials: p.impostorCount, level: level); return (w.lower, w.upper) }
        } else {
            farCI = p.interval.map { ($0.lower, $0.upper) }
            frrCI = p.falseRejects.map { k in let w = wilsonInterval(successes: k, trials: p.genuineCount, level: level); return (w.lower, w.upper) }
        }
        if let (lo, hi) = farCI {
            let a = edgeClamp(pixel(far: lo, frr: 0.5).x, r.x, r.maxX), b = edgeClamp(pixel(far: hi, frr: 0.5).x, r.x, r.maxX)
            canvas.line(a, cy, b, cy, color, width: 1.6)
            for e in [a, b] where e >= r.x && e <= r.maxX { canvas.line(e, cy - 4, e, cy + 4, color, width: 1.6) }
        }
        if let (lo, hi) = frrCI {
            let a = edgeClamp(pixel(far: 0.5, frr: lo).y, r.y, r.maxY), b = edgeClamp(pixel(far: 0.5, frr: hi).y, r.y, r.maxY)
            canvas.line(cx, a, cx, b, color, width: 1.6)
            for e in [a, b] where e >= r.y && e <= r.maxY { canvas.line(cx - 4, e, cx + 4, e, color, width: 1.6) }
        }
        let hollow = !p.estimable || p.estimableBySubjects == false
        Marker(color: color, hollow: hollow).draw(canvas, x: cx, y: cy, radius: 5)
        if hollow {
            let right = cx + 60 < r.maxX
            let ty = cy - 8 < r.y + 12 ? cy + 18 : cy - 8
            let w = canvas.textWidth("n.e.", size: 11.5)
            let box = Rect(x: right ? cx + 8 : cx - 10 - w, y: ty - 11, width: w + 2, height: 13)
            if !tags.contains(where: { $0.overlaps(box) }) {
                canvas.text("n.e.", x: box.x + 1, y: ty, size: 11.5, color: color)
                tags.append(box)
            }
        }
    }

    func drawLegend(_ canvas: Canvas) {
        var legend = LegendWriter(canvas: canvas, area: layout.legend)
        for (k, s) in series.enumerated() {
            let color = Color.series[k % Color.series.count]
            let m = s.metrics
            // Keep room for the key below; the summary lists every system anyway.
            if !legend.fits(lines: (series.count <= 3 ? 2 : 1) * m.operatingPoints.count + s.thresholds.count + 4 + (k == series.count - 1 ? 0 : 2), reserve: 6) {
                legend.line("+ \(series.count - k) more system(s): see summary.md", indent: 0)
                break
            }
            legend.heading(s.name, color: color)
            if let eer = m.eer { legend.line("EER \(percent(eer.value))") } else { legend.line("EER not reached") }
            for p in m.operatingPoints {
                let marker = Marker(color: color, hollow: !p.estimable || p.estimableBySubjects == false)
                if series.count <= 3 {
                    legend.line(pointHeadline(p), marker: marker)
                    if let ci = p.interval, p.value != nil {
                        legend.line("CI [\(percent(ci.lower)), \(percent(ci.upper))]", color: Color(hex: 0x666666), indent: 48)
                    }
                } else {
                    legend.line(pointSummary(p), marker: marker)
                }
            }
            for t in s.thresholds { legend.line(fixedThresholdLine(t), marker: Marker(color: color, hollow: false, diamond: true)) }
            legend.line("nG \(grouped(m.genuineCount)) · nI \(grouped(m.impostorCount))", color: Color(hex: 0x666666))
            legend.gap()
        }
        let shown = differences.filter { $0.interval != nil }
        if !shown.isEmpty, legend.fits(lines: 2 * shown.count + 1, reserve: 6) {
            legend.heading("difference (paired bootstrap)", color: .axis)
            for d in shown {
                guard let diff = d.difference, let ci = d.interval else { continue }
                legend.line("\(d.system) − \(d.reference), \(d.metric): \(String(format: "%+.1f", diff * 100)) pts")
                legend.line("CI [\(String(format: "%+.1f", ci.lower * 100)), \(String(format: "%+.1f", ci.upper * 100))]\(d.resolved == true ? "" : ": 0 inside")",
                            color: Color(hex: 0x666666), indent: 48)
            }
            legend.gap()
        }
        legend.gap(4)
        drawKey(&legend, canvas)
    }

    func drawKey(_ legend: inout LegendWriter, _ canvas: Canvas) {
        let x = layout.legend.x
        canvas.line(x, legend.y - 4.5, x + 26, legend.y - 4.5, Color(hex: 0x808080), width: 1.2, dash: [7, 5])
        legend.line("FAR = FRR (EER line)")
        canvas.fill(Rect(x: x, y: legend.y - 11, width: 26, height: 12), .shade)
        legend.line("below 1/n: not resolvable")
        canvas.line(x, legend.y - 4.5, x + 26, legend.y - 4.5, Color(hex: 0x505050), width: 1, dash: [2, 3])
        legend.line("requested operating point")
        let methods = Set(series.flatMap { $0.metrics.operatingPoints.compactMap(\.interval?.method) }).sorted()
        let level = series.lazy.flatMap { $0.metrics.operatingPoints.compactMap(\.interval?.level) }.first ?? 0.95
        canvas.line(x + 6, legend.y - 4.5, x + 20, legend.y - 4.5, .axis, width: 1.6)
        canvas.line(x + 13, legend.y - 11.5, x + 13, legend.y + 2.5, .axis, width: 1.6)
        legend.line("\(Int((level * 100).rounded()))% CI of FRR (\(methods.isEmpty ? "none" : methods.joined(separator: ", ")))")
        legend.line("and of FAR (Wilson at the threshold)")
        Marker(color: .axis, hollow: true).draw(canvas, x: x + 13, y: legend.y - 4.5)
        legend.line("n.e.: not estimable (target · n < 3)")
        if series.contains(where: { !$0.thresholds.isEmpty }) {
            Marker(color: .axis, hollow: false, diamond: true).draw(canvas, x: x + 13, y: legend.y - 4.5)
            legend.line("fixed threshold (dots: from target)")
        }
    }
}

/// One line per operating point: `frr@far=1e-3: 12.3% [11.2%, 13.4%]`.
func pointSummary(_ p: OperatingPoint) -> String {
    guard let v = p.value else { return "\(p.metric): unreachable" }
    var s = "\(p.metric): \(percent(v))"
    if let ci = p.interval { s += " [\(percent(ci.lower)), \(percent(ci.upper))]" }
    if !p.estimable { s += " n.e." } else if p.estimableBySubjects == false { s += " n.e. (subjects)" }
    return s
}

/// `frr@far=1e-3: 12.3%`, with `not estimable` or `unreachable` when so.
func pointHeadline(_ p: OperatingPoint) -> String {
    guard let v = p.value else { return "\(p.metric): unreachable" }
    var s = "\(p.metric): \(percent(v))"
    if !p.estimable { s += ", not estimable" } else if p.estimableBySubjects == false { s += ", n.e. (subjects)" }
    return s
}

/// A pixel coordinate clamped onto [lo, hi] (NaN to lo).
@inline(__always) func edgeClamp(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
    v.isNaN ? lo : min(max(v, lo), hi)
}

/// `1e-4`, `0.001`, `0.05`: the SPEC spelling of a rate.
func compactRate(_ a: Double) -> String { Metric.frrAtFAR(a).description.replacingOccurrences(of: "frr@far=", with: "") }

/// The metrics a figure shows: per system the counts, EER, AUC and operating points.
func shownMetricsJSON(_ series: [PlotSeries]) -> JSONValue {
    .array(series.map { MetricsJSON.system(NamedMetrics(name: $0.name, source: $0.source, metrics: $0.metrics)) })
}

extension Int {
    var double: Double { Double(self) }
}
