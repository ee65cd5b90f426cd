import AlaverifyBase
import Foundation
import RunRecords
import ScoreMetrics

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

/// How the training figures group loss parameters: scalars by magnitude, indexed ones by family.
public struct ParameterGroups: Sendable, Equatable {
    /// Indices of the scale (drawn on its own panel: its range dwarfs the others).
    public var scale: [Int]
    /// Indices of the other scalars (margins, balance).
    public var scalars: [Int]
    /// Indexed families such as `genuine_weight[b]`: the family name and the parameter index per bin.
    public var binned: [(name: String, indices: [Int])]

    /// Groups parameter names: `name[b]` into families by name, `scale` alone, the rest together.
    public init(_ names: [String]) {
        scale = []
        scalars = []
        binned = []
        for (k, name) in names.enumerated() {
            if let open = name.firstIndex(of: "["), name.hasSuffix("]"), let b = Int(name[name.index(after: open)...].dropLast()), b >= 0 {
                let family = String(name[..<open])
                if let g = binned.firstIndex(where: { $0.name == family }) {
                    if binned[g].indices.count <= b { binned[g].indices += Array(repeating: -1, count: b + 1 - binned[g].indices.count) }
                    binned[g].indices[b] = k
                } else {
                    binned.append((family, Array(repeating: -1, count: b) + [k]))
                }
            } else if name == "scale" {
                scale.append(k)
            } else {
                scalars.append(k)
            }
        }
    }

    public static func == (a: ParameterGroups, b: ParameterGroups) -> Bool {
        a.scale == b.scale && a.scalars == b.scalars && a.binned.map(\.name) == b.binned.map(\.name)
            && a.binned.map(\.indices) == b.binned.map(\.indices)
    }
}
