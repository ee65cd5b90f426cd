@testable import ScoreMetrics
import AlaverifyBase
import Foundation
import Testing

/// Thresholds chosen on dev, applied to eval: expected values derived by hand and by brute force.
@Suite("Fixed thresholds: dev -> eval")
struct FixedThresholdTests {
    let dev = ThresholdProvenance(kind: .dev, file: "dev.csv", sha256: nil)

    @Test("hand-built dev/eval pair: threshold, counts, drift and HTER", arguments: Precision.allCases)
    func handBuilt(_ p: Precision) throws {
        func run<T: ScoreFloat>(_: T.Type) throws {
            // Dev: G {0.9, 0.8, 0.3}, I {0.5, 0.25, 0.125}. frr@far=0.34: K = floor(0.34 * 3) = 1, v = 0.25
            // (2nd largest impostor); the smallest observed score above it is the genuine 0.3.
            let d = try sortedScores([0.9, 0.8, 0.3], [0.5, 0.25, 0.125], as: T.self)
            let chosen = try d.chooseThresholds([.frrAtFAR(0.34)], rule: .roc, eer: false, provenance: dev)
            #expect(chosen.count == 1)
            #expect(chosen[0].threshold == 0.3 || T.self == Float.self)
            #expect(chosen[0].chosenOn?.falseAccepts == 1 && chosen[0].chosenOn?.falseRejects == 0)
            #expect(chosen[0].provenance.rule == "roc")
            // Eval: G {0.375, 0.25, 0.875, NaN}, I {0.5, 0.375, 0.125, 0.25}, at t = T(0.3):
            // accepted impostors {0.5, 0.375} -> FAR 2/4; rejected genuine {0.25, NaN} -> FRR 2/4.
            let e = try sortedScores([0.375, 0.25, 0.875, .nan], [0.5, 0.375, 0.125, 0.25], as: T.self)
            let r = try e.apply(chosen[0], interval: .none)
            #expect(r.falseAccepts == 2 && r.falseRejects == 2 && r.impostorCount == 4 && r.genuineCount == 4)
            #expect(r.far == 0.5 && r.frr == 0.5 && r.hter == 0.5)
            #expect(r.drift == 0.5 / 0.34)
            #expect(r.estimable == false)  // 0.34 * 4 < 3
            #expect(r.farInterval == nil && r.frrInterval == nil)
        }
        switch p {
        case .float: try run(Float.self)
        case .double: try run(Double.self)
        }
    }

    @Test("distance polarity: the threshold is in distance units and accepts d <= t")
    func distance() throws {
        // The hand case as distances 1 - s (exact in binary): dev G {0.125, 0.25, 0.75}, I {0.5, 0.75, 0.875}.
        let d = try sortedScores([0.125, 0.25, 0.75], [0.5, 0.75, 0.875], as: Double.self, polarity: .distance)
        let t = try d.chooseThresholds([.frrAtFAR(0.34)], rule: .roc, eer: false, provenance: dev)[0]
        // On negated scores: I {-0.875, -0.75, -0.5}, K = 1, v = -0.75; the observed scores above it are
        // -0.5 (impostor), -0.25 and -0.125 (genuine): t = -0.5, reported as 0.5 (accept d <= 0.5).
        #expect(t.threshold == 0.5)
        #expect(t.polarity == .distance)
        let e = try sortedScores([0.5, 0.625, 0.25], [0.5, 0.375, 1.0], as: Double.self, polarity: .distance)
        let r = try e.apply(t, interval: .none)
        #expect(r.falseAccepts == 2)  // 0.5 and 0.375 <= 0.5
        #expect(r.falseRejects == 1)  // 0.625 > 0.5
    }

    @Test("a double threshold is compared with float scores in double precision")
    func doubleComparison() throws {
        // Float(0.1) = 0.100000001490116... >= 0.1, and Float(0.1) rounded down would not be.
        let e = try sortedScores([0.5], [0.1], as: Float.self)
        let given = FixedThreshold(chosenFor: nil, threshold: 0.1, polarity: .similarity, provenance: .init(kind: .given))
        #expect(try e.apply(given, interval: .none).falseAccepts == 1)
        let above = FixedThreshold(chosenFor: nil, threshold: 0.10000000149011612 + 1e-12, polarity: .similarity, provenance: .init(kind: .given))
        #expect(try e.apply(above, interval: .none).falseAccepts == 0)
    }

    @Test("refusals: NaN threshold, polarity mismatch, unreachable dev point, bootstrap without identities")
    func refusals() throws {
        let e = try sortedScores([0.5, .nan, .nan], [0.1], as: Double.self)
        let nan = FixedThreshold(chosenFor: nil, threshold: .nan, polarity: .similarity, provenance: .init(kind: .given))
        #expect(throws: FixedThresholdError.self) { _ = try e.apply(nan) }
        #expect(FixedThresholdError.notFinite(.nan).exitStatus == .usage)
        let dist = FixedThreshold(chosenFor: nil, threshold: 0.3, polarity: .distance, provenance: .init(kind: .given))
        #expect(throws: FixedThresholdError.polarityMismatch(threshold: .distance, scores: .similarity)) { _ = try e.apply(dist) }
        // far@frr=0.5 with 2 of 3 genuine failed: no threshold keeps FRR <= 0.5.
        #expect(throws: FixedThresholdError.unreachable(.farAtFRR(0.5))) {
            _ = try e.chooseThresholds([.farAtFRR(0.5)], rule: .roc, eer: false, provenance: dev)
        }
        let ok = FixedThreshold(chosenFor: nil, threshold: 0.3, polarity: .similarity, provenance: .init(kind: .given))
        #expect(throws: EvaluationError.bootstrapNeedsIdentities) { _ = try e.apply(ok, interval: .bootstrap) }
        #expect(try e.apply(ok).farInterval?.method == "wilson")
    }

    @Test("conservative intervals at a fixed threshold: Wilson bounds on identity units, else on comparisons")
    func conservativeAtFixedThreshold() throws {
        let t = FixedThreshold(chosenFor: nil, threshold: 0.3, polarity: .similarity, provenance: .init(kind: .given))
        // G {0.375, 0.25, 0.875, 0.5}, I {0.5, 0.375, 0.125, 0.25, 0, 0.125}: at 0.3, FA 2 of 6, FR 1 of 4.
        let g = [0.375, 0.25, 0.875, 0.5], i = [0.5, 0.375, 0.125, 0.25, 0, 0.125]
        let plain = try sortedScores(g, i, as: Double.self).apply(t, interval: .conservative)
        let far = wilsonInterval(successes: 2, trials: 6), frr = wilsonInterval(successes: 1, trials: 4)
        #expect(plain.farInterval?.lower == far.lower && plain.farInterval?.upper == far.upper)
        #expect(plain.frrInterval?.lower == frr.lower && plain.frrInterval?.upper == frr.upper)
        #expect(plain.farInterval?.method == "conservative" && plain.frrInterval?.method == "conservative")
        // Identities: genuine subjects {1, 1, 2, 3} (3 units); impostor pairs (1,2) (2,1) (1,3) (2,3) (3,2) (1,3):
        // 3 unordered pairs. Rates stay 2/6 and 1/4, the units shrink.
        let ided = try sortedScores(
            g, i, as: Double.self, genuineIdentities: ComparisonIdentities(left: [1, 1, 2, 3], right: [1, 1, 2, 3]),
            impostorIdentities: ComparisonIdentities(left: [1, 2, 1, 2, 3, 1], right: [2, 1, 3, 3, 2, 3]))
        let r = try ided.apply(t, interval: .conservative)
        let farU = wilsonBounds(2.0 / 6, units: 3, level: 0.95), frrU = wilsonBounds(0.25, units: 3, level: 0.95)
        #expect(r.farInterval?.lower == farU.lower && r.farInterval?.upper == farU.upper)
        #expect(r.frrInterval?.lower == frrU.lower && r.frrInterval?.upper == frrU.upper)
        // Fewer units, wider interval.
        #expect(r.farInterval!.upper - r.farInterval!.lower > far.upper - far.lower)
    }

    @Test("random dev/eval sets: chosen thresholds and eval counts equal brute force", arguments: propertySeeds)
    func randomAgainstBruteForce(_ seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed ^ 0xF1_7ED)
        for index in 0..<120 {
            let d = randomCase(&rng), e = randomCase(&rng)
            let label = "seed \(seed) case \(index): dev \(d) eval \(e)"
            let a = [0.05, 0.1, 0.25, 0.5][rng.below(4)]
            let rule: ThresholdRule = rng.below(2) == 0 ? .roc : .impostor
            let devSet = try sortedScores(d.genuine, d.impostor, as: Double.self)
            let evalSet = try sortedScores(e.genuine, e.impostor, as: Double.self)
            // Brute force: candidates are the observed scores (impostor scores for rule impostor) and +inf;
            // keep those with k <= floor(a * nI); roc takes the lowest FRR (then the smallest t),
            // impostor the smallest t.
            let allowed = Int((a * Double(d.nI)).rounded(.down))
            let pool = rule == .roc ? d.thresholds : d.thresholds.filter { t in t == .infinity || d.impostor.contains(t) }
            let ok = pool.filter { d.falseAccepts($0) <= allowed }
            let want = rule == .roc
                ? ok.min { (d.falseRejects($0), $0) < (d.falseRejects($1), $1) }
                : ok.min()
            guard let want else {
                #expect(throws: FixedThresholdError.unreachable(.frrAtFAR(a)), "\(label)") {
                    _ = try devSet.chooseThresholds([.frrAtFAR(a)], rule: rule, eer: true, provenance: dev)
                }
                continue
            }
            let chosen = try devSet.chooseThresholds([.frrAtFAR(a)], rule: rule, eer: true, provenance: dev)
            #expect(chosen.first?.threshold == want, "\(label) rule \(rule) a \(a)")
            for t in chosen {
                let r = try evalSet.apply(t, interval: .none)
                #expect(r.falseAccepts == e.falseAccepts(t.threshold), "\(label) \(t.name)")
                #expect(r.falseRejects == e.falseRejects(t.threshold), "\(label) \(t.name)")
                #expect(r.far == Double(e.falseAccepts(t.threshold)) / Double(e.nI))
                #expect(r.frr == Double(e.falseRejects(t.threshold)) / Double(e.nG))
            }
            // The EER threshold is the engine's own (observed, nearest the crossing).
            if let eer = devSet.equalErrorRate() { #expect(chosen.last?.threshold == eer.threshold, "\(label)") }
        }
    }

    @Test("subject bootstrap at a fixed threshold: weighted rates equal a brute-force weighting", arguments: propertySeeds)
    func bootstrapWeights(_ seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed ^ 0xB007)
        for index in 0..<40 {
            // Up to 6 subjects; genuine pairs (s, s), impostor pairs (l, r) with l != r.
            let S = 2 + rng.below(5)
            var g = [Double](), gl = [Int32](), i = [Double](), il = [Int32](), ir = [Int32]()
            for _ in 0..<(1 + rng.below(15)) {
                let s = Int32(10 + rng.below(S))
                g.append(rng.below(10) == 0 ? .nan : Double(rng.below(9)) / 4)
                gl.append(s)
            }
            for _ in 0..<(1 + rng.below(30)) {
                let l = Int32(10 + rng.below(S))
                var r = Int32(10 + rng.below(S))
                if r == l { r = l == 10 ? 11 : 10 }
                i.append(rng.below(10) == 0 ? .nan : Double(rng.below(9)) / 4 - 0.5)
                il.append(l)
                ir.append(r)
            }
            let sorted = try sortedScores(
                g, i, as: Double.self, genuineIdentities: ComparisonIdentities(left: gl, right: gl),
                impostorIdentities: ComparisonIdentities(left: il, right: ir))
            let t = Double(rng.below(9)) / 4 - 0.25
            let b = FixedThresholdBootstrap(sorted, sorted.identities!, threshold: t)
            // Multiplicities by identity, drawn here; the bootstrap's order is its `subjects`.
            var byID = [Int32: Int]()
            for id in b.subjects { byID[id] = rng.below(3) }
            let m = b.subjects.map { byID[$0]! }
            var wI = 0, acc = 0, wG = 0, rej = 0
            for j in i.indices {
                let w = byID[il[j]]! * byID[ir[j]]!
                wI += w
                if !i[j].isNaN && i[j] >= t { acc += w }
            }
            for j in g.indices {
                let w = byID[gl[j]]!
                wG += w
                if g[j].isNaN || g[j] < t { rej += w }
            }
            let r = b.rates(weights: m)
            let label = "seed \(seed) case \(index)"
            #expect(r.far == (wI > 0 ? Double(acc) / Double(wI) : nil), "\(label)")
            #expect(r.frr == (wG > 0 ? Double(rej) / Double(wG) : nil), "\(label)")
            // All multiplicities 1 reproduce the point estimate.
            let ones = b.rates(weights: [Int](repeating: 1, count: b.subjects.count))
            let fixed = FixedThreshold(chosenFor: nil, threshold: t, polarity: .similarity, provenance: .init(kind: .given))
            let point = try sorted.apply(fixed, interval: .none)
            #expect(ones.far == point.far && ones.frr == point.frr, "\(label)")
        }
    }

    @Test("bootstrap intervals are seeded and bracket the estimate on a larger set")
    func bootstrapIntervals() throws {
        var rng = SeededGenerator(seed: 11)
        var g = [Double](), gl = [Int32](), i = [Double](), il = [Int32](), ir = [Int32]()
        for s in 0..<40 {
            for _ in 0..<5 { g.append(1 + rng.normal()); gl.append(Int32(s)) }
            for r in (s + 1)..<40 { i.append(rng.normal()); il.append(Int32(s)); ir.append(Int32(r)) }
        }
        let sorted = try sortedScores(
            g, i, as: Double.self, genuineIdentities: ComparisonIdentities(left: gl, right: gl),
            impostorIdentities: ComparisonIdentities(left: il, right: ir))
        let fixed = FixedThreshold(chosenFor: nil, threshold: 1.0, polarity: .similarity, provenance: .init(kind: .given))
        let a = try sorted.apply(fixed, replicates: 300, seed: 5)
        let b = try sorted.apply(fixed, replicates: 300, seed: 5)
        #expect(a.farInterval == b.farInterval && a.frrInterval == b.frrInterval)
        let far = try #require(a.farInterval), frr = try #require(a.frrInterval)
        #expect(far.method == "bootstrap-subjects" && far.replicates == 300)
        #expect(far.lower < a.far && a.far < far.upper)
        #expect(frr.lower < a.frr && a.frr < frr.upper)
    }
}

extension SeededGenerator {
    /// A standard normal draw (Box-Muller).
    mutating func normal() -> Double {
        let u = max(unit(), 1e-300), v = unit()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}
