@testable import ScoreMetrics
import Testing

/// A small score set with every curve metric derived by hand from SPEC section 2.
struct CurveCase: Sendable, CustomTestStringConvertible {
    var name: String
    var genuine: [Double]
    var impostor: [Double]
    var polarity: Polarity = .similarity
    var eer: Double?
    var eerThreshold: Double?
    var rocch: Double
    var auc: Double
    var ap: Double
    /// (FAR, FRR) of every curve point, strongest threshold first, with the threshold.
    var curve: [(t: Double, fa: Int, fr: Int)]
    var testDescription: String { name }
}

// Every value below is derived in the comment next to it, from the definitions:
// FA(t) = #{i >= t}, FR(t) = failures + #{g < t}; thresholds = distinct observed scores + inf;
// EER = first crossing of the (FAR, FRR) polyline with FAR = FRR, walking from t = +inf;
// AUC = (wins + ties/2) / (nG nI) with NaN as -inf; AP = sum over distinct thresholds of
// (R_n - R_{n-1}) P_n.
let curveCases: [CurveCase] = [
    // G = [.25 .5 .5 .875] (nG 4), I = [.125 .25 .375 .5 .5] (nI 5).
    // t:    inf  .875  .5   .375  .25  .125
    // FA:    0    0    2     3     4    5
    // FR:    4    3    1     1     0    0
    // pts: (0,1) (0,.75) (.4,.25) (.6,.25) (.8,0) (1,0)
    // EER: d = FAR-FRR goes -.75 -> +.15 on (0,.75)-(.4,.25): s = .75/.9 = 5/6,
    //      value = 5/6 * .4 = 1/3 (FRR .75 - 5/6*.5 = 1/3 too); s > 1/2 so the nearer end is t = .5.
    // ROCCH: lower hull (0,.75) (.4,.25) (.8,0) (1,0) [(.6,.25) lies above (.4,.25)-(.8,0)];
    //      the crossing is on the same first segment: 1/3.
    // AUC: g=.25: 1 win (.125), 1 tie (.25); g=.5 (x2): 3 wins, 2 ties each; g=.875: 5 wins
    //      wins 1+6+5 = 12, ties 1+4 = 5 -> (12 + 2.5)/20 = 0.725.
    // AP: t=.875 TP1 FP0 P=1 R=.25; t=.5 TP3 FP2 P=.6 R=.75; t=.375 R unchanged;
    //     t=.25 TP4 FP4 P=.5 R=1 -> .25*1 + .5*.6 + .25*.5 = 0.675.
    CurveCase(
        name: "ties in both classes", genuine: [0.25, 0.5, 0.5, 0.875], impostor: [0.125, 0.25, 0.375, 0.5, 0.5],
        eer: 1.0 / 3, eerThreshold: 0.5, rocch: 1.0 / 3, auc: 0.725, ap: 0.675,
        curve: [(.infinity, 0, 4), (0.875, 0, 3), (0.5, 2, 1), (0.375, 3, 1), (0.25, 4, 0), (0.125, 5, 0)]),
    // G = [.5 .5], I = [.5 .5 .5]: thresholds inf (FA0 FR2) and .5 (FA3 FR0): pts (0,1) (1,0).
    // EER: d -1 -> 1, s = 1/2, value 1/2; tie in nearness -> the stricter end, +inf.
    // ROCCH: the hull is (0,1)-(1,0): 1/2. AUC: all 6 pairs tie: 1/2.
    // AP: one threshold .5: TP2 FP3, P = 2/5, R = 1 -> 0.4.
    CurveCase(
        name: "all scores tied", genuine: [0.5, 0.5], impostor: [0.5, 0.5, 0.5],
        eer: 0.5, eerThreshold: .infinity, rocch: 0.5, auc: 0.5, ap: 0.4,
        curve: [(.infinity, 0, 2), (0.5, 3, 0)]),
    // G = [1], I = [0]: t inf (0,1), 1 (0,0), 0 (1,0).
    // EER: d -1 -> 0 at t=1: s = 1, value 0, nearer end t = 1. ROCCH: hull (0,0) (1,0): 0.
    // AUC 1 (one win). AP: t=1 TP1 FP0 P=1 R=1 -> 1.
    CurveCase(
        name: "one score per class, separated", genuine: [1], impostor: [0],
        eer: 0, eerThreshold: 1, rocch: 0, auc: 1, ap: 1,
        curve: [(.infinity, 0, 1), (1, 0, 0), (0, 1, 0)]),
    // G = [0], I = [1]: t inf (0,1), 1 (1,1), 0 (1,0).
    // EER: d -1 -> 0 at t=1: s = 1, value 1 (FAR 1 = FRR 1), threshold 1.
    // ROCCH: hull of (0,1) (1,1) (1,0) is (0,1)-(1,0): 1/2.
    // AUC 0 (one loss). AP: t=1 TP0 (R stays 0); t=0 TP1 FP1 P=1/2 R=1 -> 0.5.
    CurveCase(
        name: "one score per class, inverted", genuine: [0], impostor: [1],
        eer: 1, eerThreshold: 1, rocch: 0.5, auc: 0, ap: 0.5,
        curve: [(.infinity, 0, 1), (1, 1, 1), (0, 1, 0)]),
    // G = [.75 NaN] (nG 2, 1 failure), I = [.25 .625] (nI 2).
    // t inf FA0 FR2 (0,1); .75 FA0 FR1 (0,.5); .625 FA1 FR1 (.5,.5); .25 FA2 FR1 (1,.5).
    // EER: d -1, -.5, 0 -> s = 1 on (0,.5)-(.5,.5): value .5, threshold .625.
    // ROCCH: hull (0,.5) (1,0) [(.5,.5) lies above]: d -.5 -> 1, s = 1/3, value 1/3.
    // AUC: g=.75 beats both (2 wins); NaN (as -inf) beats none: 2/4 = 0.5.
    // AP: t=.75 TP1 FP0 P1 R.5; t=.625, .25 no new TP; t=-inf (the NaN) TP2 FP2 P.5 R1
    //     -> .5*1 + .5*.5 = 0.75.
    CurveCase(
        name: "NaN genuine is a failure", genuine: [0.75, .nan], impostor: [0.25, 0.625],
        eer: 0.5, eerThreshold: 0.625, rocch: 1.0 / 3, auc: 0.5, ap: 0.75,
        curve: [(.infinity, 0, 2), (0.75, 0, 1), (0.625, 1, 1), (0.25, 2, 1)]),
    // G = [.375 .75] (nG 2), I = [.5 NaN NaN NaN] (nI 4, 3 failures).
    // t inf FA0 FR2 (0,1); .75 FA0 FR1 (0,.5); .5 FA1 FR1 (.25,.5); .375 FA1 FR0 (.25,0).
    // EER: d -1, -.5, -.25, .25 -> s = 1/2 on (.25,.5)-(.25,0): value .25; tie -> stricter .5.
    // ROCCH: hull (0,.5) (.25,0) (1,0): d -.5 -> .25, s = 2/3, value 2/3*.25 = 1/6.
    // AUC: g=.375 loses to .5, beats 3 NaN; g=.75 beats all 4: 7/8.
    // AP: t=.75 TP1 FP0 P1 R.5; t=.5 no new TP; t=.375 TP2 FP1 P2/3 R1; -> .5 + .5*2/3 = 5/6.
    CurveCase(
        name: "NaN impostors are never accepted", genuine: [0.375, 0.75], impostor: [0.5, .nan, .nan, .nan],
        eer: 0.25, eerThreshold: 0.5, rocch: 1.0 / 6, auc: 7.0 / 8, ap: 5.0 / 6,
        curve: [(.infinity, 0, 2), (0.75, 0, 1), (0.5, 1, 1), (0.375, 1, 0)]),
    // G = [.875 NaN NaN] (nG 3), I = [.125 NaN] (nI 2).
    // t inf (0,1); .875 (0,2/3); .125 (1/2,2/3): d stays negative -> no EER.
    // ROCCH: hull (0,2/3) (1,0): d -2/3 -> 1, s = 2/5, value 2/5.
    // AUC: .875 beats .125 and NaN (2); NaN x2 tie with NaN (2 half) -> (2 + 1)/6 = 1/2.
    // AP: t=.875 TP1 FP0 P1 R1/3; t=.125 no new TP; t=-inf TP3 FP2 P3/5 R1 -> 1/3 + 2/3*3/5 = 11/15.
    CurveCase(
        name: "failures keep the curve from crossing", genuine: [0.875, .nan, .nan], impostor: [0.125, .nan],
        eer: nil, eerThreshold: nil, rocch: 0.4, auc: 0.5, ap: 11.0 / 15,
        curve: [(.infinity, 0, 3), (0.875, 0, 2), (0.125, 1, 2)]),
    // G = [inf .5 -inf] (nG 3), I = [inf .25 -inf -inf] (nI 4). +inf is observed: no extra point.
    // t inf FA1 FR2 (1/4,2/3); .5 FA1 FR1 (1/4,1/3); .25 FA2 FR1 (1/2,1/3); -inf FA4 FR0 (1,0).
    // EER: d -5/12, -1/12, 1/6: on (1/4,1/3)-(1/2,1/3) s = (1/12)/(1/4) = 1/3, value 1/4 + 1/12 = 1/3;
    //      s < 1/2 -> threshold .5.
    // ROCCH: points + (0,1), (1,0): hull (0,1) (1/4,1/3) (1,0) [(1/2,1/3): line (1/4,1/3)-(1,0) at 1/2 is 2/9 < 1/3;
    //      (1/4,2/3) lies above (1/4,1/3)]. Crossing on (1/4,1/3)-(1,0): d -1/12 -> 1, s = 1/13,
    //      value 1/4 + 3/4/13 = 4/13.
    // AUC: g=inf: ties inf, beats .25, -inf, -inf (3 wins 1 tie); g=.5: 3 wins; g=-inf: 2 ties
    //      -> (6 + 3/2)/12 = 0.625.
    // AP: t=inf TP1 FP1 P1/2 R1/3; t=.5 TP2 FP1 P2/3 R2/3; t=.25 no new TP; t=-inf TP3 FP4 P3/7 R1
    //     -> 1/6 + 2/9 + 1/7 = 67/126.
    CurveCase(
        name: "infinite scores are ordinary extremes", genuine: [.infinity, 0.5, -.infinity],
        impostor: [.infinity, 0.25, -.infinity, -.infinity],
        eer: 1.0 / 3, eerThreshold: 0.5, rocch: 4.0 / 13, auc: 0.625, ap: 67.0 / 126,
        curve: [(.infinity, 1, 2), (0.5, 1, 1), (0.25, 2, 1), (-.infinity, 4, 0)]),
    // G = [0 1], I = [-0 -1]: -0 and +0 are one threshold.
    // t inf (0,1); 1 (0,1/2); 0 FA1 (-0 >= 0) FR0 (1/2,0); -1 (1,0).
    // EER: d -1, -1/2, 1/2: s = 1/2 on (0,1/2)-(1/2,0): value 1/4, tie -> stricter t = 1.
    // ROCCH: hull (0,1/2) (1/2,0) (1,0): same segment, 1/4.
    // AUC: g=0 ties -0, beats -1; g=1 beats both -> (3 + 1/2)/4 = 7/8.
    // AP: t=1 TP1 FP0 P1 R1/2; t=0 TP2 FP1 P2/3 R1 -> 1/2 + 1/3 = 5/6.
    CurveCase(
        name: "minus zero equals plus zero", genuine: [0, 1], impostor: [-0.0, -1],
        eer: 0.25, eerThreshold: 1, rocch: 0.25, auc: 7.0 / 8, ap: 5.0 / 6,
        curve: [(.infinity, 0, 2), (1, 0, 1), (0, 1, 0), (-1, 2, 0)]),
    // An exact half-way crossing: G = [.25] (nG 1), I = [0 .75 .25] (nI 3).
    // t inf (0,1); .75 FA1 FR1 (1/3,1); .25 FA2 FR0 (2/3,0); 0 FA3 FR0 (1,0).
    // EER: d -1, -2/3, 2/3: on (1/3,1)-(2/3,0) s = (2/3)/(4/3) = 1/2 exactly, value 1/3 + 1/6 = 1/2;
    //      an exact tie in nearness -> the stricter end, t = .75 (in floating point 1 - 1/3 and
    //      2/3 differ in the last bit, so the tie must be decided on counts).
    // ROCCH: hull (0,1) (2/3,0) (1,0) [(1/3,1) lies above]: d -1 -> 2/3, s = 3/5, value 2/5.
    // AUC: .25 beats 0, ties .25, loses to .75 -> 1.5/3 = 1/2.
    // AP: t=.75 no TP; t=.25 TP1 FP2 P1/3 R1 -> 1/3.
    CurveCase(
        name: "EER exactly half way between two thresholds", genuine: [0.25], impostor: [0, 0.75, 0.25],
        eer: 0.5, eerThreshold: 0.75, rocch: 0.4, auc: 0.5, ap: 1.0 / 3,
        curve: [(.infinity, 0, 1), (0.75, 1, 1), (0.25, 2, 0), (0, 3, 0)]),
    // Distances G = [.125 .5], I = [.375 .875 1] (accept iff d <= t; FA = #{i <= t}, FR = #{g > t}).
    // t -inf (reject all) (0,1); .125 (0,1/2); .375 (1/3,1/2); .5 (1/3,0); .875 (2/3,0); 1 (1,0).
    // EER: d -1, -1/2, -1/6, 1/3: s = (1/6)/(1/2) = 1/3 on (1/3,1/2)-(1/3,0): value 1/3,
    //      s < 1/2 -> threshold .375 (in distance units).
    // ROCCH: hull (0,1/2) (1/3,0) (1,0): d -1/2 -> 1/3, s = 3/5, value 1/5.
    // AUC (smaller distance wins): .125 beats all 3, .5 beats .875 and 1 -> 5/6.
    // AP (descending similarity = ascending distance): t=.125 TP1 FP0 P1 R1/2; t=.375 no TP;
    //     t=.5 TP2 FP1 P2/3 R1 -> 1/2 + 1/3 = 5/6.
    CurveCase(
        name: "distance polarity reports input units", genuine: [0.125, 0.5], impostor: [0.375, 0.875, 1],
        polarity: .distance, eer: 1.0 / 3, eerThreshold: 0.375, rocch: 0.2, auc: 5.0 / 6, ap: 5.0 / 6,
        curve: [(-.infinity, 0, 2), (0.125, 0, 1), (0.375, 1, 1), (0.5, 1, 0), (0.875, 2, 0), (1, 3, 0)]),
]

@Suite("Curve metrics on hand-derived cases")
struct CurveMetricTests {
    @Test("EER value and threshold", arguments: curveCases, Precision.allCases)
    func eer(_ c: CurveCase, _ p: Precision) throws {
        let e = try engine(c.genuine, c.impostor, p, polarity: c.polarity)
        expectClose(e.eer?.value, c.eer, "eer")
        #expect(e.eer?.threshold == c.eerThreshold)
    }

    @Test("ROCCH-EER", arguments: curveCases, Precision.allCases)
    func rocch(_ c: CurveCase, _ p: Precision) throws {
        let e = try engine(c.genuine, c.impostor, p, polarity: c.polarity)
        expectClose(e.rocch, c.rocch, "rocch")
    }

    @Test("ROC AUC (Mann-Whitney, ties half, NaN as -inf)", arguments: curveCases, Precision.allCases)
    func auc(_ c: CurveCase, _ p: Precision) throws {
        let e = try engine(c.genuine, c.impostor, p, polarity: c.polarity)
        expectClose(e.auc, c.auc, "auc")
    }

    @Test("average precision", arguments: curveCases, Precision.allCases)
    func ap(_ c: CurveCase, _ p: Precision) throws {
        let e = try engine(c.genuine, c.impostor, p, polarity: c.polarity)
        expectClose(e.ap, c.ap, "ap")
    }

    @Test("curve points: one per distinct threshold plus reject-all", arguments: curveCases)
    func curve(_ c: CurveCase) throws {
        let e = try engine(c.genuine, c.impostor, .double, polarity: c.polarity)
        let got = e.curve.points.map { "\($0.threshold):\($0.falseAccepts)/\($0.falseRejects)" }
        let want = c.curve.map { "\($0.t):\($0.fa)/\($0.fr)" }
        #expect(got == want)
        #expect(e.curve.genuineCount == c.genuine.count && e.curve.impostorCount == c.impostor.count)
    }

    // pAUC@a = area under TPR(FAR) on [0, a] / a, linear between ROC points from (0, 0).
    @Test("partial AUC", arguments: [
        // "ties in both classes": ROC (FAR,TPR) = (0,0) (0,.25) (.4,.75) (.6,.75) (.8,1) (1,1).
        // a = .5: .4*(.25+.75)/2 = .2, then .1 * .75 (flat to .5) = .075 -> .275/.5 = .55.
        PaucCase(index: 0, a: 0.5, expected: 0.55),
        // a = .4: exactly the first sloped segment: .2/.4 = .5.
        PaucCase(index: 0, a: 0.4, expected: 0.5),
        // a = .2: half way up the first sloped segment, TPR .5: .2*(.25+.5)/2 = .075 -> .375.
        PaucCase(index: 0, a: 0.2, expected: 0.375),
        // "all scores tied": ROC (0,0) (1,1); a = .5: .5*.5/2 = .125 -> .125/.5 = .25.
        PaucCase(index: 1, a: 0.5, expected: 0.25),
        // "NaN impostors": ROC (0,0) (0,.5) (.25,.5) (.25,1), then held at TPR 1 to a = .5
        // (the engine's documented convention; SPEC is silent past the curve's end):
        // .25*.5 + .25*1 = .375 -> .375/.5 = .75.
        PaucCase(index: 5, a: 0.5, expected: 0.75),
    ])
    func pauc(_ c: PaucCase) throws {
        let s = curveCases[c.index]
        for p in Precision.allCases {
            let e = try engine(s.genuine, s.impostor, p, polarity: s.polarity)
            expectClose(e.pauc(c.a), c.expected, "pauc@\(c.a) \(s.name) \(p)")
        }
    }

    @Test("an empty class is refused")
    func emptyClass() {
        #expect(throws: ScoreSetError.emptyClass("genuine")) { try ScoreSet<Double>(genuine: [], impostor: [1]) }
        #expect(throws: ScoreSetError.emptyClass("impostor")) { try ScoreSet<Float>(genuine: [1], impostor: []) }
        #expect(throws: ScoreSetError.misalignedIdentities("impostor")) {
            try ScoreSet<Double>(
                genuine: [1], impostor: [0, 0.5], impostorIdentities: ComparisonIdentities(left: [1], right: [2]))
        }
    }
}

struct PaucCase: Sendable, CustomTestStringConvertible {
    var index: Int
    var a: Double
    var expected: Double
    var testDescription: String { "\(curveCases[index].name), pauc@far=\(a)" }
}
