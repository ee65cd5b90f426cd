import AlaverifyBase
import Foundation
import RunRecords
import ScoreMetrics

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
