import AlaverifyBase
import Foundation
import RunRecords
import ScoreMetrics

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
