@testable import ScoreMetrics
import AlaverifyBase
import Testing

/// Seeds of the randomized suites; each test runs its own stream of cases per seed.
let propertySeeds: [UInt64] = [1, 2, 3, 0xDEAD_BEEF, 20_240_601]
let casesPerSeed = 150

/// Runs `body` on `casesPerSeed` random tie-heavy cases drawn from `seed`.
func forEachRandomCase(
    _ seed: UInt64, specials: Bool = true, cases: Int = casesPerSeed,
    _ body: (RawScores, Precision, String) throws -> Void
) rethrows {
    var rng = SeededGenerator(seed: seed)
    for index in 0..<cases {
        let c = randomCase(&rng, specials: specials)
        let p: Precision = rng.below(2) == 0 ? .float : .double
        try body(c, p, "seed \(seed) case \(index) \(p): \(c)")
    }
}

@Suite("Seeded properties against brute force")
struct PropertyTests {
    @Test("achieved FAR never above the target; roc gives the lowest FRR among qualifying thresholds",
          arguments: propertySeeds)
    func farNeverAboveTarget(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            var rng = SeededGenerator(seed: seed ^ UInt64(c.nG * 131 + c.nI))
            for _ in 0..<6 {
                let a = max(rng.unit(), 1e-9)
                let K = c.allowedFalseAccepts(a)
                let qualifying = c.thresholds.filter { c.falseAccepts($0) <= K }
                for rule in ThresholdRule.allCases {
                    let got = e.point(.frrAtFAR(a), rule)
                    let candidates = rule == .roc
                        ? qualifying : qualifying.filter { t in t == .infinity || c.impostor.contains(t) }
                    guard let best = candidates.min() else {
                        #expect(!got.reachable, "\(label) a=\(a) \(rule): expected unreachable")
                        continue
                    }
                    let fa = try #require(got.falseAccepts, "\(label) a=\(a) \(rule)")
                    #expect(fa <= K && got.far! <= a, "\(label) a=\(a) \(rule): FA \(fa) > K \(K)")
                    #expect(got.threshold == best, "\(label) a=\(a) \(rule): threshold \(String(describing: got.threshold)) vs \(best)")
                    #expect(fa == c.falseAccepts(best) && got.falseRejects == c.falseRejects(best), "\(label) a=\(a) \(rule)")
                    #expect(got.estimable == (a * Double(c.nI) >= 3), "\(label) a=\(a)")
                }
            }
        }
    }

    @Test("FRR@FAR is non-increasing in the target", arguments: propertySeeds)
    func frrMonotone(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            let targets = stride(from: 0.02, to: 1, by: 0.04).map { $0 }
            for rule in ThresholdRule.allCases {
                var previous: Double? = nil
                for a in targets {
                    guard let frr = e.point(.frrAtFAR(a), rule).frr else {
                        #expect(previous == nil, "\(label) \(rule): unreachable at a=\(a) after a reachable target")
                        continue
                    }
                    if let previous { #expect(frr <= previous, "\(label) \(rule) a=\(a): \(frr) > \(previous)") }
                    previous = frr
                }
            }
        }
    }

    @Test("far@frr equals the brute-force largest threshold with FR <= b*nG", arguments: propertySeeds)
    func farAtFRR(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            for b in [0.05, 0.2, 0.5, 0.8, 0.95] {
                let B = Int((b * Double(c.nG)).rounded(.down))
                let got = e.point(.farAtFRR(b), .roc)
                guard let best = c.thresholds.filter({ c.falseRejects($0) <= B }).max() else {
                    #expect(!got.reachable && got.threshold == nil && got.far == nil, "\(label) b=\(b)")
                    continue
                }
                #expect(got.threshold == best, "\(label) b=\(b)")
                #expect(got.falseRejects == c.falseRejects(best) && got.falseAccepts == c.falseAccepts(best), "\(label) b=\(b)")
                #expect(got.falseRejects! <= B, "\(label) b=\(b)")
            }
        }
    }

    @Test("ROC AUC equals the brute-force pair count (ties half, NaN as -inf)", arguments: propertySeeds)
    func aucPairCount(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            expectClose(e.auc, c.aucByPairs, tolerance: 1e-14, label)
        }
    }

    @Test("AP equals the brute-force sum over distinct thresholds", arguments: propertySeeds)
    func apSum(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            expectClose(e.ap, c.apBySum, tolerance: 1e-12, label)
        }
    }

    @Test("EER equals the brute-force polyline crossing", arguments: propertySeeds)
    func eerPolyline(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            let want = c.eerByPolyline
            expectClose(e.eer?.value, want?.value, tolerance: 1e-12, label)
            #expect(e.eer?.threshold == want?.threshold, "\(label)")
        }
    }

    @Test("the curve equals brute-force counts at every distinct threshold", arguments: propertySeeds)
    func curveCounts(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            let got = e.curve.points.map { "\($0.threshold) \($0.falseAccepts) \($0.falseRejects)" }
            let want = c.thresholds.map { "\($0) \(c.falseAccepts($0)) \(c.falseRejects($0))" }
            #expect(got == want, "\(label)")
        }
    }

    @Test("ROCCH-EER lies in [0, 1/2] and never exceeds the EER", arguments: propertySeeds)
    func rocchBelowEER(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let e = try engine(c.genuine, c.impostor, p)
            #expect(e.rocch >= 0 && e.rocch <= 0.5 + 1e-12, "\(label): rocch \(e.rocch)")
            if let eer = e.eer?.value { #expect(e.rocch <= eer + 1e-12, "\(label): rocch \(e.rocch) > eer \(eer)") }
        }
    }

    @Test("distance polarity equals similarity on negated scores, thresholds negated back",
          arguments: propertySeeds)
    func distanceMirrorsSimilarity(_ seed: UInt64) throws {
        try forEachRandomCase(seed) { c, p, label in
            let sim = try engine(c.genuine, c.impostor, p)
            let dist = try engine(c.genuine.map { -$0 }, c.impostor.map { -$0 }, p, polarity: .distance)
            #expect(sim.auc == dist.auc && sim.ap == dist.ap && sim.rocch == dist.rocch, "\(label)")
            #expect(sim.eer?.value == dist.eer?.value && sim.eer?.threshold == dist.eer.map { -$0.threshold }, "\(label)")
            for m in [Metric.frrAtFAR(0.3), .farAtFRR(0.3)] {
                for rule in ThresholdRule.allCases {
                    let a = sim.point(m, rule), b = dist.point(m, rule)
                    #expect(a.falseAccepts == b.falseAccepts && a.falseRejects == b.falseRejects, "\(label) \(m)")
                    #expect(a.threshold == b.threshold.map { -$0 }, "\(label) \(m) \(rule)")
                }
            }
        }
    }

    @Test("operatingPointsOnly (no sort) equals the sorted engine", arguments: propertySeeds)
    func operatingPointsWithoutSorting(_ seed: UInt64) throws {
        // Fewer cases: each selection clears a 65536-bucket histogram, slow in debug builds.
        try forEachRandomCase(seed, cases: 25) { c, p, label in
            for polarity in Polarity.allCases {
                let g = polarity == .distance ? c.genuine.map { -$0 } : c.genuine
                let i = polarity == .distance ? c.impostor.map { -$0 } : c.impostor
                let metrics: [Metric] = [.frrAtFAR(0.1), .frrAtFAR(0.3), .frrAtFAR(0.75), .farAtFRR(0.1), .farAtFRR(0.5)]
                for rule in ThresholdRule.allCases {
                    let options = EvaluationOptions(metrics: metrics, rule: rule, interval: .wilson, curveMetrics: false)
                    func both<T: ScoreFloat>(_: T.Type) throws -> (SystemMetrics, SystemMetrics) {
                        let set = try ScoreSet(genuine: g.map { T($0) }, impostor: i.map { T($0) }, polarity: polarity)
                        return (try set.operatingPointsOnly(options), try SortedScores(set).evaluate(options))
                    }
                    let (fast, sorted) = p == .float ? try both(Float.self) : try both(Double.self)
                    let where_ = "\(label) \(polarity) \(rule)"
                    #expect(fast.genuineFailures == sorted.genuineFailures && fast.impostorFailures == sorted.impostorFailures, "\(where_)")
                    // Equality is numeric: a zero threshold may come out as -0 from one path and +0
                    // from the other (both reproduce the counts; the JSON writer prints 0.0 for both).
                    for (a, b) in zip(fast.operatingPoints, sorted.operatingPoints) {
                        #expect(a == b, "\(where_) \(a.metric): \(a) vs \(b)")
                    }
                    #expect(fast.operatingPoints.count == metrics.count, "\(where_)")
                }
            }
        }
    }
}
