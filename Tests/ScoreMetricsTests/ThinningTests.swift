import AlaverifyBase
import Foundation
import Testing
@testable import ScoreMetrics

/// Score sets with readable ids: continuous, heavily tied, tiny, with failures and infinities.
private struct ThinningCase: CustomTestStringConvertible, Sendable {
    var name: String
    var genuine: [Double]
    var impostor: [Double]
    var polarity: Polarity = .similarity
    var testDescription: String { name }
}

private func normals(_ n: Int, mean: Double, seed: UInt64, rounding: Double? = nil) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    return (0..<n).map { _ in
        let u1 = max(rng.unit(), 1e-300), u2 = rng.unit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        let x = mean + z
        if let r = rounding { return (x / r).rounded() * r }
        return x
    }
}

private let cases: [ThinningCase] = [
    ThinningCase(name: "continuous 2k/50k", genuine: normals(2000, mean: 3, seed: 1), impostor: normals(50000, mean: 0, seed: 2)),
    ThinningCase(name: "tied (0.1 grid)", genuine: normals(3000, mean: 2, seed: 3, rounding: 0.1),
                 impostor: normals(30000, mean: 0, seed: 4, rounding: 0.1)),
    ThinningCase(name: "one each", genuine: [1], impostor: [0]),
    ThinningCase(name: "all ties", genuine: [0.5, 0.5, 0.5], impostor: [0.5, 0.5]),
    ThinningCase(name: "NaN and infinities", genuine: [.nan, .infinity, 2, 1, -0.0] + normals(500, mean: 2, seed: 5),
                 impostor: [.nan, .nan, -.infinity, .infinity, 0.0] + normals(5000, mean: 0, seed: 6)),
    ThinningCase(name: "distance polarity", genuine: normals(1000, mean: 0, seed: 7), impostor: normals(20000, mean: 2.5, seed: 8),
                 polarity: .distance),
]

private func sorted(_ c: ThinningCase) throws -> SortedScores<Double> {
    SortedScores(try ScoreSet(genuine: c.genuine, impostor: c.impostor, polarity: c.polarity))
}

@Suite("Curve thinning")
struct ThinningTests {
    @Test("streaming walk equals the walk over the materialised curve", arguments: cases)
    fileprivate func streamingMatchesMaterialised(_ c: ThinningCase) throws {
        let s = try sorted(c)
        for thinning in [CurveThinning(maxPoints: 50), CurveThinning(maxPoints: 400, farScale: .log, frrScale: .linear)] {
            let full = s.curve()
            let a = full.thinned(thinning)
            let b = s.thinnedCurve(thinning)
            #expect(a.points == b.points, "\(thinning)")
        }
    }

    @Test("endpoints kept, budget respected, points are curve points", arguments: cases)
    fileprivate func structure(_ c: ThinningCase) throws {
        let s = try sorted(c)
        let full = s.curve()
        let thinning = CurveThinning(maxPoints: 100)
        let thin = s.thinnedCurve(thinning)
        #expect(thin.points.first == full.points.first)
        #expect(thin.points.last == full.points.last)
        #expect(thin.points.count <= thinning.maxPoints + 2)
        #expect(thin.points.count <= full.points.count)
        let all = Set(full.points.map { "\($0.threshold) \($0.falseAccepts) \($0.falseRejects)" })
        for p in thin.points { #expect(all.contains("\(p.threshold) \(p.falseAccepts) \(p.falseRejects)")) }
        for j in 1..<max(thin.points.count, 1) {
            #expect(thin.points[j].falseAccepts >= thin.points[j - 1].falseAccepts)
            #expect(thin.points[j].falseRejects <= thin.points[j - 1].falseRejects)
        }
    }

    @Test("skipped points lie within one step of the last kept point", arguments: cases)
    fileprivate func skippedPointsAreClose(_ c: ThinningCase) throws {
        let s = try sorted(c)
        let full = s.curve()
        let thinning = CurveThinning(maxPoints: 60)
        let thin = full.thinned(thinning)
        let delta = thinning.step(genuineCount: full.genuineCount, impostorCount: full.impostorCount)
        let nI = full.impostorCount, nG = full.genuineCount
        var k = 0
        var anchor = full.points[0]
        for p in full.points {
            if k < thin.points.count, p == thin.points[k] {
                anchor = p
                k += 1
                continue
            }
            let du = thinning.farScale.clampedPosition(p.falseAccepts, nI) - thinning.farScale.clampedPosition(anchor.falseAccepts, nI)
            let dv = thinning.frrScale.clampedPosition(anchor.falseRejects, nG) - thinning.frrScale.clampedPosition(p.falseRejects, nG)
            #expect(du < delta * (1 + 1e-9) && dv < delta * (1 + 1e-9), "skipped \(p) far from \(anchor)")
        }
        #expect(k == thin.points.count)
    }

    @Test("kept thresholds come with both neighbours")
    func keptThresholds() throws {
        let s = try sorted(cases[0])
        let full = s.curve()
        let j = full.points.count / 3
        let t = full.points[j].threshold
        let thin = s.thinnedCurve(CurveThinning(maxPoints: 10), keepingThresholds: [t, 12345.678])
        let thresholds = thin.points.map(\.threshold)
        for q in [j - 1, j, j + 1] { #expect(thresholds.contains(full.points[q].threshold)) }
        #expect(thin.points == full.thinned(CurveThinning(maxPoints: 10), keeping: [j]).points)
    }

    @Test("a million scores thin to the budget")
    func large() throws {
        let g = normals(100_000, mean: 3, seed: 11).map(Float.init)
        let i = normals(1_000_000, mean: 0, seed: 12).map(Float.init)
        let s = SortedScores(try ScoreSet(genuine: g, impostor: i))
        let thin = s.thinnedCurve(CurveThinning(maxPoints: 800))
        #expect(thin.points.count <= 802)
        #expect(thin.points.count > 200)
        #expect(thin.points.last?.falseAccepts == 1_000_000)
    }
}
