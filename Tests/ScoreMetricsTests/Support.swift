@testable import ScoreMetrics
import AlaverifyBase
import Testing

/// The two score precisions the engine is generic over.
enum Precision: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case float, double
    var testDescription: String { rawValue }
}

/// Builds a sorted score set in precision `T` from Double literals (exactly representable
/// values only, so Float and Double runs see the same scores).
func sortedScores<T: ScoreFloat>(
    _ genuine: [Double], _ impostor: [Double], as _: T.Type, polarity: Polarity = .similarity,
    genuineIdentities: ComparisonIdentities? = nil, impostorIdentities: ComparisonIdentities? = nil
) throws -> SortedScores<T> {
    let set = try ScoreSet<T>(
        genuine: genuine.map { T($0) }, impostor: impostor.map { T($0) }, polarity: polarity,
        genuineIdentities: genuineIdentities, impostorIdentities: impostorIdentities)
    return SortedScores(set)
}

/// Everything the tests read off one engine run, precision-erased.
struct EngineView {
    var eer: EqualErrorRate?
    var rocch: Double
    var auc: Double
    var ap: Double
    var curve: DETCurve
    var pauc: (Double) -> Double
    var point: (Metric, ThresholdRule) -> OperatingPoint
}

func engine(_ g: [Double], _ i: [Double], _ precision: Precision, polarity: Polarity = .similarity) throws -> EngineView {
    func make<T: ScoreFloat>(_ t: T.Type) throws -> EngineView {
        let s = try sortedScores(g, i, as: t, polarity: polarity)
        return EngineView(
            eer: s.equalErrorRate(), rocch: s.rocchEER(), auc: s.rocAUC(), ap: s.averagePrecision(), curve: s.curve(),
            pauc: { s.partialAUC(maxFAR: $0) }, point: { s.operatingPoint($0, rule: $1) })
    }
    switch precision {
    case .float: return try make(Float.self)
    case .double: return try make(Double.self)
    }
}

/// `a == b` within `tolerance` (absolute), with a readable failure.
func expectClose(
    _ a: Double?, _ b: Double?, tolerance: Double = 1e-12, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let a, let b else {
        #expect(a == nil && b == nil, "\(what): \(String(describing: a)) vs \(String(describing: b))",
                sourceLocation: sourceLocation)
        return
    }
    #expect(abs(a - b) <= tolerance, "\(what): got \(a), expected \(b)", sourceLocation: sourceLocation)
}

// MARK: - Brute-force definitions (SPEC section 2, straight from the text, O(n^2) where natural)

/// The raw scores of a random case on the similarity scale (Double, NaN = failure).
struct RawScores: CustomStringConvertible {
    var genuine: [Double]
    var impostor: [Double]
    var nG: Int { genuine.count }
    var nI: Int { impostor.count }
    var description: String { "G=\(genuine) I=\(impostor)" }

    /// #{i >= t}; NaN never accepted.
    func falseAccepts(_ t: Double) -> Int { impostor.filter { !$0.isNaN && $0 >= t }.count }
    /// failures + #{g < t}.
    func falseRejects(_ t: Double) -> Int { genuine.filter { $0.isNaN || $0 < t }.count }

    /// Observed non-NaN scores plus +inf, distinct (-0 == +0), descending.
    var thresholds: [Double] {
        var seen = [Double]()
        for x in genuine + impostor + [.infinity] where !x.isNaN && !seen.contains(x) { seen.append(x == 0 ? 0 : x) }
        return seen.sorted(by: >)
    }

    /// (FAR, FRR) at every threshold, strongest first.
    var points: [(x: Double, y: Double, t: Double)] {
        thresholds.map { (Double(falseAccepts($0)) / Double(nI), Double(falseRejects($0)) / Double(nG), $0) }
    }

    /// Mann-Whitney by pair count, NaN as -inf.
    var aucByPairs: Double {
        var twice = 0
        for g in genuine {
            for i in impostor {
                let a = g.isNaN ? -Double.infinity : g, b = i.isNaN ? -Double.infinity : i
                twice += a > b ? 2 : (a == b ? 1 : 0)
            }
        }
        return Double(twice) / Double(2 * nG * nI)
    }

    /// sum over distinct thresholds (NaN as -inf), descending, of (R_n - R_{n-1}) P_n.
    var apBySum: Double {
        let g = genuine.map { $0.isNaN ? -Double.infinity : $0 }
        let i = impostor.map { $0.isNaN ? -Double.infinity : $0 }
        var ts = [Double]()
        for x in g + i where !ts.contains(x) { ts.append(x) }
        ts.sort(by: >)
        var sum = 0.0, previousRecall = 0.0
        for t in ts {
            let tp = g.filter { $0 >= t }.count, fp = i.filter { $0 >= t }.count
            let recall = Double(tp) / Double(nG)
            if tp > 0 { sum += (recall - previousRecall) * Double(tp) / Double(tp + fp) }
            previousRecall = recall
        }
        return sum
    }

    /// The first crossing of the polyline with FAR = FRR: value and the nearer end's threshold
    /// (the stricter end when the crossing is exactly half way).
    ///
    /// The side of the diagonal and the half-way tie are decided exactly on integers:
    /// FAR - FRR = D / (nI nG) with D = FA * nG - FR * nI, and the crossing parameter
    /// s = -D0 / (D1 - D0) <= 1/2 iff -D0 <= D1.
    var eerByPolyline: (value: Double, threshold: Double)? {
        let ts = thresholds
        let D = ts.map { falseAccepts($0) * nG - falseRejects($0) * nI }
        let p = points
        if D[0] == 0 { return (p[0].x, p[0].t) }
        if D[0] > 0 { return nil }
        for j in 1..<p.count where D[j - 1] < 0 && D[j] >= 0 {
            let s = Double(-D[j - 1]) / Double(D[j] - D[j - 1])
            return (p[j - 1].x + s * (p[j].x - p[j - 1].x), -D[j - 1] <= D[j] ? ts[j - 1] : ts[j])
        }
        return nil
    }

    /// K = floor(a * nI) in double precision.
    func allowedFalseAccepts(_ a: Double) -> Int { Int((a * Double(nI)).rounded(.down)) }
}

/// A tie-heavy random case: scores on a coarse grid with NaNs, -0, and (optionally) +-inf.
func randomCase(_ rng: inout SeededGenerator, maxCount: Int = 12, specials: Bool = true) -> RawScores {
    func draw(_ shift: Int) -> Double {
        let r = rng.unit()
        if specials {
            if r < 0.08 { return .nan }
            if r < 0.11 { return .infinity }
            if r < 0.14 { return -.infinity }
            if r < 0.18 { return -0.0 }
        }
        return Double(rng.below(9) - 4 + shift) / 4
    }
    let nG = 1 + rng.below(maxCount), nI = 1 + rng.below(maxCount)
    return RawScores(genuine: (0..<nG).map { _ in draw(1) }, impostor: (0..<nI).map { _ in draw(0) })
}
