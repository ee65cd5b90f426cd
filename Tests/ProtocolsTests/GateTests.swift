import Foundation
import SampleData
import ScoreMetrics
import TestSupport
import Testing

@testable import Protocols

@Suite("Gates on the fixture scores")
struct GateTests {
    struct Absolute: CustomTestStringConvertible, Sendable {
        var gate: String
        var verdict: GateOutcome.Verdict
        var testDescription: String { gate }
    }

    // pixels8: frr@far=0.05 = 0.8875 with a 95% CI of about [0.84, 0.93]; roc_auc = 0.6273.
    static let absolute: [Absolute] = [
        Absolute(gate: "{metric: frr@far=0.05, max: 0.90}", verdict: .pass),
        Absolute(gate: "{metric: frr@far=0.05, max: 0.88}", verdict: .fail),
        Absolute(gate: "{metric: frr@far=0.05, max: 0.90, use: ci95_upper}", verdict: .fail),
        Absolute(gate: "{metric: frr@far=0.05, max: 0.97, use: ci95_upper}", verdict: .pass),
        Absolute(gate: "{metric: frr@far=0.05, min: 0.80, use: ci95_lower}", verdict: .pass),
        Absolute(gate: "{metric: frr@far=0.05, min: 0.86, use: ci95_lower}", verdict: .fail),
        Absolute(gate: "{metric: roc_auc, min: 0.60}", verdict: .pass),
        Absolute(gate: "{metric: roc_auc, min: 0.65}", verdict: .fail),
        Absolute(gate: "{metric: eer, max: 0.42}", verdict: .pass),
        Absolute(gate: "{metric: eer, max: 0.40}", verdict: .fail),
    ]

    @Test("Absolute limits on estimates and CI bounds", arguments: absolute)
    func absoluteLimits(_ c: Absolute) async throws {
        let p = try fixtureProtocol(gate: c.gate)
        let report = try GateEvaluator.evaluate(protocol: p, candidate: try await pixels8(), baseline: nil)
        #expect(report.outcomes.count == 1)
        #expect(report.outcomes[0].verdict == c.verdict, "\(report.outcomes[0].message)")
        #expect(report.passed == (c.verdict == .pass))
    }

    @Test("A change within noise fails the strict rule and passes both significance rules")
    func withinNoise() async throws {
        // pixels32 vs pixels8 at FAR 1%: FRR 0.981 vs 0.974, a real but small difference on 60 identities.
        let strict = try fixtureProtocol(gate: "{metric: frr@far=0.01, max_regression: 0}")
        let significant = try fixtureProtocol(gate: "{metric: frr@far=0.01, max_regression: 0, significance: 0.05}")
        let base = try await pixels8(), candidate = try await pixels32()

        let s = try GateEvaluator.evaluate(protocol: strict, candidate: candidate, baseline: base).outcomes[0]
        #expect(s.verdict == .fail)
        #expect(s.method == "strict")
        #expect((s.worsening ?? 0) > 0.005)

        let paired = try GateEvaluator.evaluate(protocol: significant, candidate: candidate, baseline: base).outcomes[0]
        #expect(paired.verdict == .pass, "\(paired.message)")
        #expect(paired.method.hasPrefix("paired subject bootstrap"))
        #expect((paired.pValue ?? 0) >= 0.05)
        #expect(paired.message.contains("within noise"))
        // The change's interval straddles zero.
        #expect((paired.interval?.lower ?? 1) < 0 && (paired.interval?.upper ?? -1) > 0)

        let ciRule = try GateEvaluator.evaluate(protocol: significant, candidate: candidate, baseline: withoutScores(base))
        #expect(ciRule.outcomes[0].verdict == .pass, "\(ciRule.outcomes[0].message)")
        #expect(ciRule.outcomes[0].method.hasPrefix("CI rule"))
        #expect(ciRule.outcomes[0].interval?.level ?? 0 == 0.9)
        #expect(ciRule.notes.contains { $0.contains("removed by the test") })
    }

    @Test("A real regression fails the strict rule and both significance rules")
    func realRegression() async throws {
        let base = try await pixels8(), candidate = try await degraded()
        for gate in [
            "{metric: frr@far=0.05, max_regression: 0.01}",
            "{metric: frr@far=0.05, max_regression: 0.01, significance: 0.05}",
            "{metric: frr@far=0.05, max_relative_regression: 0.01, significance: 0.05}",
        ] {
            let p = try fixtureProtocol(gate: gate)
            let paired = try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: base)
            #expect(paired.outcomes[0].verdict == .fail, "\(gate): \(paired.outcomes[0].message)")
            #expect(!paired.passed)
            if gate.contains("significance") {
                #expect((paired.outcomes[0].pValue ?? 1) < 0.05)
                let ciRule = try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: withoutScores(base))
                #expect(ciRule.outcomes[0].verdict == .fail, "\(gate): \(ciRule.outcomes[0].message)")
                #expect(ciRule.outcomes[0].method.hasPrefix("CI rule"))
            }
        }
        // Higher-is-better metrics regress downwards.
        let auc = try fixtureProtocol(gate: "{metric: roc_auc, max_regression: 0.01}")
        let r = try GateEvaluator.evaluate(protocol: auc, candidate: candidate, baseline: base).outcomes[0]
        #expect(r.verdict == .fail)
        #expect((r.worsening ?? 0) > 0.01)
        // The degraded system as the baseline: the original improves on it and passes.
        let back = try fixtureProtocol(gate: "{metric: frr@far=0.05, max_regression: 0, significance: 0.05}")
        #expect(try GateEvaluator.evaluate(protocol: back, candidate: base, baseline: candidate).passed)
    }

    @Test("Relative tolerance scales with the baseline")
    func relative() async throws {
        // EER 0.4133 (pixels32) vs 0.4113 (pixels8): 0.48% worse.
        let loose = try fixtureProtocol(gate: "{metric: eer, max_relative_regression: 0.01}")
        let tight = try fixtureProtocol(gate: "{metric: eer, max_relative_regression: 0.001}")
        let base = try await pixels8(), candidate = try await pixels32()
        #expect(try GateEvaluator.evaluate(protocol: loose, candidate: candidate, baseline: base).passed)
        let t = try GateEvaluator.evaluate(protocol: tight, candidate: candidate, baseline: base).outcomes[0]
        #expect(t.verdict == .fail)
        #expect(abs((t.allowance ?? 0) - 0.001 * 0.4113095238095238) < 1e-12)
    }

    @Test("Identical systems: every paired replicate agrees, the change is exactly zero")
    func identical() async throws {
        let p = try fixtureProtocol(gate: "{metric: frr@far=0.05, max_regression: 0, significance: 0.05}")
        let base = try await pixels8()
        let o = try GateEvaluator.evaluate(protocol: p, candidate: base, baseline: base).outcomes[0]
        #expect(o.verdict == .pass)
        #expect(o.pValue == 1)
        #expect(o.interval?.lower == 0 && o.interval?.upper == 0)
    }

    @Test("A baseline of another protocol is refused")
    func otherProtocol() async throws {
        let p = try fixtureProtocol(gate: "{metric: eer, max_regression: 0.1}")
        var base = try await pixels8()
        base.protocolName = "fonts-glyphs32"
        let candidate = try await pixels32()
        let error = #expect(throws: DataError.self) {
            try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: base)
        }
        #expect(error?.message.contains("baseline of protocol 'fonts-glyphs32', not 'demo-pixels8'") == true)
    }

    @Test("A baseline on other comparisons is refused, also when its checksum is unknown")
    func otherData() async throws {
        let dir = try temporaryDirectory()
        let subset = dir + "/subset.csv"
        try degradedCopy(of: fixture("demo-pixels8.csv"), to: subset, sigma: 0, seed: 1, keep: { $0 % 100 != 0 })
        let p = try fixtureProtocol(gate: "{metric: eer, max_regression: 0.1}")
        let other = try GatedSystem.fromScores(path: subset, protocol: p)
        let base = try await pixels8()
        #expect(other.dataChecksum != base.dataChecksum)
        let error = #expect(throws: DataError.self) {
            try GateEvaluator.evaluate(protocol: p, candidate: other, baseline: base)
        }
        #expect(error?.message.contains("was made on other data") == true)

        var unknown = withoutScores(base)
        unknown.dataChecksum = nil
        let candidate = try await pixels32()
        let e2 = #expect(throws: DataError.self) {
            try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: unknown)
        }
        #expect(e2?.message.contains("records no data checksum") == true)
    }

    @Test("The checksum covers comparisons, not scores")
    func checksum() async throws {
        let a = try await pixels8(), b = try await pixels32(), c = try await degraded()
        #expect(a.dataChecksum == b.dataChecksum)
        #expect(a.dataChecksum == c.dataChecksum)
        #expect(a.dataChecksum?.hasPrefix("sha256:") == true)
    }

    @Test("A metric the data cannot estimate fails loudly, never a silent pass")
    func notEstimable() async throws {
        // 1e-3 x 1,770 impostor identity pairs < 3.
        let p = try fixtureProtocol(gate: "{metric: frr@far=1e-3, max: 1}")
        let candidate = try GatedSystem.fromScores(path: fixture("demo-pixels8.csv"), protocol: p)
        let error = #expect(throws: DataError.self) {
            try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: nil)
        }
        #expect(error?.message.contains("frr@far=1e-3 is not estimable") == true)
        #expect(error?.message.contains("1770 impostor identity pairs") == true)
        #expect(error?.message.contains("line 6") == true)
    }

    @Test("A regression gate without a baseline is a usage error naming the gate")
    func missingBaseline() async throws {
        let p = try fixtureProtocol(gate: "{metric: eer, max_regression: 0.1}")
        let candidate = try await pixels8()
        let error = #expect(throws: ProtocolError.self) {
            try GateEvaluator.evaluate(protocol: p, candidate: candidate, baseline: nil)
        }
        #expect(error?.key == "gates[0]")
        #expect(error?.line == 6)
        #expect(error?.message.contains("give a baseline file or set baseline: in the protocol") == true)
    }

    @Test("A baseline written to JSON reads back with its record and its scores")
    func baselineRoundTrip() async throws {
        let dir = try temporaryDirectory()
        let p = try fixtureProtocol(gate: "{metric: frr@far=0.05, max_regression: 0.01, significance: 0.05}")
        let base = try await pixels8()
        let path = dir + "/baseline.json"
        let doc = try Baseline.document(for: base, protocol: p, path: path, tool: "test")
        try (doc.serialized() + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let back = try GatedSystem.fromMetricsJSON(path: path, system: nil, protocol: p)
        #expect(back.protocolName == "demo-pixels8")
        #expect(back.dataChecksum == base.dataChecksum)
        #expect(back.scores?.sha256 == base.scores?.sha256)
        for m in p.metrics {
            #expect(back.readings[m]?.value == base.readings[m]?.value, "\(m)")
            #expect(back.readings[m]?.interval?.upper == base.readings[m]?.interval?.upper, "\(m)")
        }
        let o = try GateEvaluator.evaluate(protocol: p, candidate: try await degraded(), baseline: back).outcomes[0]
        #expect(o.method.hasPrefix("paired"))
        #expect(o.verdict == .fail)
        // A candidate given as metrics JSON that records nothing about its scores cannot be checked.
        let bare = dir + "/bare.json"
        try (MetricsJSON.document([base.computed!]).serialized()).write(toFile: bare, atomically: true, encoding: .utf8)
        var p2 = p
        p2.file = "x.yaml"
        let moved = try GatedSystem.fromMetricsJSON(path: bare, system: nil, protocol: p2)
        // Its source is an absolute fixture path, so the scores are still found.
        #expect(moved.scores != nil)
        #expect(Baseline.changes(from: back, to: try await pixels32(), protocol: p).contains { $0.hasPrefix("frr@far=0.05: 0.8875 -> 0.886905") })
    }

    @Test("A baseline written through a symbolic link still finds its score file")
    func baselineThroughSymlink() async throws {
        // The folder is reached through a link that points two levels deeper; a relative path
        // folded on paper ("<link>/../..") would climb from the wrong place.
        let dir = try temporaryDirectory()
        let deep = dir + "/real/a/b"
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        let link = dir + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: deep)
        let p = try fixtureProtocol(gate: "{metric: frr@far=0.05, max_regression: 0.01}")
        let base = try await pixels8()
        let path = link + "/baseline.json"
        let doc = try Baseline.document(for: base, protocol: p, path: path, tool: "test")
        try (doc.serialized() + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let back = try GatedSystem.fromMetricsJSON(path: path, system: nil, protocol: p)
        #expect(back.scores?.sha256 == base.scores?.sha256, "\(back.scoresUnavailable ?? "")")
        // The recorded path, followed from the link's real folder, reaches the fixture.
        guard case .array(let files)? = doc["baseline"]?["scores"], case .string(let rel)? = files.first?["path"] else {
            Issue.record("no scores path in \(doc.serialized())")
            return
        }
        #expect(FileManager.default.fileExists(atPath: deep + "/" + rel), "\(rel)")
        #expect(rel.hasPrefix("../../../"), "\(rel)")
    }

    @Test("Report renderings: JUnit has one testcase per gate and failures with messages")
    func renderings() async throws {
        let p = try protocolFrom("""
            name: demo-pixels8
            scores: ../fixtures/demo-pixels8.csv
            report: [frr@far=0.05, frr@far=0.01, eer, roc_auc]
            intervals: {replicates: 200, seed: 1}
            gates:
              - {metric: frr@far=0.05, max: 0.90, name: "FRR <fine> & \\"quoted\\""}
              - {metric: roc_auc, min: 0.65}
              - {metric: frr@far=0.05, max_regression: 0.01, significance: 0.05}
            """)
        let report = try GateEvaluator.evaluate(protocol: p, candidate: try await degraded(), baseline: try await pixels8())
        let junit = report.junit()
        #expect(junit.components(separatedBy: "<testcase ").count - 1 == 3)
        #expect(junit.contains("failures=\"3\""))
        #expect(junit.components(separatedBy: "<failure ").count - 1 == 3)
        #expect(junit.contains("name=\"FRR &lt;fine&gt; &amp; &quot;quoted&quot;\""))
        let md = report.markdown()
        #expect(md.contains("FAIL"))
        #expect(md.contains("| gate | value | CI | limit | verdict |"))
        let table = report.table()
        #expect(table.contains("gate: FAIL (3 of 3 gates failed"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("roc_auc >= 0.65") && $0.hasSuffix("FAIL") })
    }
}

@Suite("Paired subject bootstrap")
struct PairedBootstrapTests {
    @Test("Same seed, same replicates; the full-data values are the engine's")
    func reproducible() throws {
        let named = try ScoreFiles.readNamed(path: fixture("demo-pixels8.csv"))
        let other = try ScoreFiles.readNamed(path: fixture("demo-pixels32.csv"))
        var table = [String: Int32]()
        let a = named.renumbered(&table), b = other.renumbered(&table)
        #expect(table.count == 60)
        let r1 = try PairedReplicates.run(baseline: a, candidate: b, metric: .frrAtFAR(0.05), replicates: 100, seed: 9)
        let r2 = try PairedReplicates.run(baseline: a, candidate: b, metric: .frrAtFAR(0.05), replicates: 100, seed: 9)
        #expect(r1.pairs.map(\.baseline) == r2.pairs.map(\.baseline))
        #expect(r1.pairs.map(\.candidate) == r2.pairs.map(\.candidate))
        #expect(r1.baseline == 0.8875)
        #expect(abs(r1.candidate - 0.886905) < 1e-6)
        #expect(r1.subjects == 60)
        #expect(throws: PairedBootstrapError.notAnOperatingPoint(.eer)) {
            try PairedReplicates.run(baseline: a, candidate: b, metric: .eer)
        }
    }

    @Test("Scores without identities cannot be paired")
    func needsIdentities() throws {
        let set = AnyScoreSet.double(try ScoreSet(genuine: [0.9, 0.8, 0.7], impostor: [0.1, 0.2, 0.3]))
        #expect(throws: PairedBootstrapError.needsIdentities("baseline")) {
            try PairedReplicates.run(baseline: set, candidate: set, metric: .frrAtFAR(0.5))
        }
    }
}
