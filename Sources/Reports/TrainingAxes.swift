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
func panelAxes(_ canvas: Canvas, _ r: Rect, yTicks: [(Double, String)], xTicks: [(Double, String)], labelled: Bool, xLabels: Bool) {
    let painter = AxesPainter(canvas: canvas, layout: PlotLayout(width: canvas.width, height: canvas.height, plot: r, legend: r))
    painter.yTicks(yTicks.map { ($0.0, labelled ? $0.1 : "") })
    painter.xTicks(xTicks.map { ($0.0, xLabels ? $0.1 : "") })
}

/// The dark outline of a panel.
func frame(_ canvas: Canvas, _ r: Rect) {
    canvas.strokeRect(Rect(x: r.x + 0.5, y: r.y + 0.5, width: r.width - 1, height: r.height - 1), .axis)
}

/// Round step ticks inside [lower, upper] with integer labels.
func stepTicks(_ lower: Double, _ upper: Double, fraction: (Double) -> Double) -> [(Double, String)] {
    niceTicks(max(lower, 0), upper, count: 7).filter { $0 == $0.rounded() }.map { (fraction($0), String(Int($0))) }
}
