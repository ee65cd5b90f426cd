import AlaverifyBase
import Foundation
@testable import ScoreMetrics
import Testing

struct WilsonCase: Sendable, CustomTestStringConvertible {
    var k: Int
    var n: Int
    var lower: Double
    var upper: Double
    var testDescription: String { "\(k)/\(n)" }
}

struct ProbitCase: Sendable, CustomTestStringConvertible {
    var p: Double
    var z: Double
    var testDescription: String { "probit(\(p))" }
}

@Suite("Wilson intervals and the probit")
struct IntervalTests {
    // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
    // Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity correction), 95%:
    //   81/263 -> 0.2553, 0.3662;  15/148 -> 0.0624, 0.1605;  0/20 -> 0.0000, 0.1611;
    //   1/29 -> 0.0061, 0.1718;  29/29 -> 0.8830, 1.0000.
    // Check of one by hand: k = 0, n = 20, z^2 = 3.8415: upper = z^2 / (n + z^2) = 3.8415/23.8415 = 0.16113.
    @Test("95% Wilson interval matches the textbook table", arguments: [
        WilsonCase(k: 81, n: 263, lower: 0.2553, upper: 0.3662),
        WilsonCase(k: 15, n: 148, lower: 0.0624, upper: 0.1605),
        WilsonCase(k: 0, n: 20, lower: 0.0000, upper: 0.1611),
        WilsonCase(k: 1, n: 29, lower: 0.0061, upper: 0.1718),
        WilsonCase(k: 29, n: 29, lower: 0.8830, upper: 1.0000),
    ])
    func wilson(_ c: WilsonCase) {
        let ci = wilsonInterval(successes: c.k, trials: c.n)
        expectClose(ci.lower, c.lower, tolerance: 5e-5, "lower")
        expectClose(ci.upper, c.upper, tolerance: 5e-5, "upper")
        #expect(ci.level == 0.95 && ci.method == "wilson" && ci.replicates == nil)
    }

    @Test("Wilson interval: 0 and n successes touch the ends exactly; wider at higher coverage")
    func wilsonEnds() {
        #expect(wilsonInterval(successes: 0, trials: 7).lower == 0)
        #expect(wilsonInterval(successes: 7, trials: 7).upper == 1)
        let narrow = wilsonInterval(successes: 3, trials: 40, level: 0.9)
        let wide = wilsonInterval(successes: 3, trials: 40, level: 0.99)
        #expect(wide.lower < narrow.lower && wide.upper > narrow.upper)
        // Symmetry: k/n and (n-k)/n mirror around 1/2.
        let a = wilsonInterval(successes: 3, trials: 40), b = wilsonInterval(successes: 37, trials: 40)
        expectClose(a.lower, 1 - b.upper, tolerance: 1e-14, "mirror")
    }

    // Standard normal quantiles (Abramowitz & Stegun table 26.5 / any statistics table):
    // Phi^-1(.975) = 1.959963984540054, Phi^-1(.95) = 1.6448536269514722,
    // Phi^-1(.995) = 2.5758293035489004, Phi(1) = 0.8413447460685429 -> 1,
    // Phi(-3) = 0.0013498980316300946 -> -3, Phi^-1(1e-10) = -6.361340902404056.
    @Test("probit against known quantiles", arguments: [
        ProbitCase(p: 0.5, z: 0),
        ProbitCase(p: 0.975, z: 1.959963984540054),
        ProbitCase(p: 0.025, z: -1.959963984540054),
        ProbitCase(p: 0.95, z: 1.6448536269514722),
        ProbitCase(p: 0.995, z: 2.5758293035489004),
        ProbitCase(p: 0.8413447460685429, z: 1),
        ProbitCase(p: 0.0013498980316300946, z: -3),
        ProbitCase(p: 1e-10, z: -6.361340902404056),
    ])
    func probitQuantiles(_ c: ProbitCase) {
        expectClose(probit(c.p), c.z, tolerance: 1e-12 * max(1, abs(c.z)), "probit")
        expectClose(normalCDF(probit(c.p)), c.p, tolerance: 1e-14 + 1e-12 * c.p, "round trip")
    }

    @Test("probit edges: 0 -> -inf, 1 -> +inf, outside [0, 1] -> NaN")
    func probitEdges() {
        #expect(probit(0) == -.infinity)
        #expect(probit(1) == .infinity)
        #expect(probit(-0.1).isNaN && probit(1.1).isNaN && probit(.nan).isNaN)
    }
}

@Suite("Subject bootstrap")
struct BootstrapTests {
    /// 30 subjects, 4 genuine comparisons each (N(2, 1)), 2 impostor comparisons per unordered
    /// subject pair (N(0, 1)), a few failures; seeded.
    static func data(seed: UInt64) throws -> SortedScores<Double> {
        var rng = SeededGenerator(seed: seed)
        func normal() -> Double {
            let u = max(rng.unit(), 1e-300), v = rng.unit()
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        var g = [Double](), gl = [Int32](), gr = [Int32]()
        var i = [Double](), il = [Int32](), ir = [Int32]()
        let subjects: Int32 = 30
        for s in 0..<subjects {
            for _ in 0..<4 {
                g.append(rng.unit() < 0.02 ? .nan : 2 + normal()); gl.append(s); gr.append(s)
            }
            for t in (s + 1)..<subjects {
                for _ in 0..<2 {
                    i.append(rng.unit() < 0.01 ? .nan : normal()); il.append(s); ir.append(t)
                }
            }
        }
        return SortedScores(try ScoreSet(
            genuine: g, impostor: i, genuineIdentities: ComparisonIdentities(left: gl, right: gr),
            impostorIdentities: ComparisonIdentities(left: il, right: ir)))
    }

    static let metrics: [Metric] = [.frrAtFAR(0.05), .frrAtFAR(0.2), .farAtFRR(0.1), .farAtFRR(0.3)]

    @Test("same seed, same intervals; run twice, identical", arguments: [1, 2, 3] as [UInt64])
    func deterministic(_ seed: UInt64) throws {
        let s = try Self.data(seed: seed)
        for rule in ThresholdRule.allCases {
            let options = EvaluationOptions(
                metrics: Self.metrics, rule: rule, interval: .bootstrap, replicates: 200, seed: 42, curveMetrics: false)
            let a = try s.evaluate(options), b = try s.evaluate(options)
            #expect(a.operatingPoints == b.operatingPoints, "seed \(seed) rule \(rule)")
            for p in a.operatingPoints {
                #expect(p.interval?.method == "bootstrap-subjects", "seed \(seed) \(p.metric)")
                #expect(p.interval?.replicates == 200)
            }
            // A different bootstrap seed must give (at least somewhere) different intervals.
            var other = options
            other.seed = 43
            let c = try s.evaluate(other)
            #expect(c.operatingPoints.map(\.interval) != a.operatingPoints.map(\.interval), "seed \(seed)")
        }
    }

    @Test("the interval contains the point estimate in typical cases", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func containsEstimate(_ seed: UInt64) throws {
        let s = try Self.data(seed: seed)
        for rule in ThresholdRule.allCases {
            let m = try s.evaluate(EvaluationOptions(
                metrics: Self.metrics, rule: rule, interval: .bootstrap, replicates: 300, seed: seed,
                curveMetrics: false))
            for p in m.operatingPoints {
                let ci = try #require(p.interval, "seed \(seed) \(p.metric)")
                let v = try #require(p.value)
                #expect(ci.lower <= v && v <= ci.upper, "seed \(seed) \(p.metric) rule \(rule): \(v) not in \(ci)")
                #expect(ci.lower < ci.upper, "seed \(seed) \(p.metric): degenerate \(ci)")
            }
        }
    }

    @Test("bootstrap without identities is refused; auto falls back to Wilson")
    func needsIdentities() throws {
        let s = try sortedScores(tiesG, tiesI, as: Double.self)
        #expect(throws: EvaluationError.bootstrapNeedsIdentities) {
            try s.evaluate(EvaluationOptions(metrics: [.frrAtFAR(0.4)], interval: .bootstrap))
        }
        let m = try s.evaluate(EvaluationOptions(metrics: [.frrAtFAR(0.4)], interval: .auto))
        // frr@far=.4 on the ties case: FR 1 of nG 4 -> Wilson(1, 4).
        #expect(m.operatingPoints[0].interval == wilsonInterval(successes: 1, trials: 4))
    }
}
