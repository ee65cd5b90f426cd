import CCairo

/// An sRGB colour with opacity, components in [0, 1].
public struct Color: Sendable, Equatable {
    /// Red, green, blue and opacity.
    public var r: Double, g: Double, b: Double, a: Double

    /// Creates a colour.
    public init(_ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }

    /// A colour from `0xRRGGBB`.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(Double(hex >> 16 & 255) / 255, Double(hex >> 8 & 255) / 255, Double(hex & 255) / 255, alpha)
    }

    /// The same colour with another opacity.
    public func alpha(_ a: Double) -> Color { Color(r, g, b, a) }

    /// The 8-bit (R, G, B) of the opaque colour.
    public var rgb8: (UInt8, UInt8, UInt8) {
        (UInt8((r * 255).rounded()), UInt8((g * 255).rounded()), UInt8((b * 255).rounded()))
    }

    static let black = Color(0, 0, 0)
    static let white = Color(1, 1, 1)
    static let text = Color(hex: 0x202020)
    static let axis = Color(hex: 0x404040)
    static let grid = Color(hex: 0xD8D8D8)
    static let shade = Color(hex: 0xE6E6E6)

    /// Series colours (matplotlib's tab10), in legend order.
    public static let series: [Color] = [
        0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ].map { Color(hex: $0) }
}

/// A rectangle in pixels, y growing downwards.
public struct Rect: Sendable, Equatable {
    /// Top-left corner and size.
    public var x: Double, y: Double, width: Double, height: Double

    /// Creates a rectangle.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The right edge.
    public var maxX: Double { x + width }
    /// The bottom edge.
    public var maxY: Double { y + height }

    /// True when the two rectangles share interior points.
    public func overlaps(_ o: Rect) -> Bool { x < o.maxX && o.x < maxX && y < o.maxY && o.y < maxY }
}

/// Horizontal text anchor.
enum TextAnchor { case left, center, right }

/// A Cairo image surface and its context: anti-aliased drawing in pixel coordinates.
final class Canvas {
    let width: Int
    let height: Int
    private let surface: OpaquePointer
    private let cr: OpaquePointer

    /// The family every text is set in.
    static let fontFamily = "DejaVu Sans"

    init(width: Int, height: Int) throws(ReportError) {
        // Cairo returns an error object (never nil) whose status says what failed.
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))!
        do { try cairoCheck(cairo_surface_status(surface), "creating a \(width)x\(height) drawing surface") } catch {
            cairo_surface_destroy(surface)
            throw error
        }
        let cr = cairo_create(surface)!
        do { try cairoCheck(cairo_status(cr), "creating a Cairo context") } catch {
            cairo_destroy(cr)
            cairo_surface_destroy(surface)
            throw error
        }
        self.width = width
        self.height = height
        self.surface = surface
        self.cr = cr
        let options = cairo_font_options_create()!
        defer { cairo_font_options_destroy(options) }
        try cairoCheck(cairo_font_options_status(options), "creating font options")
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_set_font_options(cr, options)
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_GRAY)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
        fill(Rect(x: 0, y: 0, width: Double(width), height: Double(height)), .white)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    private func set(_ c: Color) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) }

    func fill(_ r: Rect, _ c: Color) {
        set(c)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_fill(cr)
    }

    func strokeRect(_ r: Rect, _ c: Color, width: Double = 1) {
        set(c)
        cairo_set_line_width(cr, width)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    /// A polyline; `dash` is an on/off pattern in pixels.
    func polyline(_ points: [(Double, Double)], _ c: Color, width: Double, dash: [Double] = [], roundCaps: Bool = false) {
        guard points.count >= 2 else { return }
        set(c)
        cairo_set_line_cap(cr, roundCaps ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT)
        defer { cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT) }
        cairo_set_line_width(cr, width)
        cairo_set_dash(cr, dash, Int32(dash.count), 0)
        cairo_move_to(cr, points[0].0, points[0].1)
        for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: Color, width: Double = 1, dash: [Double] = []) {
        polyline([(x0, y0), (x1, y1)], c, width: width, dash: dash)
    }

    /// A closed polygon, filled.
    func fillPolygon(_ points: [(Double, Double)], _ c: Color) {
        guard points.count >= 3 else { return }
        set(c)
        cairo_move_to(cr, points[0].0, points[0].1)
        for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
        cairo_close_path(cr)
        cairo_fill(cr)
    }

    /// A circle marker: filled with `fill` (nil for hollow) and outlined.
    func circle(_ x: Double, _ y: Double, radius: Double, fill: Color?, stroke: Color, width: Double = 1.5) {
        cairo_new_sub_path(cr)
        cairo_arc(cr, x, y, radius, 0, 2 * Double.pi)
        if let fill {
            set(fill)
            cairo_fill_preserve(cr)
        }
        set(stroke)
        cairo_set_line_width(cr, width)
        cairo_stroke(cr)
    }

    /// Restricts drawing to `r` inside `body`.
    func clipped(to r: Rect, _ body: () -> Void) {
        cairo_save(cr)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
        body()
        cairo_restore(cr)
    }

    private func font(_ size: Double, bold: Bool) {
        cairo_select_font_face(cr, Canvas.fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// The advance width of `s` in pixels.
    func textWidth(_ s: String, size: Double, bold: Bool = false) -> Double {
        font(size, bold: bold)
        var e = cairo_text_extents_t()
        cairo_text_extents(cr, s, &e)
        return e.x_advance
    }

    /// Draws `s` with its baseline at y; `anchor` says which end (or the middle) is at x.
    func text(_ s: String, x: Double, y: Double, size: Double, anchor: TextAnchor = .left, color: Color = .text, bold: Bool = false) {
        let w = anchor == .left ? 0 : textWidth(s, size: size, bold: bold)
        font(size, bold: bold)
        set(color)
        let x0 = anchor == .left ? x : anchor == .center ? x - w / 2 : x - w
        cairo_move_to(cr, x0, y)
        cairo_show_text(cr, s)
        cairo_new_path(cr)
    }

    /// Text rotated a quarter turn counter-clockwise, centred on (x, y) along its length.
    func verticalText(_ s: String, x: Double, y: Double, size: Double, color: Color = .text) {
        let w = textWidth(s, size: size)
        cairo_save(cr)
        cairo_translate(cr, x, y)
        cairo_rotate(cr, -Double.pi / 2)
        font(size, bold: false)
        set(color)
        cairo_move_to(cr, -w / 2, 0)
        cairo_show_text(cr, s)
        cairo_new_path(cr)
        cairo_restore(cr)
    }

    /// The pixels, un-premultiplied and reordered from Cairo's native-endian ARGB32 to RGBA;
    /// throws the first error any drawing call met.
    func image() throws(ReportError) -> RGBAImage {
        try cairoCheck(cairo_status(cr), "drawing")
        cairo_surface_flush(surface)
        try cairoCheck(cairo_surface_status(surface), "finishing the drawing")
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface) else { throw ReportError("reading the drawn pixels failed") }
        var out = [UInt8](repeating: 0, count: width * height * 4)
        out.withUnsafeMutableBufferPointer { o in
            for y in 0..<height {
                let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<width {
                    let v = row[x]
                    let a = v >> 24, r = v >> 16 & 255, g = v >> 8 & 255, b = v & 255
                    let at = (y * width + x) * 4
                    if a == 255 || a == 0 {
                        o[at] = UInt8(r); o[at + 1] = UInt8(g); o[at + 2] = UInt8(b)
                    } else {
                        o[at] = UInt8(min(255, (r * 255 + a / 2) / a))
                        o[at + 1] = UInt8(min(255, (g * 255 + a / 2) / a))
                        o[at + 2] = UInt8(min(255, (b * 255 + a / 2) / a))
                    }
                    o[at + 3] = UInt8(a)
                }
            }
        }
        return RGBAImage(width: width, height: height, pixels: out)
    }
}
