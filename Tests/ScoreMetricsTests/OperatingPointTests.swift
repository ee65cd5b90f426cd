@testable import ScoreMetrics
import Testing

/// One operating point derived by hand from SPEC section 2.
struct PointCase: Sendable, CustomTestStringConvertible {
    var name: String
    var genuine: [Double]
    var impostor: [Double]
    var polarity: Polarity = .similarity
    var metric: Metric
    var rule: ThresholdRule = .roc
    /// nil: unreachable.
    var threshold: Double?
    var falseAccepts: Int?
    var falseRejects: Int?
    var estimable: Bool
    var testDescription: String { "\(name): \(metric) rule \(rule)" }
}

// Shared data: G = [.25 .5 .5 .875] (nG 4), I = [.125 .25 .375 .5 .5] (nI 5).
// t:  inf .875 .5 .375 .25 .125 ;  FA: 0 0 2 3 4 5 ;  FR: 4 3 1 1 0 0.
let tiesG: [Double] = [0.25, 0.5, 0.5, 0.875]
let tiesI: [Double] = [0.125, 0.25, 0.375, 0.5, 0.5]

/// 1000 distinct impostor scores 0/1000 ... 999/1000 and one genuine score above them all.
let thousandI: [Double] = (0..<1000).map { Double($0) / 1000 }
/// 100 distinct impostor scores 0 ... 99.
let hundredI: [Double] = (0..<100).map { Double($0) }

let pointCases: [PointCase] = [
    // a = .2: K = floor(.2*5) = 1. roc: smallest t with FA <= 1 is .875 (t = .5 has FA 2);
    // FR(.875) = 3. a*nI = 1 < 3 -> not estimable.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.2),
              threshold: 0.875, falseAccepts: 0, falseRejects: 3, estimable: false),
    // impostor rule: the lowest impostor value with FA <= 1: .5 has FA 2, so none -> +inf (reject
    // all): FA 0, FR 4.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.2), rule: .impostor,
              threshold: .infinity, falseAccepts: 0, falseRejects: 4, estimable: false),
    // a = .4: K = 2. roc: smallest t with FA <= 2 is .5 (FA 2, FR 1); impostor rule: .5 as well.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.4),
              threshold: 0.5, falseAccepts: 2, falseRejects: 1, estimable: false),
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.4), rule: .impostor,
              threshold: 0.5, falseAccepts: 2, falseRejects: 1, estimable: false),
    // a = .5: K = floor(2.5) = 2: same threshold as a = .4 (achieved FAR .4 < .5).
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.5),
              threshold: 0.5, falseAccepts: 2, falseRejects: 1, estimable: false),
    // a = .6: K = floor(3.0) = 3: .375 (FA 3, FR 1); a*nI = 3 -> estimable.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.6),
              threshold: 0.375, falseAccepts: 3, falseRejects: 1, estimable: true),
    // a = .99: K = floor(4.95) = 4: smallest t with FA <= 4 is .25 (FA 4, FR 0).
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .frrAtFAR(0.99),
              threshold: 0.25, falseAccepts: 4, falseRejects: 0, estimable: true),
    // far@frr=.25: B = floor(.25*4) = 1: largest t with FR <= 1 is .5 (t = .875 has FR 3): FA 2.
    // b*nG = 1 < 3 -> not estimable.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .farAtFRR(0.25),
              threshold: 0.5, falseAccepts: 2, falseRejects: 1, estimable: false),
    // far@frr=.2: B = floor(.8) = 0: largest t with FR 0 is .25: FA 4.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .farAtFRR(0.2),
              threshold: 0.25, falseAccepts: 4, falseRejects: 0, estimable: false),
    // far@frr=.8: B = floor(3.2) = 3: largest t with FR <= 3 is .875: FA 0, FR 3; b*nG = 3.2 -> estimable.
    PointCase(name: "ties", genuine: tiesG, impostor: tiesI, metric: .farAtFRR(0.8),
              threshold: 0.875, falseAccepts: 0, falseRejects: 3, estimable: true),

    // All tied: G = [.5 .5], I = [.5 .5 .5]; thresholds inf (FA0 FR2) and .5 (FA3 FR0).
    // frr@far=.5: K = floor(1.5) = 1 -> only +inf qualifies: FA 0, FR 2.
    PointCase(name: "all tied", genuine: [0.5, 0.5], impostor: [0.5, 0.5, 0.5], metric: .frrAtFAR(0.5),
              threshold: .infinity, falseAccepts: 0, falseRejects: 2, estimable: false),
    // far@frr=.5: B = 1 -> largest t with FR <= 1 is .5 (FR 0): FA 3.
    PointCase(name: "all tied", genuine: [0.5, 0.5], impostor: [0.5, 0.5, 0.5], metric: .farAtFRR(0.5),
              threshold: 0.5, falseAccepts: 3, falseRejects: 0, estimable: false),

    // One score each, G = [1], I = [0]. frr@far=.5: K = 0 -> smallest t with FA 0 is 1: FR 0.
    PointCase(name: "one each", genuine: [1], impostor: [0], metric: .frrAtFAR(0.5),
              threshold: 1, falseAccepts: 0, falseRejects: 0, estimable: false),
    // impostor rule: the lowest impostor value with FA 0: 0 has FA 1 -> +inf: FR 1.
    PointCase(name: "one each", genuine: [1], impostor: [0], metric: .frrAtFAR(0.5), rule: .impostor,
              threshold: .infinity, falseAccepts: 0, falseRejects: 1, estimable: false),
    // far@frr=.5: B = 0 -> largest t with FR 0 is 1: FA 0.
    PointCase(name: "one each", genuine: [1], impostor: [0], metric: .farAtFRR(0.5),
              threshold: 1, falseAccepts: 0, falseRejects: 0, estimable: false),

    // NaN genuine: G = [.75 NaN] (nG 2), I = [.25 .625].
    // frr@far=.5: K = 1 -> smallest t with FA <= 1 is .625 (FA 1); FR = 1 failure.
    PointCase(name: "NaN genuine", genuine: [0.75, .nan], impostor: [0.25, 0.625], metric: .frrAtFAR(0.5),
              threshold: 0.625, falseAccepts: 1, falseRejects: 1, estimable: false),
    // far@frr=.25: B = floor(.5) = 0 but the failure alone is 1 rejection -> unreachable.
    PointCase(name: "NaN genuine", genuine: [0.75, .nan], impostor: [0.25, 0.625], metric: .farAtFRR(0.25),
              threshold: nil, falseAccepts: nil, falseRejects: nil, estimable: false),
    // far@frr=.5: B = 1 -> largest t with FR <= 1 is .75 (FR 1: the failure): FA 0.
    PointCase(name: "NaN genuine", genuine: [0.75, .nan], impostor: [0.25, 0.625], metric: .farAtFRR(0.5),
              threshold: 0.75, falseAccepts: 0, falseRejects: 1, estimable: false),

    // NaN impostors: G = [.375 .75], I = [.5 NaN NaN NaN] (nI 4).
    // frr@far=.25: K = 1 -> every threshold has FA <= 1; roc takes the smallest observed .375: FR 0.
    PointCase(name: "NaN impostors", genuine: [0.375, 0.75], impostor: [0.5, .nan, .nan, .nan],
              metric: .frrAtFAR(0.25), threshold: 0.375, falseAccepts: 1, falseRejects: 0, estimable: false),
    // impostor rule: the lowest impostor value with FA <= 1 is .5: FR 1 (.375 < .5).
    PointCase(name: "NaN impostors", genuine: [0.375, 0.75], impostor: [0.5, .nan, .nan, .nan],
              metric: .frrAtFAR(0.25), rule: .impostor, threshold: 0.5, falseAccepts: 1, falseRejects: 1,
              estimable: false),
    // All impostors failed: I = [NaN NaN]; roc: lowest observed .375 (FA 0); impostor rule: no
    // impostor value, only +inf.
    PointCase(name: "all impostors failed", genuine: [0.375, 0.75], impostor: [.nan, .nan],
              metric: .frrAtFAR(0.25), threshold: 0.375, falseAccepts: 0, falseRejects: 0, estimable: false),
    PointCase(name: "all impostors failed", genuine: [0.375, 0.75], impostor: [.nan, .nan],
              metric: .frrAtFAR(0.25), rule: .impostor, threshold: .infinity, falseAccepts: 0, falseRejects: 2,
              estimable: false),

    // +-inf: G = [inf .5 -inf] (nG 3), I = [inf .25 -inf -inf] (nI 4).
    // t inf FA1 FR2; .5 FA1 FR1; .25 FA2 FR1; -inf FA4 FR0.
    // frr@far=.25: K = 1: roc -> .5 (FA 1, FR 1); impostor rule -> lowest impostor value with
    // FA <= 1 is +inf (FA 1, FR 2).
    PointCase(name: "infinities", genuine: [.infinity, 0.5, -.infinity], impostor: [.infinity, 0.25, -.infinity, -.infinity],
              metric: .frrAtFAR(0.25), threshold: 0.5, falseAccepts: 1, falseRejects: 1, estimable: false),
    PointCase(name: "infinities", genuine: [.infinity, 0.5, -.infinity], impostor: [.infinity, 0.25, -.infinity, -.infinity],
              metric: .frrAtFAR(0.25), rule: .impostor, threshold: .infinity, falseAccepts: 1, falseRejects: 2,
              estimable: false),
    // frr@far=.2: K = floor(.8) = 0 but the +inf impostor is accepted at every threshold,
    // reject-all included: no threshold has FA <= 0 -> unreachable under both rules.
    PointCase(name: "infinities", genuine: [.infinity, 0.5, -.infinity], impostor: [.infinity, 0.25, -.infinity, -.infinity],
              metric: .frrAtFAR(0.2), threshold: nil, falseAccepts: nil, falseRejects: nil, estimable: false),
    PointCase(name: "infinities", genuine: [.infinity, 0.5, -.infinity], impostor: [.infinity, 0.25, -.infinity, -.infinity],
              metric: .frrAtFAR(0.2), rule: .impostor, threshold: nil, falseAccepts: nil, falseRejects: nil,
              estimable: false),
    // far@frr=.34: B = floor(1.02) = 1 -> largest t with FR <= 1 is .5 (inf has FR 2): FA 1;
    // b*nG = 1.02 < 3 -> not estimable.
    PointCase(name: "infinities", genuine: [.infinity, 0.5, -.infinity], impostor: [.infinity, 0.25, -.infinity, -.infinity],
              metric: .farAtFRR(0.34), threshold: 0.5, falseAccepts: 1, falseRejects: 1, estimable: false),
    // far@frr=.1: B = 0 -> largest t with FR 0 is -inf: accepts everything, FA 4.
    PointCase(name: "infinities", genuine: [.infinity, 0.5, -.infinity], impostor: [.infinity, 0.25, -.infinity, -.infinity],
              metric: .farAtFRR(0.1), threshold: -.infinity, falseAccepts: 4, falseRejects: 0, estimable: false),

    // -0 vs +0: G = [0 1], I = [-0 -1]. frr@far=.5: K = 1 -> smallest t with FA <= 1 is 0
    // (FA 1: -0 >= 0); FR 0. The threshold is the one value 0 (reported as +0).
    PointCase(name: "signed zero", genuine: [0, 1], impostor: [-0.0, -1], metric: .frrAtFAR(0.5),
              threshold: 0, falseAccepts: 1, falseRejects: 0, estimable: false),
    // Same with the zeros swapped between classes: G = [-0 1], I = [0 -1]: identical counts.
    PointCase(name: "signed zero swapped", genuine: [-0.0, 1], impostor: [0, -1], metric: .frrAtFAR(0.5),
              threshold: 0, falseAccepts: 1, falseRejects: 0, estimable: false),
    // far@frr=.5: B = 1 -> largest t with FR <= 1 is 1 (FR 1; +inf has FR 2): FA 0.
    PointCase(name: "signed zero", genuine: [0, 1], impostor: [-0.0, -1], metric: .farAtFRR(0.5),
              threshold: 1, falseAccepts: 0, falseRejects: 1, estimable: false),

    // A lone -0: G = [-0 NaN] (nG 2), I = [-.5]. far@frr=.5: B = 1, the failure uses it up, so
    // the largest t with FR <= 1 is the zero (FR(0) = 1 + #{g < 0} = 1): FA 0 (-.5 < 0).
    // Reported as +0 (the genuine class has a single non-failed score).
    PointCase(name: "lone signed zero", genuine: [-0.0, .nan], impostor: [-0.5], metric: .farAtFRR(0.5),
              threshold: 0, falseAccepts: 0, falseRejects: 1, estimable: false),
    // I = [-0] alone: frr@far=.99: K = 0, roc: smallest t with FA 0 is 1 (G = [1]); the
    // impostor rule has no impostor value with FA 0 -> +inf.
    PointCase(name: "lone signed zero impostor", genuine: [1], impostor: [-0.0], metric: .frrAtFAR(0.99),
              threshold: 1, falseAccepts: 0, falseRejects: 0, estimable: false),

    // Distances G = [.125 .5], I = [.375 .875 1]; accept iff d <= t: FA = #{i <= t}, FR = #{g > t}.
    // frr@far=.34: K = floor(1.02) = 1: the largest t with FA <= 1 is .5 (FA 1: .375; .875 has FA 2):
    // FR 0. Threshold in distance units; a*nI = 1.02 < 3 -> not estimable.
    PointCase(name: "distance", genuine: [0.125, 0.5], impostor: [0.375, 0.875, 1], polarity: .distance,
              metric: .frrAtFAR(0.34), threshold: 0.5, falseAccepts: 1, falseRejects: 0, estimable: false),
    // impostor rule: the impostor value with FA <= 1 that accepts the most: .375: FR 1 (.5 > .375).
    PointCase(name: "distance", genuine: [0.125, 0.5], impostor: [0.375, 0.875, 1], polarity: .distance,
              metric: .frrAtFAR(0.34), rule: .impostor, threshold: 0.375, falseAccepts: 1, falseRejects: 1,
              estimable: false),
    // frr@far=.1: K = 0: the largest t with FA 0 is .125: FR 1.
    PointCase(name: "distance", genuine: [0.125, 0.5], impostor: [0.375, 0.875, 1], polarity: .distance,
              metric: .frrAtFAR(0.1), threshold: 0.125, falseAccepts: 0, falseRejects: 1, estimable: false),
    // far@frr=.5: B = 1: the smallest t with FR <= 1 is .125 (FR 1; reject-all -inf has FR 2): FA 0.
    PointCase(name: "distance", genuine: [0.125, 0.5], impostor: [0.375, 0.875, 1], polarity: .distance,
              metric: .farAtFRR(0.5), threshold: 0.125, falseAccepts: 0, falseRejects: 1, estimable: false),
    // frr@far=.1 with K = 0 and nothing below the impostors: G = [2], I = [1]: only the reject-all
    // threshold -inf: FR 1.
    PointCase(name: "distance, reject all", genuine: [2], impostor: [1], polarity: .distance,
              metric: .frrAtFAR(0.1), threshold: -.infinity, falseAccepts: 0, falseRejects: 1, estimable: false),

    // Count boundary: nI = 1000, a = .003: a*nI = 3.0 exactly in double -> K = 3, estimable.
    // The 4th largest impostor is .996, so t = .997 accepts .997 .998 .999: FA 3, FAR = a exactly.
    PointCase(name: "nI 1000 boundary", genuine: [2], impostor: thousandI, metric: .frrAtFAR(0.003),
              threshold: 0.997, falseAccepts: 3, falseRejects: 0, estimable: true),
    PointCase(name: "nI 1000 boundary", genuine: [2], impostor: thousandI, metric: .frrAtFAR(0.003), rule: .impostor,
              threshold: 0.997, falseAccepts: 3, falseRejects: 0, estimable: true),
    // a = .0029: a*nI = 2.9 -> K = 2: t = .998; 2.9 < 3 -> not estimable.
    PointCase(name: "nI 1000 just below", genuine: [2], impostor: thousandI, metric: .frrAtFAR(0.0029),
              threshold: 0.998, falseAccepts: 2, falseRejects: 0, estimable: false),
    // a = .57, nI = 100: the double product .57*100 is 56.99999999999999, so K = 56 (decided in
    // double precision, as SPEC says): I = 0...99, FA(t=j) = 100 - j <= 56 -> t = 44.
    PointCase(name: "nI 100, product rounds below 57", genuine: [1000], impostor: hundredI, metric: .frrAtFAR(0.57),
              threshold: 44, falseAccepts: 56, falseRejects: 0, estimable: true),
    // a = .07, nI = 100: the product is 7.000000000000001 -> K = 7 -> t = 93.
    PointCase(name: "nI 100, product rounds above 7", genuine: [1000], impostor: hundredI, metric: .frrAtFAR(0.07),
              threshold: 93, falseAccepts: 7, falseRejects: 0, estimable: true),
]

@Suite("Operating points on hand-derived cases")
struct OperatingPointTests {
    @Test("threshold, counts, rates and estimability", arguments: pointCases, Precision.allCases)
    func point(_ c: PointCase, _ p: Precision) throws {
        if p == .float, c.impostor.contains(where: { !$0.isNaN && Double(Float($0)) != $0 }) {
            // Values like .997 are not Floats; the Double run covers them, the Float run checks
            // the same counts on Float-rounded data.
            let e = try engine(c.genuine, c.impostor.map { Double(Float($0)) }, p, polarity: c.polarity)
            let got = e.point(c.metric, c.rule)
            #expect(got.falseAccepts == c.falseAccepts && got.falseRejects == c.falseRejects)
            #expect(got.threshold == c.threshold.map { Double(Float($0)) })
            return
        }
        let e = try engine(c.genuine, c.impostor, p, polarity: c.polarity)
        let got = e.point(c.metric, c.rule)
        let nG = c.genuine.count, nI = c.impostor.count
        #expect(got.reachable == (c.threshold != nil))
        #expect(got.threshold == c.threshold)
        if let t = got.threshold, t == 0 { #expect(t.sign == .plus, "threshold 0 must be reported as +0") }
        #expect(got.falseAccepts == c.falseAccepts)
        #expect(got.falseRejects == c.falseRejects)
        #expect(got.far == c.falseAccepts.map { Double($0) / Double(nI) })
        #expect(got.frr == c.falseRejects.map { Double($0) / Double(nG) })
        #expect(got.estimable == c.estimable)
        #expect(got.genuineCount == nG && got.impostorCount == nI)
        #expect(got.target == c.metric.rate)
        if case .farAtFRR = c.metric {} else { #expect(got.rule == c.rule) }
    }

    @Test("the reported threshold reproduces the counts with `score >= t` (or `distance <= t`)",
          arguments: pointCases)
    func thresholdReproducesCounts(_ c: PointCase) throws {
        let e = try engine(c.genuine, c.impostor, .double, polarity: c.polarity)
        let got = e.point(c.metric, c.rule)
        guard let t = got.threshold else { return }
        let accept: (Double) -> Bool = c.polarity == .similarity ? { $0 >= t } : { $0 <= t }
        #expect(c.impostor.filter(accept).count == got.falseAccepts)
        #expect(c.genuine.filter { !accept($0) }.count == got.falseRejects)  // NaN is never accepted
    }
}

extension Metric {
    /// The rate of an operating point or pAUC metric.
    var rate: Double? {
        switch self {
        case .frrAtFAR(let a), .farAtFRR(let a), .partialAUC(let a): return a
        default: return nil
        }
    }
}

@Suite("Identity-aware operating points")
struct IdentityTests {
    // Impostor comparisons (left, right, score): (1,2) .875, (2,1) .75, (1,2) .625, (1,3) .5,
    // (3,4) .125, (2,3) NaN -> nI 6; distinct unordered pairs {1,2} {1,3} {3,4} {2,3} = 4
    // (the failed comparison is a comparison too).
    // Genuine: (1,1) .9375, (2,2) .8125, (3,3) .4375, (4,4) .25 -> 4 subjects.
    static let impostor: [Double] = [0.875, 0.75, 0.625, 0.5, 0.125, .nan]
    static let impostorIds = ComparisonIdentities(left: [1, 2, 1, 1, 3, 2], right: [2, 1, 2, 3, 4, 3])
    static let genuine: [Double] = [0.9375, 0.8125, 0.4375, 0.25]
    static let genuineIds = ComparisonIdentities(left: [1, 2, 3, 4], right: [1, 2, 3, 4])

    func point(_ metric: Metric, _ p: Precision) throws -> OperatingPoint {
        func make<T: ScoreFloat>(_ t: T.Type) throws -> OperatingPoint {
            try sortedScores(
                Self.genuine, Self.impostor, as: t, genuineIdentities: Self.genuineIds,
                impostorIdentities: Self.impostorIds
            ).operatingPoint(metric)
        }
        return p == .float ? try make(Float.self) : try make(Double.self)
    }

    @Test("frr@far: pair counts and estimable_by_subjects", arguments: Precision.allCases)
    func frrAtFAR(_ p: Precision) throws {
        // a = .5: K = floor(3.0) = 3; the 4th largest impostor is .5, so t = .625 (the smallest
        // observed score above it): FA 3 (.875 .75 .625), all of identity pair {1,2} -> 1 pair.
        // FR: genuine below .625: .4375 and .25 -> 2. estimable: .5*6 = 3 >= 3 -> true;
        // by subjects: .5 * 4 pairs = 2 < 3 -> false.
        let got = try point(.frrAtFAR(0.5), p)
        #expect(got.threshold == 0.625)
        #expect(got.falseAccepts == 3 && got.falseRejects == 2)
        #expect(got.impostorIdentityPairs == 4)
        #expect(got.falseAcceptIdentityPairs == 1)
        #expect(got.estimable == true)
        #expect(got.estimableBySubjects == false)
    }

    @Test("frr@far: false accepts spanning several identity pairs", arguments: Precision.allCases)
    func frrAtFARWide(_ p: Precision) throws {
        // a = .99: K = floor(5.94) = 5 >= the 5 non-failed impostors, so every threshold qualifies;
        // roc takes the lowest observed score .125: FA 5 over pairs {1,2} {1,3} {3,4} -> 3; FR 0.
        // by subjects: .99 * 4 = 3.96 >= 3 -> true.
        let got = try point(.frrAtFAR(0.99), p)
        #expect(got.threshold == 0.125)
        #expect(got.falseAccepts == 5 && got.falseRejects == 0)
        #expect(got.falseAcceptIdentityPairs == 3)
        #expect(got.estimableBySubjects == true)
    }

    @Test("no identities, no identity counts")
    func withoutIdentities() throws {
        let got = try sortedScores(Self.genuine, Self.impostor, as: Double.self).operatingPoint(.frrAtFAR(0.5))
        #expect(got.impostorIdentityPairs == nil && got.falseAcceptIdentityPairs == nil)
        #expect(got.estimableBySubjects == nil)
    }

    @Test("evaluate reports the impostor identity pairs")
    func evaluateReportsPairs() throws {
        let s = try sortedScores(
            Self.genuine, Self.impostor, as: Double.self, genuineIdentities: Self.genuineIds,
            impostorIdentities: Self.impostorIds)
        let m = try s.evaluate(EvaluationOptions(metrics: [.frrAtFAR(0.5)], interval: .none))
        #expect(m.impostorIdentityPairs == 4)
        #expect(m.operatingPoints.first?.falseAcceptIdentityPairs == 1)
        #expect(m.genuineFailures == 0 && m.impostorFailures == 1)
    }
}
