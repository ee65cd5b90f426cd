import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics
import Testing

@testable import Protocols

@Suite("Gates at a shipped threshold")
struct FixedThresholdGateTests {
    let header = "name: deploy\nscores: ../fixtures/demo-pixels8-eval.csv\ndev: ../fixtures/demo-pixels8-dev.csv\nmodel: ../runs/a\n"

    @Test("threshold_from, at, threshold and dev:/model: parse into fixed-threshold gates")
    func parses() throws {
        let p = try protocolFrom(header + """
            gates:
              - {metric: far, threshold_from: dev, at: frr@far=0.05, max: 0.06}
              - {metric: frr, threshold_from: model, at: far@frr=0.1, max: 0.5, use: ci95_upper}
              - {metric: hter, threshold_from: baseline, at: eer, min: 0.01}
              - {metric: far, threshold: -0.25, max: 0.1, name: given}
            """)
        #expect(p.dev == packageRoot + "/fixtures/demo-pixels8-dev.csv" && p.model == packageRoot + "/runs/a")
        #expect(p.gates.map(\.fixed) == [
            FixedThresholdGate(rate: .far, source: .dev), FixedThresholdGate(rate: .frr, source: .model),
            FixedThresholdGate(rate: .hter, source: .baseline), FixedThresholdGate(rate: .far, source: .value(-0.25)),
        ])
        #expect(p.gates.map(\.metric) == [.frrAtFAR(0.05), .farAtFRR(0.1), .eer, .eer])
        #expect(p.gates[1].rule == .max(0.5, use: .ci95Upper) && p.gates[2].rule == .min(0.01, use: .estimate))
        #expect(p.gates[0].name == "FAR at dev frr@far=0.05 threshold <= 0.06" && p.gates[3].name == "given")
        #expect(p.needsBaseline)  // the hter gate takes the baseline's threshold
    }

    @Test("malformed fixed-threshold gates name the key", arguments: [
        ("{metric: far, threshold_from: dev, max: 0.1}", "gates[0].at", "missing"),
        ("{metric: far, threshold_from: nowhere, at: eer, max: 0.1}", "gates[0].threshold_from", "not one of dev, baseline, model"),
        ("{metric: frr@far=0.1, threshold_from: dev, at: eer, max: 0.1}", "gates[0].metric", "is not one of far, frr, hter"),
        ("{metric: far, threshold_from: dev, at: roc_auc, max: 0.1}", "gates[0].at", "has no threshold"),
        ("{metric: hter, threshold_from: dev, at: eer, max: 0.1, use: ci95_upper}", "gates[0].use", "hter has no interval"),
        ("{metric: far, threshold: 0.5, threshold_from: dev, at: eer, max: 0.1}", "gates[0].threshold", "not both"),
        ("{metric: far, threshold_from: dev, at: eer, max_regression: 0.1}", "gates[0].max_regression", "max or min"),
        ("{metric: far, threshold: .nan, max: 0.1}", "gates[0].threshold", "finite number"),
    ])
    func malformed(_ gate: String, _ key: String, _ message: String) throws {
        do {
            _ = try protocolFrom(header + "gates:\n  - \(gate)\n")
            Issue.record("\(gate) parsed")
        } catch let error as ProtocolError {
            #expect(error.description.contains(key) && error.description.contains(message), "\(error.description)")
            #expect(error.exitStatus == .usage)
        }
    }

    @Test("the gate applies the dev threshold to the candidate's scores; counts recomputed here from the files")
    func evaluates() throws {
        let p = try protocolFrom(header + """
            intervals: {replicates: 100, seed: 1}
            gates:
              - {metric: far, threshold_from: dev, at: frr@far=0.05, max: 0.05}
              - {metric: frr, threshold: 0.5, max: 0.9}
            """)
        let candidate = try GatedSystem.fromScores(path: p.scores[0], protocol: p)
        let report = try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: nil)
        // The dev threshold by SPEC's roc rule, recomputed: K = floor(0.05 nI), v = the (K+1)-th largest
        // impostor, t = the smallest dev score above v.
        func rows(_ path: String) throws -> [(Bool, Double)] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
                let c = line.split(separator: ",")
                return (c[0] == "1", Double(c[1])!)
            }
        }
        let dev = try rows(p.dev!), eval = try rows(p.scores[0])
        let devI = dev.filter { !$0.0 }.map(\.1).sorted()
        let v = devI[devI.count - Int((0.05 * Double(devI.count)).rounded(.down)) - 1]
        let t = dev.map(\.1).filter { $0 > v }.min()!
        let evalI = eval.filter { !$0.0 }.map(\.1), evalG = eval.filter(\.0).map(\.1)
        let far = Double(evalI.filter { $0 >= t }.count) / Double(evalI.count)
        #expect(report.outcomes[0].value == far && report.outcomes[0].verdict == (far <= 0.05 ? .pass : .fail))
        #expect(report.outcomes[0].message.contains("at threshold \(fmt(t))"))
        let frr = Double(evalG.filter { $0 < 0.5 }.count) / Double(evalG.count)
        #expect(report.outcomes[1].value == frr && report.outcomes[1].verdict == (frr <= 0.9 ? .pass : .fail))
        #expect(report.outcomes[0].interval?.method == "bootstrap-subjects")
    }
}
