import AlaverifyBase
import ScoreMetrics

/// A picture of a report: its file name, its title and how to draw it.
///
/// The report writes every figure as a PNG carrying the figure's metadata plus the report's
/// (tool version, command, input checksums). Training-run figures (the target metric and the
/// loss parameters over steps, with the controller's actions) join by conforming to this
/// protocol once the trainer writes its history.
public protocol ReportFigure: Sendable {
    /// File name inside the report folder, e.g. `det.png`.
    var fileName: String { get }
    /// A short title, also written as the PNG `Title`.
    var title: String { get }
    /// The metrics the figure shows, as JSON (written as tEXt `alaverify:metrics`).
    var shownMetrics: JSONValue { get }
    /// Draws the figure.
    func render() throws(ReportError) -> RGBAImage
}

/// Where the parts of a figure with a right-hand legend panel go.
public struct PlotLayout: Sendable, Equatable {
    /// Image width in pixels.
    public var width: Int
    /// Image height in pixels.
    public var height: Int
    /// The plotting area (the data rectangle, inside the frame).
    public var plot: Rect
    /// The legend panel.
    public var legend: Rect

    /// The layout of the DET and ROC plots: a 620-pixel square plot, legend on the right.
    public static let square = PlotLayout(
        width: 1040, height: 760, plot: Rect(x: 90, y: 64, width: 620, height: 620),
        legend: Rect(x: 740, y: 64, width: 290, height: 620))

    /// The layout of the histograms: a wide plot, legend on the right.
    public static let wide = PlotLayout(
        width: 1040, height: 600, plot: Rect(x: 90, y: 64, width: 620, height: 440),
        legend: Rect(x: 740, y: 64, width: 290, height: 440))

    /// The pixel x of a fraction along the horizontal axis (0 at the left edge).
    public func x(_ fraction: Double) -> Double { plot.x + fraction * plot.width }
    /// The pixel y of a fraction along the vertical axis (0 at the bottom edge).
    public func y(_ fraction: Double) -> Double { plot.maxY - fraction * plot.height }
}

/// Builds a legend panel line by line.
struct LegendWriter {
    let canvas: Canvas
    let area: Rect
    var y: Double
    static let size = 13.0
    static let lineHeight = 18.0

    init(canvas: Canvas, area: Rect) {
        self.canvas = canvas
        self.area = area
        self.y = area.y + 12
    }

    /// A series heading: a line sample in its colour and the bold name.
    mutating func heading(_ name: String, color: Color, dash: [Double] = []) {
        y += 4
        canvas.line(area.x, y - 5, area.x + 26, y - 5, color, width: 2.5, dash: dash)
        canvas.text(fitted(name, width: area.width - 34, bold: true), x: area.x + 34, y: y, size: LegendWriter.size, bold: true)
        y += LegendWriter.lineHeight
    }

    /// A text line, indented under the heading; too-long lines are shortened.
    mutating func line(_ s: String, color: Color = .text, indent: Double = 34, marker: Marker? = nil) {
        if let marker {
            marker.draw(canvas, x: area.x + indent - 12, y: y - 4.5)
        }
        canvas.text(fitted(s, width: area.width - indent, bold: false), x: area.x + indent, y: y, size: LegendWriter.size - 0.5, color: color)
        y += LegendWriter.lineHeight - 1
    }

    mutating func gap(_ h: Double = 8) { y += h }

    /// True when `lines` more lines, plus `reserve` lines kept free, fit above the area's bottom.
    func fits(lines: Int, reserve: Int) -> Bool {
        y + Double(lines + reserve) * LegendWriter.lineHeight <= area.maxY
    }

    func fitted(_ s: String, width: Double, bold: Bool) -> String {
        if canvas.textWidth(s, size: LegendWriter.size, bold: bold) <= width { return s }
        var t = s
        while t.count > 1, canvas.textWidth(t + "…", size: LegendWriter.size, bold: bold) > width { t.removeLast() }
        return t + "…"
    }
}

/// An operating-point marker.
struct Marker {
    var color: Color
    var hollow: Bool
    /// A diamond marks a result at a threshold fixed elsewhere; a circle an operating point.
    var diamond = false

    func draw(_ canvas: Canvas, x: Double, y: Double, radius: Double = 4.5) {
        if diamond {
            let d = radius * 1.45
            canvas.fillPolygon([(x, y - d - 1), (x + d + 1, y), (x, y + d + 1), (x - d - 1, y)], .white)
            canvas.fillPolygon([(x, y - d), (x + d, y), (x, y + d), (x - d, y)], color)
            return
        }
        canvas.circle(x, y, radius: radius, fill: hollow ? .white : color, stroke: hollow ? color : .white, width: hollow ? 2 : 1.2)
        if !hollow { canvas.circle(x, y, radius: radius + 1, fill: nil, stroke: color, width: 1) }
    }
}

/// Draws the frame, grid, ticks and labels of a plot area.
struct AxesPainter {
    let canvas: Canvas
    let layout: PlotLayout
    static let tickSize = 13.0

    /// Vertical grid line and label below the plot at each (fraction, label); labels that would
    /// overlap the previous one are left out (the grid line stays).
    func xTicks(_ ticks: [(Double, String)], minor: [Double] = []) {
        let r = layout.plot
        for f in minor where f > 0 && f < 1 { canvas.line(layout.x(f).rounded() + 0.5, r.y, layout.x(f).rounded() + 0.5, r.maxY, Color.grid.alpha(0.55)) }
        var lastRight = -Double.infinity
        for (f, label) in ticks where f >= -1e-9 && f <= 1 + 1e-9 {
            let x = layout.x(f).rounded() + 0.5
            if f > 1e-9 && f < 1 - 1e-9 { canvas.line(x, r.y, x, r.maxY, .grid) }
            canvas.line(x, r.maxY, x, r.maxY + 5, .axis)
            let w = canvas.textWidth(label, size: AxesPainter.tickSize)
            if x - w / 2 > lastRight + 6 {
                canvas.text(label, x: x, y: r.maxY + 21, size: AxesPainter.tickSize, anchor: .center)
                lastRight = x + w / 2
            }
        }
    }

    /// Horizontal grid line and label left of the plot at each (fraction, label).
    func yTicks(_ ticks: [(Double, String)], minor: [Double] = []) {
        let r = layout.plot
        for f in minor where f > 0 && f < 1 { canvas.line(r.x, layout.y(f).rounded() + 0.5, r.maxX, layout.y(f).rounded() + 0.5, Color.grid.alpha(0.55)) }
        var lastTop = Double.infinity
        for (f, label) in ticks where f >= -1e-9 && f <= 1 + 1e-9 {
            let y = layout.y(f).rounded() + 0.5
            if f > 1e-9 && f < 1 - 1e-9 { canvas.line(r.x, y, r.maxX, y, .grid) }
            canvas.line(r.x - 5, y, r.x, y, .axis)
            if y + 5 < lastTop - 4 {
                canvas.text(label, x: r.x - 8, y: y + 4.5, size: AxesPainter.tickSize, anchor: .right)
                lastTop = y - 9
            }
        }
    }

    func frame() { canvas.strokeRect(Rect(x: layout.plot.x + 0.5, y: layout.plot.y + 0.5, width: layout.plot.width - 1, height: layout.plot.height - 1), .axis) }

    func titles(title: String, x: String, y: String) {
        let r = layout.plot
        canvas.text(title, x: r.x, y: 28, size: 18, bold: true)
        canvas.text(x, x: r.x + r.width / 2, y: r.maxY + 46, size: 14.5, anchor: .center)
        canvas.verticalText(y, x: 26, y: r.y + r.height / 2, size: 14.5)
    }
}

/// Clamps a pixel coordinate to a band around the plot so that infinities stay drawable.
@inline(__always) func clampPixel(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
    if v.isNaN { return lo }
    return min(max(v, lo - 50), hi + 50)
}
