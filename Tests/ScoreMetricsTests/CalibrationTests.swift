import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing

/// Cllr, minCllr and the logistic calibration, checked against hand values and an independent
/// implementation written here (per-score PAV as bob.measure does it, logs taken directly).
@Suite("Calibration: Cllr, minCllr (PAV), logistic fit")
struct CalibrationTests {
    @Test("hand values: Cllr of zero LLRs is 1 bit; separated scores have minCllr 0; one tied block has minCllr 1")
    func handValues() {
        #expect(Calibration.cllr(genuine: [0.0], impostor: [0.0]) == 1)
        // G {ln 3}, I {-ln 3}: each cost log2(1 + 1/3) -> Cllr = log2(4/3).
        let c = Calibration.cllr(genuine: [log(3.0)], impostor: [-log(3.0)])
        #expect(abs(c - log2(4.0 / 3)) < 1e-15)
        #expect(Calibration.minCllr(ascendingGenuine: [2.0, 3], ascendingImpostor: [0.0, 1]) == 0)
        // All scores equal: one block, p = nG / n, LLR 0 -> every comparison costs 1 bit.
        #expect(abs(Calibration.minCllr(ascendingGenuine: [1.0, 1], ascendingImpostor: [1.0, 1, 1]) - 1) < 1e-15)
        #expect(Calibration.cllr(genuine: [-Double.infinity], impostor: [0.0]) == .infinity)
        #expect(Calibration.cllr(genuine: [Double](), impostor: [0.0]).isNaN)
    }

    @Test("minCllr: a hand-pooled case", arguments: [false, true])
    func pooled(_ float: Bool) {
        // Ascending labels (score order): I G I G G -> PAV pools (G, I) into 1/2: blocks
        // {I}: p 0, {G I}: p 1/2, {G G}: p 1. With nG = 3, nI = 2: LLR of the middle block
        // ln(1) - ln(3/2); genuine cost log2(1 + 3/2), impostor cost log2(1 + 2/3).
        let g = [2.0, 4, 5], i = [1.0, 3]
        let want = (log2(2.5) / 3 + log2(5.0 / 3) / 2) / 2
        let got = float
            ? Calibration.minCllr(ascendingGenuine: g.map(Float.init), ascendingImpostor: i.map(Float.init))
            : Calibration.minCllr(ascendingGenuine: g, ascendingImpostor: i)
        #expect(abs(got - want) < 1e-15)
    }

    @Test("minCllr equals an independent per-score PAV on random continuous scores", arguments: [1, 2, 3, 4] as [UInt64])
    func randomPAV(_ seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for index in 0..<40 {
            let nG = 1 + rng.below(200), nI = 1 + rng.below(400)
            let shift = rng.unit() * 3
            let g = (0..<nG).map { _ in rng.normal() + shift }.sorted()
            let i = (0..<nI).map { _ in rng.normal() }.sorted()
            let got = Calibration.minCllr(ascendingGenuine: g, ascendingImpostor: i)
            let want = referenceMinCllr(g, i)
            #expect(abs(got - want) < 1e-12, "seed \(seed) case \(index)")
            // minCllr never exceeds the Cllr of any monotone map, e.g. the scores themselves.
            #expect(got <= Calibration.cllr(genuine: g, impostor: i) + 1e-12)
        }
    }

    @Test("the logistic fit solves its score equations and minimises the Cllr of the mapped scores", arguments: [5, 6, 7] as [UInt64])
    func fit(_ seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let g = (0..<300).map { _ in 2 * rng.normal() + 3 }
        let i = (0..<900).map { _ in 2 * rng.normal() }
        let map = try LinearCalibration.fit(genuine: g, impostor: i)
        // Score equations of the equal-weight logistic likelihood:
        // mean_g (1 - sigma(llr)) = mean_i sigma(llr), and the same weighted by the score.
        func sigma(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let r1 = g.map { 1 - sigma(map.llr($0)) }, r0 = i.map { sigma(map.llr($0)) }
        let mean = { (a: [Double]) in a.reduce(0, +) / Double(a.count) }
        #expect(abs(mean(r1) - mean(r0)) < 1e-9)
        #expect(abs(mean(zip(r1, g).map(*)) - mean(zip(r0, i).map(*))) < 1e-8)
        let best = Calibration.cllr(genuine: g.map(map.llr), impostor: i.map(map.llr))
        for (da, db) in [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.01), (0.0, -0.01)] {
            let other = LinearCalibration(scale: map.scale + da, offset: map.offset + db)
            #expect(best < Calibration.cllr(genuine: g.map(other.llr), impostor: i.map(other.llr)))
        }
        // Two normals with equal variance 4 and means 3 and 0: the true LLR is (3/4) s - 9/8.
        #expect(abs(map.scale - 0.75) < 0.15 && abs(map.offset + 1.125) < 0.3)
    }

    @Test("separated or empty classes are refused")
    func refusals() {
        #expect(throws: CalibrationError.separable) { _ = try LinearCalibration.fit(genuine: [2.0, 3], impostor: [1.0, 2]) }
        #expect(throws: CalibrationError.separable) { _ = try LinearCalibration.fit(genuine: [0.0], impostor: [1.0]) }
        #expect(throws: CalibrationError.tooFew("genuine")) {
            _ = try LinearCalibration.fit(genuine: [Double.nan, .infinity], impostor: [1.0])
        }
    }
}

/// bob.measure's min_cllr, written out: merge the sorted scores (an impostor first on ties), PAV
/// on the 0/1 labels one score at a time, LLR = logit(p) - ln(P/N), then Cllr.
func referenceMinCllr(_ g: [Double], _ i: [Double]) -> Double {
    var labels = [Double]()
    var a = 0, b = 0
    while a < g.count || b < i.count {
        if a < g.count && (b == i.count || i[b] > g[a]) { labels.append(1); a += 1 } else { labels.append(0); b += 1 }
    }
    // PAV with a stack of (sum, count).
    var stack = [(sum: Double, count: Double)]()
    for y in labels {
        var cur = (sum: y, count: 1.0)
        while let last = stack.last, last.sum / last.count >= cur.sum / cur.count {
            cur = (cur.sum + last.sum, cur.count + last.count)
            stack.removeLast()
        }
        stack.append(cur)
    }
    var p = [Double]()
    for block in stack { p += [Double](repeating: block.sum / block.count, count: Int(block.count)) }
    let prior = log(Double(g.count) / Double(i.count))
    var costG = 0.0, costI = 0.0
    for (k, y) in labels.enumerated() {
        let llr = log(p[k]) - log(1 - p[k]) - prior
        if y == 1 { costG += log2(1 + exp(-llr)) } else { costI += log2(1 + exp(llr)) }
    }
    return (costG / Double(g.count) + costI / Double(i.count)) / 2
}
