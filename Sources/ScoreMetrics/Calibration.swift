import AlaverifyBase
import Foundation

/// Calibration of scores as log-likelihood ratios (SPEC section 2, "Calibration").
///
/// Scores are read on the similarity scale (distances negated) as natural-log likelihood ratios
/// ln p(s | genuine) / p(s | impostor). Failed comparisons (NaN) are left out.
public enum Calibration {
    /// Cllr in bits: (1/2) [mean over genuine of log2(1 + e^-s) + mean over impostor of
    /// log2(1 + e^s)] (Brümmer; bob.measure `calibration.cllr`). `+inf` when a genuine score is
    /// `-inf` or an impostor score `+inf`.
    /// - Complexity: O(nG + nI).
    /// NaN when a class is empty.
    public static func cllr<T: ScoreFloat>(genuine: [T], impostor: [T]) -> Double {
        guard !genuine.isEmpty, !impostor.isEmpty else { return .nan }
        var g = 0.0, i = 0.0
        for s in genuine { g += softplus(-Double(s)) }
        for s in impostor { i += softplus(Double(s)) }
        return (g / Double(genuine.count) + i / Double(impostor.count)) / (2 * M_LN2)
    }

    /// ln(1 + e^x) without overflow; `+inf` for `+inf`, 0 for `-inf`.
    @inline(__always) static func softplus(_ x: Double) -> Double {
        x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
    }

    /// minCllr in bits: the Cllr of the best monotone (non-decreasing) mapping of the scores to
    /// log-likelihood ratios, found by pool-adjacent-violators on the genuine indicator of the
    /// scores in ascending order. Equal scores form one block (a monotone mapping cannot tell
    /// them apart); the block posteriors p become LLRs ln(p / (1 - p)) - ln(nG / nI).
    /// - Complexity: O(nG + nI) on ascending input.
    /// NaN when a class is empty.
    public static func minCllr<T: ScoreFloat>(ascendingGenuine g: [T], ascendingImpostor i: [T]) -> Double {
        guard !g.isEmpty, !i.isEmpty else { return .nan }
        // Blocks of equal scores, ascending: (genuine, impostor) counts.
        var blocks = [(pos: Int, neg: Int)]()
        var a = 0, b = 0
        while a < g.count || b < i.count {
            let v = a < g.count && (b == i.count || g[a] <= i[b]) ? g[a] : i[b]
            var pos = 0, neg = 0
            while a < g.count && g[a] == v { pos += 1; a += 1 }
            while b < i.count && i[b] == v { neg += 1; b += 1 }
            blocks.append((pos, neg))
        }
        // Pool adjacent violators: merged blocks with non-decreasing genuine fraction.
        var pooled = [(pos: Int, neg: Int)]()
        for block in blocks {
            var cur = block
            while let last = pooled.last, last.pos * (cur.pos + cur.neg) >= cur.pos * (last.pos + last.neg) {
                cur = (cur.pos + last.pos, cur.neg + last.neg)
                pooled.removeLast()
            }
            pooled.append(cur)
        }
        let P = Double(g.count), N = Double(i.count)
        var costG = 0.0, costI = 0.0
        for block in pooled {
            // p = pos / (pos + neg); e^llr = p N / ((1 - p) P) = pos N / (neg P).
            if block.pos > 0, block.neg > 0 {
                let ratio = Double(block.pos) * N / (Double(block.neg) * P)
                costG += Double(block.pos) * log1p(1 / ratio)
                costI += Double(block.neg) * log1p(ratio)
            }
        }
        return (costG / P + costI / N) / (2 * M_LN2)
    }
}

/// An affine map of scores to log-likelihood ratios, llr = scale * s + offset (similarity scale).
public struct LinearCalibration: Sendable, Equatable {
    /// Slope.
    public var scale: Double
    /// Intercept.
    public var offset: Double

    /// Creates a map.
    public init(scale: Double, offset: Double) {
        self.scale = scale
        self.offset = offset
    }

    /// The log-likelihood ratio of a similarity-scale score.
    @inline(__always) public func llr(_ s: Double) -> Double { scale * s + offset }

    /// Fits the map by logistic regression with equal class weights (prior 0.5): it minimises
    /// mean softplus(-llr) over genuine + mean softplus(llr) over impostor, which is the Cllr of
    /// the mapped scores (BOSARIS/FoCal linear calibration). Non-finite scores are left out.
    /// Newton's method on standardised scores, to a gradient below 1e-12.
    /// - Throws: `CalibrationError.separable` when max(impostor) <= min(genuine) or the reverse
    ///   (no finite optimum), `.tooFew` when a class has no finite score.
    /// - Complexity: O(iterations * (nG + nI)), usually under 15 iterations.
    public static func fit<T: ScoreFloat>(genuine: [T], impostor: [T]) throws(CalibrationError) -> LinearCalibration {
        let g: [Double] = genuine.map { Double($0) }.filter(\.isFinite)
        let i: [Double] = impostor.map { Double($0) }.filter(\.isFinite)
        guard !g.isEmpty else { throw .tooFew("genuine") }
        guard !i.isEmpty else { throw .tooFew("impostor") }
        guard let gMin = g.min(), let gMax = g.max(), let iMin = i.min(), let iMax = i.max() else { throw .tooFew("genuine") }
        if iMax <= gMin || gMax <= iMin { throw .separable }
        let all = g + i
        let mean = all.reduce(0, +) / Double(all.count)
        var squares = 0.0
        for x in all { squares += (x - mean) * (x - mean) }
        let sd = max((squares / Double(all.count)).squareRoot(), 1e-300)
        let x1 = g.map { ($0 - mean) / sd }, x0 = i.map { ($0 - mean) / sd }
        let w1 = 1 / Double(x1.count), w0 = 1 / Double(x0.count)
        func objective(_ a: Double, _ b: Double) -> Double {
            var f = 0.0
            for x in x1 { f += w1 * Calibration.softplus(-(a * x + b)) }
            for x in x0 { f += w0 * Calibration.softplus(a * x + b) }
            return f
        }
        var a = 1.0, b = 0.0, f = objective(a, b)
        for _ in 0..<100 {
            // Gradient and Hessian of the objective in (a, b).
            var ga = 0.0, gb = 0.0, haa = 0.0, hab = 0.0, hbb = 0.0
            for (xs, w, y) in [(x1, w1, 1.0), (x0, w0, 0.0)] {
                for x in xs {
                    let p: Double = 1 / (1 + exp(-(a * x + b)))
                    let r: Double = w * (p - y)
                    let h: Double = w * p * (1 - p)
                    ga += r * x
                    gb += r
                    haa += h * x * x
                    hab += h * x
                    hbb += h
                }
            }
            if max(abs(ga), abs(gb)) < 1e-12 { break }
            let det = haa * hbb - hab * hab
            guard det > 0 else { break }
            var da = -(hbb * ga - hab * gb) / det, db = -(haa * gb - hab * ga) / det
            var step = 1.0, next = objective(a + da, b + db)
            // Near the optimum the objective's changes drown in rounding: take Newton's step as it is.
            if max(abs(ga), abs(gb)) < 1e-6 { next = min(next, f) }
            while next > f, step > 1e-10 {
                step /= 2
                da /= 2
                db /= 2
                next = objective(a + da, b + db)
            }
            if next > f { break }
            a += da
            b += db
            f = next
        }
        // llr = a (s - mean) / sd + b.
        return LinearCalibration(scale: a / sd, offset: b - a * mean / sd)
    }
}

/// Scores that cannot be calibrated.
public enum CalibrationError: AlaverifyError, Sendable, Equatable {
    /// The classes do not overlap, so the logistic fit has no finite optimum.
    case separable
    /// A class has no finite score.
    case tooFew(String)

    public var description: String {
        switch self {
        case .separable:
            return "genuine and impostor scores do not overlap, so logistic calibration has no finite solution"
        case .tooFew(let c): return "no finite \(c) scores to calibrate on"
        }
    }

    public var exitStatus: ExitStatus { .dataError }
}

/// Cllr and minCllr of one system, and its calibrated Cllr when a calibration was fitted elsewhere.
public struct CalibrationMetrics: Sendable, Equatable {
    /// Cllr of the scores read as natural-log LLRs.
    public var cllr: Double
    /// minCllr (PAV).
    public var minCllr: Double
    /// The map fitted on development scores, when asked for.
    public var calibration: LinearCalibration?
    /// Cllr of the mapped scores.
    public var calibratedCllr: Double?
    /// Failed comparisons left out.
    public var leftOut: Int
}

extension SortedScores {
    /// Cllr and minCllr of these scores; with `calibration`, also the Cllr of the mapped scores.
    /// - Complexity: O(nG + nI).
    public func calibrationMetrics(_ calibration: LinearCalibration? = nil) -> CalibrationMetrics {
        var m = CalibrationMetrics(
            cllr: Calibration.cllr(genuine: genuine, impostor: impostor),
            minCllr: Calibration.minCllr(ascendingGenuine: genuine, ascendingImpostor: impostor),
            calibration: calibration, calibratedCllr: nil, leftOut: genuineFailures + impostorFailures)
        if let c = calibration {
            m.calibratedCllr = Calibration.cllr(genuine: genuine.map { c.llr(Double($0)) }, impostor: impostor.map { c.llr(Double($0)) })
        }
        return m
    }

    /// Fits a linear calibration on these (development) scores.
    public func fitCalibration() throws(CalibrationError) -> LinearCalibration {
        try LinearCalibration.fit(genuine: genuine, impostor: impostor)
    }
}
