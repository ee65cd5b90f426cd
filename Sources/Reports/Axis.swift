import Foundation
import ScoreMetrics

/// How the DET plot's two rate axes are drawn.
public enum DETAxes: String, Sendable, CaseIterable {
    /// Normal deviate (probit) axes: the DET convention, Gaussian score distributions give lines.
    case probit
    /// log10 axes.
    case log

    /// The rate scale of both axes.
    public var scale: RateScale { self == .probit ? .probit : .log }
}

/// A rate axis: rates in [lower, upper] mapped through a `RateScale` onto [0, 1].
public struct RateAxis: Sendable, Equatable {
    /// The transform.
    public var scale: RateScale
    /// The rate at the start of the axis (left or bottom).
    public var lower: Double
    /// The rate at the end of the axis (right or top).
    public var upper: Double

    /// Creates an axis; `lower < upper`, and both inside (0, 1] for probit and log scales.
    public init(scale: RateScale, lower: Double, upper: Double) {
        self.scale = scale
        self.lower = lower
        self.upper = upper
    }

    /// Where a rate lies along the axis: 0 at `lower`, 1 at `upper` (outside for other rates,
    /// `±inf` for 0 and 1 on a probit axis).
    public func fraction(_ rate: Double) -> Double {
        let a = scale.position(lower), b = scale.position(upper)
        return (scale.position(rate) - a) / (b - a)
    }

    /// Labelled tick rates inside the axis, ascending.
    ///
    /// Probit: decades below 1%, then 1, 2, 5, 10, 20, 40, 60, 80, 90, 95, 98, 99, 99.5, 99.8,
    /// 99.9 %. Log: decades. Linear: steps of 10% (5% or 2% on short axes).
    public var ticks: [Double] {
        let candidates: [Double]
        switch scale {
        case .probit:
            candidates = (3...9).reversed().map { decimalPower(1, -$0) }
                + [0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]
        case .log:
            candidates = (0...9).reversed().map { decimalPower(1, -$0) }
        case .linear:
            let span = upper - lower
            let step = span > 0.5 ? 0.1 : span > 0.2 ? 0.05 : span > 0.05 ? 0.02 : 0.01
            let first = (lower / step).rounded(.up)
            candidates = stride(from: first, through: (upper / step).rounded(.down), by: 1).map { ($0 * step * 1e9).rounded() / 1e9 }
        }
        return candidates.filter { $0 >= lower * (1 - 1e-12) && $0 <= upper * (1 + 1e-12) }
    }

    /// Unlabelled grid rates: 2x and 5x each decade below 1% (probit), 2..9x (log).
    public var minorTicks: [Double] {
        let multiples: [Double]
        switch scale {
        case .probit: multiples = [2, 5]
        case .log: multiples = [2, 3, 4, 5, 6, 7, 8, 9]
        case .linear: return []
        }
        var out = [Double]()
        for e in -9...(scale == .probit ? -3 : -1) {
            for m in multiples { out.append(decimalPower(m, e)) }
        }
        let major = Set(ticks)
        return out.filter { $0 > lower && $0 < upper && !major.contains($0) }
    }

    /// A tick label in percent with no more digits than needed: `0.001`, `0.1`, `2`, `99.5`.
    public static func percentLabel(_ rate: Double) -> String {
        let percent = rate * 100
        for decimals in 0...12 {
            let text = String(format: "%.\(decimals)f", percent)
            if let back = Double(text), abs(back - percent) <= 1e-9 * max(abs(percent), 1e-300) { return text }
        }
        return String(format: "%g", percent)
    }
}

/// The double nearest to `m`e`e` (exact decimal parsing, so 5e-6 is the literal 5e-6).
func decimalPower(_ m: Double, _ e: Int) -> Double { Double("\(Int(m))e\(e)")! }

/// Nice, round tick values for a linear axis of scores or counts.
func niceTicks(_ lower: Double, _ upper: Double, count: Int = 8) -> [Double] {
    guard upper > lower, lower.isFinite, upper.isFinite else { return [] }
    let raw = (upper - lower) / Double(max(count, 1))
    let magnitude = Foundation.pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var out = [Double]()
    var v = (lower / step).rounded(.up) * step
    while v <= upper + step * 1e-9 {
        out.append(abs(v) < step * 1e-9 ? 0 : v)
        v += step
    }
    return out
}

/// A number with at most `digits` significant digits and no exponent for ordinary magnitudes.
func shortNumber(_ x: Double, digits: Int = 4) -> String {
    if x == .infinity { return "inf" }
    if x == -.infinity { return "-inf" }
    if x == 0 { return "0" }
    if abs(x) >= 1e-4 && abs(x) < 1e7 {
        var s = String(format: "%.\(digits)g", x)
        if s.contains("e") { s = String(format: "%.6f", x) }
        return s
    }
    return String(format: "%.\(max(digits - 1, 1))e", x)
}

/// A rate as a percentage with three significant digits: `12.3%`, `0.0123%`, `0%`.
func percent(_ rate: Double) -> String {
    if rate == 0 { return "0%" }
    let p = rate * 100
    if p >= 0.001 {
        let decimals = max(0, 2 - Int(log10(p).rounded(.down)))
        return String(format: "%.\(decimals)f%%", p)
    }
    return String(format: "%.2e%%", p)
}

/// A count with thousands separators.
func grouped(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (k, c) in s.reversed().enumerated() {
        if k > 0 && k % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + String(out.reversed())
}
