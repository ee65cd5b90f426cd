import AlaverifyBase
import Foundation
import ScoreMetrics

/// A linear value axis widened to round tick values.
public struct LinearAxis: Sendable, Equatable {
    /// The value at the bottom (or left) end and at the top (or right) end.
    public var lower: Double, upper: Double
    /// Labelled values, ascending, from `lower` to `upper`.
    public var ticks: [Double]

    /// The smallest axis with round ends (1, 2, 2.5 or 5 x 10^k steps, about `count` of them)
    /// that covers [lo, hi]; a span below `minimumSpan` is widened around its middle first.
    /// `margin` (a fraction of the rounded span) then widens both ends beyond the end ticks, so
    /// values there stay clear of the frame.
    public init(covering lo: Double, _ hi: Double, count: Int = 5, minimumSpan: Double = 1e-6, margin: Double = 0) {
        var lo = lo.isFinite ? lo : 0, hi = hi.isFinite ? hi : 1
        if lo > hi { swap(&lo, &hi) }
        if hi - lo < minimumSpan {
            let mid = (lo + hi) / 2
            lo = mid - minimumSpan / 2
            hi = mid + minimumSpan / 2
        }
        let raw = (hi - lo) / Double(max(count, 1))
        let magnitude = Foundation.pow(10, log10(raw).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
        let first = (lo / step + 1e-9).rounded(.down), last = (hi / step - 1e-9).rounded(.up)
        // Through 12 significant digits so that 3 x 0.1 is the literal 0.3.
        ticks = stride(from: first, through: last, by: 1).map { k in
            abs(k) < 0.5 ? 0 : Double(String(format: "%.12g", k * step))!
        }
        let pad = (last - first) * step * margin
        lower = ticks.first! - pad
        upper = ticks.last! + pad
    }

    /// Where a value lies along the axis: 0 at `lower`, 1 at `upper`.
    public func fraction(_ v: Double) -> Double { (v - lower) / (upper - lower) }
}

/// The horizontal extent of each validation in the schedule figures: a cell centred on its
/// step, with edges halfway to the neighbouring validations (the first and last cells are as
/// wide as their neighbours' gaps).
public struct StepCells: Sendable, Equatable {
    /// The validation steps, ascending.
    public var steps: [Int]
    /// `steps.count + 1` cell edges, ascending.
    public var edges: [Double]

    /// Cells for the given steps (duplicates removed).
    public init(_ steps: [Int]) {
        let s = Array(Set(steps)).sorted()
        self.steps = s
        guard let first = s.first else { edges = [0, 1]; return }
        guard s.count > 1 else {
            let half = Double(max(first, 1)) / 2
            edges = [Double(first) - half, Double(first) + half]
            return
        }
        var e = [Double(s[0]) - Double(s[1] - s[0]) / 2]
        for k in 1..<s.count { e.append(Double(s[k - 1] + s[k]) / 2) }
        e.append(Double(s[s.count - 1]) + Double(s[s.count - 1] - s[s.count - 2]) / 2)
        edges = e
    }

    /// The axis start: the first cell's left edge.
    public var lower: Double { edges.first! }
    /// The axis end: the last cell's right edge.
    public var upper: Double { edges.last! }
    /// Where a step lies along the axis (0 at `lower`, 1 at `upper`).
    public func fraction(_ step: Double) -> Double { (step - lower) / (upper - lower) }
    /// The index of a validation step's cell.
    public func cell(ofStep step: Int) -> Int? { steps.firstIndex(of: step) }
}

/// Colours shared by the training figures.
enum TrainingColors {
    /// Heat map ends: ColorBrewer RdBu (blue below the neutral weight, red above it).
    static let low = Color(hex: 0x2166AC)
    static let neutral = Color(hex: 0xF7F7F7)
    static let high = Color(hex: 0xB2182B)
    /// Action raster: lower, keep, raise.
    static let lower = Color(hex: 0x4393C3)
    static let keep = Color(hex: 0xEBEBEB)
    static let raise = Color(hex: 0xD6604D)
    static let best = Color(hex: 0x111111)

    static func mix(_ a: Color, _ b: Color, _ t: Double) -> Color {
        let t = min(max(t, 0), 1)
        return Color(a.r * (1 - t) + b.r * t, a.g * (1 - t) + b.g * t, a.b * (1 - t) + b.b * t)
    }
}

/// The diverging colour scale of the bin-weight heat maps: `neutral` (the weight that leaves
/// the loss unchanged, 1) is near-white, `lower` full blue, `upper` full red, linear between.
public struct WeightColorScale: Sendable, Equatable {
    /// The weights drawn at full blue, near-white and full red.
    public var lower: Double, neutral: Double, upper: Double

    /// The scale for weights spanning [minimum, maximum]: at least neutral ± 0.5, so small
    /// changes stay faint and equal weights give equal colours within one figure.
    public init(minimum: Double, maximum: Double, neutral: Double = 1) {
        self.neutral = neutral
        lower = min(minimum, neutral - 0.5)
        upper = max(maximum, neutral + 0.5)
    }

    /// The colour of a weight.
    public func color(_ w: Double) -> Color {
        w <= neutral
            ? TrainingColors.mix(TrainingColors.neutral, TrainingColors.low, (neutral - w) / (neutral - lower))
            : TrainingColors.mix(TrainingColors.neutral, TrainingColors.high, (w - neutral) / (upper - neutral))
    }
}

/// A value as the training figures print it: percent for error rates, 4 decimals otherwise.
func metricText(_ v: Double, _ metric: Metric) -> String {
    metric.lowerIsBetter ? percent(v) : String(format: "%.4f", v)
}

/// A tick label of a linear axis: no more decimals than the ticks need.
func tickLabel(_ v: Double, ticks: [Double], scale: Double = 1) -> String {
    let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) * scale : 1
    // As many decimals as the tick step needs to be written exactly (0.25 -> 2, 5 -> 0).
    var decimals = 0
    while decimals < 6 {
        let shifted = step * Foundation.pow(10, Double(decimals))
        if abs(shifted - shifted.rounded()) <= 1e-6 * max(shifted, 1) { break }
        decimals += 1
    }
    let text = String(format: "%.\(decimals)f", v * scale)
    return text == "-0" ? "0" : text
}

/// Draws a panel's grid, y ticks (labels only when `labelled`) and x ticks (labels only when `xLabels`).
private func panelAxes(_ canvas: Canvas, _ r: Rect, yTicks: [(Double, String)], xTicks: [(Double, String)], labelled: Bool, xLabels: Bool) {
    let painter = AxesPainter(canvas: canvas, layout: PlotLayout(width: canvas.width, height: canvas.height, plot: r, legend: r))
    painter.yTicks(yTicks.map { ($0.0, labelled ? $0.1 : "") })
    painter.xTicks(xTicks.map { ($0.0, xLabels ? $0.1 : "") })
}

/// The dark outline of a panel.
private func frame(_ canvas: Canvas, _ r: Rect) {
    canvas.strokeRect(Rect(x: r.x + 0.5, y: r.y + 0.5, width: r.width - 1, height: r.height - 1), .axis)
}

/// Round step ticks inside [lower, upper] with integer labels.
private func stepTicks(_ lower: Double, _ upper: Double, fraction: (Double) -> Double) -> [(Double, String)] {
    niceTicks(max(lower, 0), upper, count: 7).filter { $0 == $0.rounded() }.map { (fraction($0), String(Int($0))) }
}

// MARK: - Target and loss over steps

/// The validation target per child over training steps, the best validation marked (the model
/// kept as `model.h5`), and the mean training loss per child below on a second panel.
public struct TrainingTargetPlot: ReportFigure {
    /// The run's history.
    public var history: TrainingHistory
    /// The run's display name.
    public var run: String
    /// Index of the run among the report's inputs (file name).
    public var index: Int
    /// The target panel (top).
    public let targetPanel = Rect(x: 90, y: 64, width: 620, height: 390)
    /// The loss panel (bottom), sharing the step axis.
    public let lossPanel = Rect(x: 90, y: 500, width: 620, height: 184)
    /// The legend panel.
    public let legendArea = Rect(x: 740, y: 64, width: 290, height: 620)
    /// Steps from 0 to the last validation.
    public let stepAxis: LinearAxis
    /// The target's axis.
    public let valueAxis: LinearAxis
    /// The training loss's axis.
    public let lossAxis: LinearAxis

    /// Creates the figure for the run at `index`.
    public init(history: TrainingHistory, run: String, index: Int) {
        self.history = history
        self.run = run
        self.index = index
        let steps = history.records.map(\.step)
        stepAxis = LinearAxis(covering: 0, Double(steps.max() ?? 1), count: 7, minimumSpan: 1)
        let values = history.records.map(\.value).filter(\.isFinite)
        valueAxis = LinearAxis(covering: values.min() ?? 0, values.max() ?? 1, count: 6, minimumSpan: 0.01, margin: 0.04)
        let losses = history.records.map(\.loss).filter(\.isFinite)
        lossAxis = LinearAxis(covering: losses.min() ?? 0, losses.max() ?? 1, count: 4, minimumSpan: 1e-3, margin: 0.04)
    }

    public var fileName: String { "train-\(index + 1)-\(fileSlug(run))-target.png" }
    public var title: String { "Validation \(history.target) and training loss: \(run)" }
    public var shownMetrics: JSONValue {
        var members: [(String, JSONValue)] = [("target", .string(history.target.description))]
        if let b = history.best {
            members.append(("best", .object([("step", .int(b.step)), ("child", .int(b.child)), ("value", .double(b.value))])))
        }
        members.append(("final", .array(history.children.map { c in
            let last = history.records(child: c).last!
            return .object([("child", .int(c)), ("step", .int(last.step)), ("value", .double(last.value)), ("loss", .double(last.loss))])
        })))
        return .object(members)
    }

    /// The pixel of a validation value at a step (target panel).
    public func pixel(step: Double, value: Double) -> (x: Double, y: Double) {
        (targetPanel.x + stepAxis.fraction(step) * targetPanel.width, targetPanel.maxY - valueAxis.fraction(value) * targetPanel.height)
    }

    /// The pixel of a training loss at a step (loss panel).
    public func lossPixel(step: Double, loss: Double) -> (x: Double, y: Double) {
        (lossPanel.x + stepAxis.fraction(step) * lossPanel.width, lossPanel.maxY - lossAxis.fraction(loss) * lossPanel.height)
    }

    public func render() throws(ReportError) -> RGBAImage {
        let canvas = try Canvas(width: 1040, height: 760)
        let metric = history.target
        let rate = metric.lowerIsBetter
        let xTicks = stepTicks(stepAxis.lower, stepAxis.upper, fraction: stepAxis.fraction)
        panelAxes(canvas, targetPanel, yTicks: valueAxis.ticks.map { (valueAxis.fraction($0), tickLabel($0, ticks: valueAxis.ticks, scale: rate ? 100 : 1)) },
                  xTicks: xTicks, labelled: true, xLabels: false)
        panelAxes(canvas, lossPanel, yTicks: lossAxis.ticks.map { (lossAxis.fraction($0), tickLabel($0, ticks: lossAxis.ticks)) },
                  xTicks: xTicks, labelled: true, xLabels: true)
        let best = history.best
        if let best {
            let x = pixel(step: Double(best.step), value: 0).x.rounded() + 0.5
            for r in [targetPanel, lossPanel] { canvas.line(x, r.y, x, r.maxY, TrainingColors.best.alpha(0.55), width: 1.2, dash: [5, 4]) }
        }
        let children = history.children
        let dots = history.steps.count <= 80
        for (k, c) in children.enumerated() {
            let color = Color.series[k % Color.series.count]
            let records = history.records(child: c)
            // The axes cover every finite value, so nothing needs clipping.
            let values = records.filter { $0.value.isFinite }.map { pixel(step: Double($0.step), value: $0.value) }
            canvas.polyline(values.map { ($0.x, $0.y) }, color, width: 2, roundCaps: true)
            if dots { for p in values { canvas.circle(p.x, p.y, radius: 2.6, fill: color, stroke: color, width: 1) } }
            let losses = records.filter { $0.loss.isFinite }.map { lossPixel(step: Double($0.step), loss: $0.loss) }
            canvas.polyline(losses.map { ($0.x, $0.y) }, color, width: 1.8, roundCaps: true)
            if dots { for p in losses { canvas.circle(p.x, p.y, radius: 2.2, fill: color, stroke: color, width: 1) } }
        }
        if let best {
            let k = children.firstIndex(of: best.child) ?? 0
            let p = pixel(step: Double(best.step), value: best.value)
            canvas.circle(p.x, p.y, radius: 7.5, fill: Color.series[k % Color.series.count], stroke: TrainingColors.best, width: 2.2)
            let label = "best: step \(best.step)"
            let w = canvas.textWidth(label, size: 12, bold: true)
            let left = p.x + 8 + w > targetPanel.maxX - 4
            canvas.text(label, x: left ? p.x - 8 : p.x + 8, y: targetPanel.y + 17, size: 12, anchor: left ? .right : .left, color: TrainingColors.best, bold: true)
        }
        frame(canvas, targetPanel)
        frame(canvas, lossPanel)
        canvas.text(title, x: targetPanel.x, y: 28, size: 18, bold: true)
        canvas.text("Training step", x: lossPanel.x + lossPanel.width / 2, y: lossPanel.maxY + 46, size: 14.5, anchor: .center)
        canvas.verticalText("Validation \(metric)\(rate ? " (%)" : "")", x: 26, y: targetPanel.y + targetPanel.height / 2, size: 14.5)
        canvas.verticalText("Training loss", x: 26, y: lossPanel.y + lossPanel.height / 2, size: 14.5)

        var legend = LegendWriter(canvas: canvas, area: legendArea)
        legend.line(rate ? "lower is better" : "higher is better", color: Color(hex: 0x666666), indent: 0)
        legend.gap(4)
        for (k, c) in children.enumerated() {
            if !legend.fits(lines: 3, reserve: 4) {
                legend.line("+ \(children.count - k) more child model(s)", indent: 0)
                break
            }
            let records = history.records(child: c)
            legend.heading("child \(c)", color: Color.series[k % Color.series.count])
            if let last = records.last { legend.line("last: \(metricText(last.value, metric)) at step \(last.step)") }
            if let b = history.bestRecord(child: c) { legend.line("best: \(metricText(b.value, metric)) at step \(b.step)") }
            legend.gap(4)
        }
        if let best {
            legend.gap(6)
            let k = children.firstIndex(of: best.child) ?? 0
            canvas.circle(legendArea.x + 13, legend.y - 4.5, radius: 6.5, fill: Color.series[k % Color.series.count], stroke: TrainingColors.best, width: 2)
            legend.line("best validation, kept as model.h5:")
            legend.line("child \(best.child), step \(best.step): \(metricText(best.value, metric))")
        }
        legend.gap(6)
        legend.line("loss: mean over the steps since", indent: 0)
        legend.line("the previous validation", indent: 0)
        return try canvas.image()
    }
}

extension TrainingHistory {
    /// The best validation of one child (same rule as `best`).
    func bestRecord(child: Int) -> HistoryRecord? {
        TrainingHistory(target: target, parameterNames: parameterNames, records: records(child: child)).best
    }
}

// MARK: - Loss parameters over steps

/// The loss parameters the run used over its validations, one column per child (at most four):
/// the scale, the other scalars (margins, balance) as staircase lines, and each family of
/// per-bin weights as a heat map over (validation step, similarity bin).
public struct TrainingParametersPlot: ReportFigure {
    /// The run's history.
    public var history: TrainingHistory
    /// The run's display name.
    public var run: String
    /// Index of the run among the report's inputs.
    public var index: Int
    /// The children drawn (the first four).
    public let shownChildren: [Int]
    /// The grouping of the parameters.
    public let groups: ParameterGroups
    /// The validations' cells along x.
    public let cells: StepCells
    /// One entry per row: its title, its y-axis label and its panel in each column.
    public let rows: [(kind: RowKind, title: String, panels: [Rect])]
    /// Image size (it grows with the number of columns and rows).
    public let width: Int, height: Int
    /// The legend panel, right of the columns.
    public let legendArea: Rect
    /// The value axis of the scale row.
    public let scaleAxis: LinearAxis
    /// The value axis of the other scalars' row.
    public let scalarAxis: LinearAxis
    /// The colour scale of the heat maps.
    public let weights: WeightColorScale

    /// What a row shows.
    public enum RowKind: Sendable, Equatable {
        case scale
        case scalars
        /// The family at this index of `groups.binned`.
        case bins(Int)
    }

    /// Lays out the figure for the run at `index`.
    public init(history: TrainingHistory, run: String, index: Int) {
        self.history = history
        self.run = run
        self.index = index
        shownChildren = Array(history.children.prefix(4))
        groups = ParameterGroups(history.parameterNames)
        cells = StepCells(history.steps)
        let n = shownChildren.count
        let gap = 30.0
        let columnWidth = n == 1 ? 620 : max(260, (620 - Double(n - 1) * gap) / Double(n))
        let total = Double(n) * columnWidth + Double(n - 1) * gap
        var rows = [(kind: RowKind, title: String, panels: [Rect])]()
        var y = 92.0
        func add(_ kind: RowKind, _ title: String, _ h: Double) {
            rows.append((kind, title, (0..<n).map { Rect(x: 90 + Double($0) * (columnWidth + gap), y: y, width: columnWidth, height: h) }))
            y += h + 40
        }
        if !groups.scale.isEmpty { add(.scale, "scale", 110) }
        if !groups.scalars.isEmpty { add(.scalars, "margins and balance", 160) }
        for (g, family) in groups.binned.enumerated() {
            add(.bins(g), "\(family.name)[b]", min(max(Double(family.indices.count) * 15, 64), 200))
        }
        self.rows = rows
        legendArea = Rect(x: 90 + total + 30, y: 64, width: 290, height: max(y - 64, 300))
        width = Int(legendArea.maxX + 10)
        height = Int(max(y, 64 + 300) + 42)
        let shown = shownChildren
        func range(_ indices: [Int]) -> (Double, Double) {
            var lo = Double.infinity, hi = -Double.infinity
            for r in history.records where shown.contains(r.child) {
                for k in indices where k >= 0 { lo = min(lo, r.parameters[k]); hi = max(hi, r.parameters[k]) }
            }
            return lo <= hi ? (lo, hi) : (0, 1)
        }
        let groups = self.groups
        let s = range(groups.scale)
        scaleAxis = LinearAxis(covering: s.0, s.1, count: 3, minimumSpan: 1, margin: 0.04)
        let m = range(groups.scalars)
        scalarAxis = LinearAxis(covering: m.0, m.1, count: 4, minimumSpan: 0.2, margin: 0.04)
        let w = range(groups.binned.flatMap(\.indices))
        weights = WeightColorScale(minimum: w.0, maximum: w.1)
    }

    public var fileName: String { "train-\(index + 1)-\(fileSlug(run))-parameters.png" }
    public var title: String { "Loss parameters over training: \(run)" }
    public var shownMetrics: JSONValue {
        .object([
            ("final_loss_parameters", .array(history.children.map { c in
                let last = history.records(child: c).last!
                return .object([("child", .int(c)), ("step", .int(last.step)),
                                 ("values", .object(zip(history.parameterNames, last.parameters).map { ($0, .double($1)) }))])
            })),
        ])
    }

    /// The horizontal pixel of a step in column `column`.
    public func x(step: Double, column: Int) -> Double {
        let r = rows[0].panels[column]
        return r.x + cells.fraction(step) * r.width
    }

    /// The centre of the heat-map cell of (validation step, bin) in a column, for family `g`.
    public func cellCentre(family g: Int, step: Int, bin: Int, column: Int) -> (x: Double, y: Double)? {
        guard let row = rows.first(where: { $0.kind == .bins(g) }), let k = cells.cell(ofStep: step) else { return nil }
        let r = row.panels[column]
        let bins = Double(groups.binned[g].indices.count)
        let x0 = r.x + cells.fraction(cells.edges[k]) * r.width, x1 = r.x + cells.fraction(cells.edges[k + 1]) * r.width
        return ((x0 + x1) / 2, r.maxY - (Double(bin) + 0.5) / bins * r.height)
    }

    /// The pixel of a scalar value at a step in the scale (`scale: true`) or scalar row.
    public func pixel(step: Double, value: Double, scale: Bool, column: Int) -> (x: Double, y: Double)? {
        guard let row = rows.first(where: { $0.kind == (scale ? .scale : .scalars) }) else { return nil }
        let r = row.panels[column]
        let axis = scale ? scaleAxis : scalarAxis
        return (r.x + cells.fraction(step) * r.width, r.maxY - axis.fraction(value) * r.height)
    }

    /// The colour index of each scalar parameter (scale first, then the others).
    var scalarColors: [Int: Color] {
        var out = [Int: Color]()
        for (j, k) in (groups.scale + groups.scalars).enumerated() { out[k] = Color.series[j % Color.series.count] }
        return out
    }

    /// The dash pattern of each scalar parameter: the first of a panel solid, the next dashed,
    /// then dotted, so that lines at equal values (a fixed loss's margins and balance) stay visible.
    var scalarDashes: [Int: [Double]] {
        let patterns: [[Double]] = [[], [7, 4], [2, 3], [10, 3, 2, 3]]
        var out = [Int: [Double]]()
        for (j, k) in groups.scale.enumerated() { out[k] = patterns[j % patterns.count] }
        for (j, k) in groups.scalars.enumerated() { out[k] = patterns[j % patterns.count] }
        return out
    }

    public func render() throws(ReportError) -> RGBAImage {
        let canvas = try Canvas(width: width, height: height)
        let colors = scalarColors
        let dashes = scalarDashes
        for (column, child) in shownChildren.enumerated() {
            let records = history.records(child: child)
            let first = rows[0].panels[column]
            canvas.text("child \(child)", x: first.x + first.width / 2, y: first.y - 24, size: 14, anchor: .center, bold: true)
            for (rowIndex, row) in rows.enumerated() {
                let r = row.panels[column]
                let last = rowIndex == rows.count - 1
                let xTicks = stepTicks(cells.lower, cells.upper, fraction: cells.fraction)
                switch row.kind {
                case .scale, .scalars:
                    let axis = row.kind == .scale ? scaleAxis : scalarAxis
                    let indices = row.kind == .scale ? groups.scale : groups.scalars
                    panelAxes(canvas, r, yTicks: axis.ticks.map { (axis.fraction($0), tickLabel($0, ticks: axis.ticks)) }, xTicks: xTicks,
                              labelled: column == 0, xLabels: last)
                    canvas.clipped(to: r) {
                        for k in indices {
                            var pts = [(Double, Double)]()
                            for (j, rec) in records.enumerated() {
                                guard let c = cells.cell(ofStep: rec.step) else { continue }
                                let y = r.maxY - axis.fraction(rec.parameters[k]) * r.height
                                let x0 = r.x + cells.fraction(cells.edges[c]) * r.width, x1 = r.x + cells.fraction(cells.edges[c + 1]) * r.width
                                if j > 0 { pts.append((x0, pts.last!.1)) }
                                pts.append((x0, y))
                                pts.append((x1, y))
                            }
                            canvas.polyline(pts, colors[k]!, width: 2, dash: dashes[k]!)
                        }
                    }
                case .bins(let g):
                    let family = groups.binned[g]
                    let bins = Double(family.indices.count)
                    let similarityTicks = [-1.0, -0.5, 0, 0.5, 1].map { (($0 + 1) / 2, $0 == 0 ? "0" : String(format: "%g", $0)) }
                    panelAxes(canvas, r, yTicks: similarityTicks, xTicks: xTicks, labelled: column == 0, xLabels: last)
                    canvas.fill(r, Color(hex: 0xBBBBBB))
                    for rec in records {
                        guard let c = cells.cell(ofStep: rec.step) else { continue }
                        let x0 = (r.x + cells.fraction(cells.edges[c]) * r.width).rounded()
                        let x1 = (r.x + cells.fraction(cells.edges[c + 1]) * r.width).rounded()
                        for (b, k) in family.indices.enumerated() where k >= 0 {
                            let y1 = (r.maxY - Double(b) / bins * r.height).rounded(), y0 = (r.maxY - Double(b + 1) / bins * r.height).rounded()
                            canvas.fill(Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0), weights.color(rec.parameters[k]))
                        }
                    }
                }
                frame(canvas, r)
                if column == 0 {
                    canvas.text(row.title, x: r.x, y: r.y - 7, size: 12.5, bold: true)
                    let axisTitle: String
                    switch row.kind {
                    case .scale: axisTitle = "value"
                    case .scalars: axisTitle = "value"
                    case .bins: axisTitle = "similarity"
                    }
                    canvas.verticalText(axisTitle, x: 24, y: r.y + r.height / 2, size: 12.5)
                }
            }
        }
        canvas.text(title, x: 90, y: 28, size: 18, bold: true)
        let bottom = rows.last!.panels[0].maxY
        let plotRight = rows.last!.panels.last!.maxX
        canvas.text("Validation step (the values chosen there, kept until the next)", x: (90 + plotRight) / 2, y: bottom + 44, size: 14, anchor: .center)

        var legend = LegendWriter(canvas: canvas, area: legendArea)
        if !groups.scale.isEmpty || !groups.scalars.isEmpty {
            for k in groups.scale + groups.scalars { legend.heading(history.parameterNames[k], color: colors[k]!, dash: dashes[k]!) }
            legend.gap(10)
        }
        if !groups.binned.isEmpty {
            legend.line("bin weight (1 = neutral)", indent: 0)
            legend.gap(4)
            let bar = Rect(x: legendArea.x, y: legend.y - 8, width: 220, height: 16)
            let steps = 110
            for j in 0..<steps {
                let w = weights.lower + (weights.upper - weights.lower) * (Double(j) + 0.5) / Double(steps)
                canvas.fill(Rect(x: bar.x + Double(j) * bar.width / Double(steps), y: bar.y, width: bar.width / Double(steps) + 0.6, height: bar.height), weights.color(w))
            }
            canvas.strokeRect(Rect(x: bar.x + 0.5, y: bar.y + 0.5, width: bar.width - 1, height: bar.height - 1), .axis)
            for v in [weights.lower, weights.neutral, weights.upper] {
                let x = bar.x + (v - weights.lower) / (weights.upper - weights.lower) * bar.width
                canvas.line(x, bar.maxY, x, bar.maxY + 4, .axis)
                canvas.text(shortNumber(v, digits: 3), x: x, y: bar.maxY + 17, size: 11.5, anchor: .center)
            }
            legend.gap(bar.height + 26)
            legend.line("rows: similarity bins of width \(shortNumber(2 / Double(max(groups.binned[0].indices.count, 1)), digits: 3))", indent: 0)
            legend.line("on [-1, 1]; grey: not logged", indent: 0)
        }
        if history.children.count > shownChildren.count {
            legend.gap(8)
            legend.line("children \(shownChildren.count)...\(history.children.count - 1) not drawn", indent: 0)
        }
        return try canvas.image()
    }
}

// MARK: - Controller actions, reward and entropy

/// What the ALA controller did: per child a raster of its actions (-1 / 0 / +1) per loss
/// parameter over validations, then the reward per child with the baseline, then the policy entropy.
public struct TrainingControllerPlot: ReportFigure {
    /// The run's history.
    public var history: TrainingHistory
    /// The run's display name.
    public var run: String
    /// Index of the run among the report's inputs.
    public var index: Int
    /// The children whose actions are drawn (the first four).
    public let shownChildren: [Int]
    /// The validations' cells along x.
    public let cells: StepCells
    /// One action raster per shown child (rows: parameters; columns: validations).
    public let rasters: [Rect]
    /// The reward panel, below the rasters.
    public let rewardPanel: Rect
    /// The policy-entropy panel, at the bottom.
    public let entropyPanel: Rect
    /// The reward's axis.
    public let rewardAxis: LinearAxis
    /// The entropy axis: 0 to ln 3 (a uniform choice among three actions) or the largest logged value.
    public let entropyAxis: LinearAxis
    /// Image size (the height grows with the parameters and children).
    public let width = 1040, height: Int
    /// The legend panel, right of the plots.
    public let legendArea: Rect

    /// Lays out the figure for the run at `index`.
    public init(history: TrainingHistory, run: String, index: Int) {
        self.history = history
        self.run = run
        self.index = index
        shownChildren = Array(history.children.prefix(4))
        cells = StepCells(history.steps)
        let parameters = Double(history.parameterNames.count)
        let rowHeight = min(max(260 / parameters, 5), 14).rounded(.down)
        var y = 84.0
        var rasters = [Rect]()
        for _ in shownChildren {
            rasters.append(Rect(x: 170, y: y, width: 540, height: rowHeight * parameters))
            y += rowHeight * parameters + 36
        }
        self.rasters = rasters
        rewardPanel = Rect(x: 170, y: y + 4, width: 540, height: 150)
        entropyPanel = Rect(x: 170, y: rewardPanel.maxY + 40, width: 540, height: 100)
        height = Int(entropyPanel.maxY + 62)
        legendArea = Rect(x: 740, y: 64, width: 290, height: entropyPanel.maxY - 64)
        var values = [0.0]
        for r in history.records {
            if let x = r.reward, x.isFinite { values.append(x) }
            if let x = r.baseline, x.isFinite { values.append(x) }
        }
        rewardAxis = LinearAxis(covering: values.min()!, values.max()!, count: 4, minimumSpan: 0.02, margin: 0.04)
        let maxEntropy = history.records.compactMap(\.policyEntropy).filter(\.isFinite).max() ?? 0
        entropyAxis = LinearAxis(covering: 0, max(log(3.0), maxEntropy), count: 4)
    }

    public var fileName: String { "train-\(index + 1)-\(fileSlug(run))-controller.png" }
    public var title: String { "ALA controller: actions, reward, policy entropy: \(run)" }
    public var shownMetrics: JSONValue {
        var raises = 0, keeps = 0, lowers = 0
        for r in history.records { for a in r.actions ?? [] { if a > 0 { raises += 1 } else if a < 0 { lowers += 1 } else { keeps += 1 } } }
        let entropy = history.records.compactMap(\.policyEntropy)
        return .object([
            ("actions", .object([("raise", .int(raises)), ("keep", .int(keeps)), ("lower", .int(lowers))])),
            ("policy_entropy_first", .double(entropy.first)), ("policy_entropy_last", .double(entropy.last)),
        ])
    }

    /// The centre of the raster cell of (validation step, parameter) for a shown child's index.
    public func cellCentre(step: Int, parameter: Int, column: Int) -> (x: Double, y: Double)? {
        guard let k = cells.cell(ofStep: step), rasters.indices.contains(column) else { return nil }
        let r = rasters[column]
        let h = r.height / Double(history.parameterNames.count)
        let x0 = r.x + cells.fraction(cells.edges[k]) * r.width, x1 = r.x + cells.fraction(cells.edges[k + 1]) * r.width
        return ((x0 + x1) / 2, r.y + (Double(parameter) + 0.5) * h)
    }

    /// The pixel of a reward at a step.
    public func rewardPixel(step: Double, reward: Double) -> (x: Double, y: Double) {
        (rewardPanel.x + cells.fraction(step) * rewardPanel.width, rewardPanel.maxY - rewardAxis.fraction(reward) * rewardPanel.height)
    }

    /// The horizontal extent of child number `k`'s reward bar (of `n` children) in a validation's cell.
    public func rewardBar(step: Int, child k: Int, of n: Double) -> (x: Double, width: Double)? {
        guard let c = cells.cell(ofStep: step) else { return nil }
        let x0 = rewardPanel.x + cells.fraction(cells.edges[c]) * rewardPanel.width
        let x1 = rewardPanel.x + cells.fraction(cells.edges[c + 1]) * rewardPanel.width
        let inner = (x1 - x0) * 0.7, width = inner / n
        return (x0 + (x1 - x0) * 0.15 + Double(k) * width, width)
    }

    /// The pixel of a policy entropy at a step.
    public func entropyPixel(step: Double, entropy: Double) -> (x: Double, y: Double) {
        (entropyPanel.x + cells.fraction(step) * entropyPanel.width, entropyPanel.maxY - entropyAxis.fraction(entropy) * entropyPanel.height)
    }

    public func render() throws(ReportError) -> RGBAImage {
        let canvas = try Canvas(width: width, height: height)
        let names = history.parameterNames
        let xTicks = stepTicks(cells.lower, cells.upper, fraction: cells.fraction)
        for (column, child) in shownChildren.enumerated() {
            let r = rasters[column]
            let h = r.height / Double(names.count)
            // Tick marks first: the cells then cover the grid lines inside the raster.
            let painter = AxesPainter(canvas: canvas, layout: PlotLayout(width: width, height: height, plot: r, legend: r))
            painter.xTicks(xTicks.map { ($0.0, "") })
            canvas.fill(r, Color(hex: 0xBBBBBB))
            for rec in history.records(child: child) {
                guard let actions = rec.actions, let k = cells.cell(ofStep: rec.step) else { continue }
                let x0 = (r.x + cells.fraction(cells.edges[k]) * r.width).rounded(), x1 = (r.x + cells.fraction(cells.edges[k + 1]) * r.width).rounded()
                for (p, a) in actions.enumerated() {
                    let y0 = (r.y + Double(p) * h).rounded(), y1 = (r.y + Double(p + 1) * h).rounded()
                    canvas.fill(Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0),
                                a > 0 ? TrainingColors.raise : a < 0 ? TrainingColors.lower : TrainingColors.keep)
                }
            }
            // Thin white rules between cells keep neighbouring cells of one colour readable.
            for e in cells.edges.dropFirst().dropLast() {
                let x = (r.x + cells.fraction(e) * r.width).rounded()
                canvas.line(x, r.y, x, r.maxY, Color.white.alpha(0.9), width: 1)
            }
            // White rules between the parameter groups (scalars, each bin family).
            var previous: String?
            for (p, name) in names.enumerated() {
                let family = name.firstIndex(of: "[").map { String(name[..<$0]) } ?? ""
                if let previous, previous != family {
                    let y = (r.y + Double(p) * h).rounded()
                    canvas.line(r.x, y, r.maxX, y, .white, width: 3)
                }
                previous = family
            }
            let every = h >= 9 ? 1 : Int((9 / h).rounded(.up))
            for (p, name) in names.enumerated() where p % every == 0 {
                canvas.text(name, x: r.x - 6, y: r.y + (Double(p) + 0.5) * h + 3.6, size: min(10.5, h - 1), anchor: .right)
            }
            frame(canvas, r)
            canvas.text("child \(child): actions", x: r.x, y: r.y - 7, size: 12.5, bold: true)
        }
        // Reward per child and the baseline.
        panelAxes(canvas, rewardPanel, yTicks: rewardAxis.ticks.map { (rewardAxis.fraction($0), tickLabel($0, ticks: rewardAxis.ticks)) },
                  xTicks: xTicks, labelled: true, xLabels: false)
        canvas.clipped(to: rewardPanel) {
            let zero = rewardPixel(step: 0, reward: 0).y.rounded() + 0.5
            canvas.line(rewardPanel.x, zero, rewardPanel.maxX, zero, .axis, width: 1)
            let first = history.children.first
            // One bar per child from 0 to its reward, side by side inside the validation's cell.
            let n = Double(history.children.count)
            for (k, c) in history.children.enumerated() {
                let color = Color.series[k % Color.series.count]
                for rec in history.records(child: c) {
                    guard let reward = rec.reward, reward.isFinite, let bar = rewardBar(step: rec.step, child: k, of: n) else { continue }
                    let top = min(rewardPixel(step: 0, reward: reward).y, zero), bottom = max(rewardPixel(step: 0, reward: reward).y, zero)
                    canvas.fill(Rect(x: bar.x, y: top, width: bar.width, height: max(bottom - top, 1)), color)
                }
            }
            let baseline = history.records.filter { $0.child == first }.compactMap { r in r.baseline.map { rewardPixel(step: Double(r.step), reward: $0) } }
            canvas.polyline(baseline.map { ($0.x, $0.y) }, TrainingColors.best.alpha(0.75), width: 1.8, dash: [6, 4])
        }
        frame(canvas, rewardPanel)
        canvas.text("reward per child (from the target's change between validations)", x: rewardPanel.x, y: rewardPanel.y - 7, size: 12.5, bold: true)
        canvas.verticalText("reward", x: 24, y: rewardPanel.y + rewardPanel.height / 2, size: 12.5)
        // Policy entropy (one value per controller step).
        panelAxes(canvas, entropyPanel, yTicks: entropyAxis.ticks.map { (entropyAxis.fraction($0), tickLabel($0, ticks: entropyAxis.ticks)) },
                  xTicks: xTicks, labelled: true, xLabels: true)
        canvas.clipped(to: entropyPanel) {
            let uniform = entropyPixel(step: 0, entropy: log(3.0)).y.rounded() + 0.5
            canvas.line(entropyPanel.x, uniform, entropyPanel.maxX, uniform, Color(hex: 0x888888), width: 1, dash: [3, 3])
            var pts = [(x: Double, y: Double)]()
            for step in cells.steps {
                if let e = history.records.first(where: { $0.step == step && $0.policyEntropy != nil })?.policyEntropy {
                    pts.append(entropyPixel(step: Double(step), entropy: e))
                }
            }
            canvas.polyline(pts.map { ($0.x, $0.y) }, Color(hex: 0x6A3D9A), width: 2, roundCaps: true)
            for p in pts { canvas.circle(p.x, p.y, radius: 2.6, fill: Color(hex: 0x6A3D9A), stroke: Color(hex: 0x6A3D9A), width: 1) }
        }
        frame(canvas, entropyPanel)
        canvas.text("policy entropy (nats, mean over parameters)", x: entropyPanel.x, y: entropyPanel.y - 7, size: 12.5, bold: true)
        canvas.verticalText("entropy", x: 24, y: entropyPanel.y + entropyPanel.height / 2, size: 12.5)
        canvas.text("Validation step (controller step)", x: entropyPanel.x + entropyPanel.width / 2, y: entropyPanel.maxY + 44, size: 14, anchor: .center)
        canvas.text(title, x: 24, y: 28, size: 18, bold: true)

        var legend = LegendWriter(canvas: canvas, area: legendArea)
        for (label, color) in [("+1: raise by its step", TrainingColors.raise), ("0: keep", TrainingColors.keep), ("-1: lower by its step", TrainingColors.lower)] {
            canvas.fill(Rect(x: legendArea.x, y: legend.y - 11, width: 26, height: 12), color)
            legend.line(label)
        }
        if history.children.count > shownChildren.count {
            legend.line("actions of children \(shownChildren.count)...\(history.children.count - 1) not drawn", indent: 0)
        }
        legend.gap(16)
        for (k, c) in history.children.enumerated() {
            if !legend.fits(lines: 1, reserve: 4) {
                legend.line("+ \(history.children.count - k) more child model(s)", indent: 0)
                break
            }
            canvas.fill(Rect(x: legendArea.x + 8, y: legend.y - 12, width: 10, height: 14), Color.series[k % Color.series.count])
            legend.line("reward, child \(c)")
        }
        legend.heading("baseline (moving average)", color: TrainingColors.best.alpha(0.7), dash: [6, 4])
        legend.heading("policy entropy", color: Color(hex: 0x6A3D9A))
        canvas.line(legendArea.x, legend.y - 4.5, legendArea.x + 26, legend.y - 4.5, Color(hex: 0x888888), width: 1, dash: [3, 3])
        legend.line("ln 3: uniform over the 3 actions")
        return try canvas.image()
    }
}

/// The training figures of one run: the target and loss, the loss parameters and, for ALA
/// runs, the controller.
public func trainingFigures(_ history: TrainingHistory, run: String, index: Int) -> [any ReportFigure] {
    var out: [any ReportFigure] = [
        TrainingTargetPlot(history: history, run: run, index: index),
        TrainingParametersPlot(history: history, run: run, index: index),
    ]
    if history.hasActions { out.append(TrainingControllerPlot(history: history, run: run, index: index)) }
    return out
}
