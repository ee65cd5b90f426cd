import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing

@testable import Protocols

@Suite("Protocol files")
struct ProtocolFileTests {
    @Test("SPEC section 6 example parses; paths resolve against the protocol's folder")
    func specExample() throws {
        let p = try EvaluationProtocol.parse(
            yaml: """
                name: fonts-glyphs32
                data: ../fixtures/fonts-mini.h5          # relative to this file
                split: {by: identity, seed: 7, train: 0.6, validation: 0.2, test: 0.2}
                pairs: {genuine: all, impostor: all}      # or e.g. {impostor: 200 per genuine, seed: 3}
                report: [frr@far=1e-4, frr@far=1e-3, eer, roc_auc]
                gates:
                  - {metric: frr@far=1e-4, max: 0.40}                       # absolute limit on the estimate
                  - {metric: frr@far=1e-4, max: 0.40, use: ci95_upper}      # limit on the CI's upper end
                  - {metric: frr@far=1e-4, max_regression: 0.01, vs: baseline, significance: 0.05}
                """, file: "protocols/fonts.yaml", directory: "protocols")
        #expect(p.name == "fonts-glyphs32")
        #expect(p.data == "fixtures/fonts-mini.h5")
        #expect(p.split == IdentitySplit(seed: 7, train: 0.6, validation: 0.2, test: 0.2, evaluate: .test))
        #expect(p.pairs == PairFormation(source: .generate, genuine: .all, impostor: .all, seed: nil))
        #expect(p.report.map(\.description) == ["frr@far=1e-4", "frr@far=1e-3", "eer", "roc_auc"])
        #expect(p.gates.count == 3)
        #expect(p.gates[0].rule == .max(0.40, use: .estimate))
        #expect(p.gates[1].rule == .max(0.40, use: .ci95Upper))
        #expect(p.gates[2].rule == .regression(.absolute(0.01), significance: 0.05))
        #expect(p.gates.map(\.line) == [7, 8, 9])
        #expect(Set(p.gates.map(\.name)).count == 3)
        #expect(p.needsBaseline)
    }

    @Test("Paths under an absolute protocol folder stay absolute")
    func absoluteFolder() throws {
        // /data/protocols + ../fixtures/x.h5 = /data/fixtures/x.h5; ".." above the root stays at the root.
        let p = try EvaluationProtocol.parse(
            yaml: """
                name: abs
                data: ../fixtures/x.h5
                scores: [../../../s.csv, ./t.csv, /elsewhere/u.csv]
                baseline: b.json
                report: [eer]
                """, file: "/data/protocols/abs.yaml", directory: "/data/protocols")
        #expect(p.data == "/data/fixtures/x.h5")
        #expect(p.scores == ["/s.csv", "/data/protocols/t.csv", "/elsewhere/u.csv"])
        #expect(p.baseline == "/data/protocols/b.json")
    }

    @Test("Pair counts, templates, relative tolerance and overrides parse")
    func options() throws {
        let p = try EvaluationProtocol.parse(
            yaml: """
                name: t
                data: /abs/data.h5
                pairs: {genuine: 500, impostor: 200 per genuine, seed: 3}
                templates: {samples: 4, fusion: mean_score, seed: 5}
                threshold_rule: impostor
                polarity: distance
                baseline: ../reports/b.json
                gates:
                  - {metric: eer, max_relative_regression: 0.1}
                  - {metric: roc_auc, min: 0.9, name: auc}
                """, file: "p/t.yaml", directory: "p")
        #expect(p.data == "/abs/data.h5")
        #expect(p.pairs == PairFormation(source: .generate, genuine: .count(500), impostor: .perGenuine(200), seed: 3))
        #expect(p.templates == TemplateFormation(samples: 4, fusion: .meanScore, seed: 5))
        #expect(p.thresholdRule == .impostor)
        #expect(p.polarity == .distance)
        #expect(p.baseline == "reports/b.json")
        #expect(p.gates[0].rule == .regression(.relative(0.1), significance: nil))
        #expect(p.gates[1].name == "auc")
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        var id: String
        var yaml: String
        var line: Int?
        var key: String?
        var fragment: String
        var testDescription: String { id }
    }

    static let malformed: [Malformed] = [
        Malformed(id: "unknown top-level key with a suggestion", yaml: "name: a\nscores: s.csv\ngate:\n  - {metric: eer, max: 0.1}\n",
                  line: 3, key: "gate", fragment: "did you mean 'gates'?"),
        Malformed(id: "unknown gate key with a suggestion", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, maxx: 0.1}\n",
                  line: 4, key: "gates[0].maxx", fragment: "did you mean 'max'?"),
        Malformed(id: "unknown metric", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max: 0.1}\n  - {metric: frr@fra=1e-4, max: 0.1}\n",
                  line: 5, key: "gates[1].metric", fragment: "unknown metric 'frr@fra'"),
        Malformed(id: "metric rate out of range", yaml: "name: a\nscores: s.csv\nreport: [eer, frr@far=2]\n",
                  line: 3, key: "report[1]", fragment: "strictly between 0 and 1"),
        Malformed(id: "bad use", yaml: "name: a\nscores: s.csv\ngates:\n  - metric: eer\n    max: 0.1\n    use: ci_upper\n",
                  line: 6, key: "gates[0].use", fragment: "did you mean 'ci95_upper'?"),
        Malformed(id: "CI bound on a metric without interval", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max: 0.1, use: ci95_upper}\n",
                  line: 4, key: "gates[0].use", fragment: "operating points"),
        Malformed(id: "two kinds in one gate", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max: 0.1, max_regression: 0.01}\n",
                  line: 4, key: "gates[0]", fragment: "exactly one of"),
        Malformed(id: "no kind", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer}\n",
                  line: 4, key: "gates[0]", fragment: "found none"),
        Malformed(id: "significance out of range", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: frr@far=0.01, max_regression: 0, significance: 0.7}\n",
                  line: 4, key: "gates[0].significance", fragment: "(0, 0.5)"),
        Malformed(id: "significance on a curve metric", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max_regression: 0, significance: 0.05}\n",
                  line: 4, key: "gates[0].significance", fragment: "operating point"),
        Malformed(id: "negative tolerance", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max_regression: -0.1}\n",
                  line: 4, key: "gates[0].max_regression", fragment: ">= 0"),
        Malformed(id: "limit not a number", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max: low}\n",
                  line: 4, key: "gates[0].max", fragment: "found 'low'"),
        Malformed(id: "vs other than baseline", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max_regression: 0.1, vs: main}\n",
                  line: 4, key: "gates[0].vs", fragment: "only 'baseline'"),
        Malformed(id: "split fractions do not sum to 1", yaml: "name: a\ndata: d.h5\nsplit: {seed: 1, train: 0.6, validation: 0.3, test: 0.2}\n",
                  line: 3, key: "split", fragment: "sum to 1"),
        Malformed(id: "split without a seed", yaml: "name: a\ndata: d.h5\nsplit: {by: identity, train: 0.5, test: 0.5}\n",
                  line: 3, key: "split.seed", fragment: "seeded"),
        Malformed(id: "split by something else", yaml: "name: a\ndata: d.h5\nsplit: {by: sample, seed: 1, test: 1}\n",
                  line: 3, key: "split.by", fragment: "identity-disjoint"),
        Malformed(id: "split on score files", yaml: "name: a\nscores: s.csv\nsplit: {seed: 1, test: 1}\n",
                  line: 3, key: "split", fragment: "give 'data:'"),
        Malformed(id: "sampled pairs without a seed", yaml: "name: a\ndata: d.h5\npairs: {impostor: 200 per genuine}\n",
                  line: 3, key: "pairs.seed", fragment: "need a seed"),
        Malformed(id: "per genuine on genuine pairs", yaml: "name: a\ndata: d.h5\npairs: {genuine: 2 per genuine, seed: 1}\n",
                  line: 3, key: "pairs.genuine", fragment: "impostor pairs only"),
        Malformed(id: "templates without a seed", yaml: "name: a\ndata: d.h5\ntemplates: {samples: 4}\n",
                  line: 3, key: "templates.seed", fragment: "needs a seed"),
        Malformed(id: "missing name", yaml: "scores: s.csv\ngates:\n  - {metric: eer, max: 0.1}\n",
                  line: 1, key: "name", fragment: "missing"),
        Malformed(id: "no data", yaml: "name: a\n", line: 1, key: nil, fragment: "names its data"),
        Malformed(id: "duplicate key", yaml: "name: a\nscores: s.csv\nname: b\n",
                  line: 3, key: "name", fragment: "duplicate key (first given on line 1)"),
        Malformed(id: "gates is not a list", yaml: "name: a\nscores: s.csv\ngates: {metric: eer, max: 0.1}\n",
                  line: 3, key: "gates", fragment: "expected a list"),
        Malformed(id: "YAML syntax error", yaml: "name: a\nscores: s.csv\ngates:\n  - {metric: eer, max: 0.1\n",
                  line: 5, key: nil, fragment: "YAML syntax"),
        Malformed(id: "bad replicates", yaml: "name: a\nscores: s.csv\nintervals: {replicates: 5}\n",
                  line: 3, key: "intervals.replicates", fragment: "at least 100"),
        Malformed(id: "replicates beyond what memory and time allow", yaml: "name: a\nscores: s.csv\nintervals: {replicates: 99999999999}\n",
                  line: 3, key: "intervals.replicates", fragment: "at most 100000"),
    ]

    @Test("Malformed protocols name the file, the line and the key", arguments: malformed)
    func malformedProtocols(_ c: Malformed) {
        do {
            _ = try EvaluationProtocol.parse(yaml: c.yaml, file: "bad.yaml", directory: "")
            Issue.record("parsed without error")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.line == c.line)
            #expect(error.key == c.key)
            #expect(error.message.contains(c.fragment), "message: \(error.message)")
            #expect(error.description.hasPrefix("bad.yaml: line \(c.line ?? 0): "))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("The example protocols in protocols/ are valid")
    func examples() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/protocols").filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for f in files {
            let p = try EvaluationProtocol.load(path: packageRoot + "/protocols/" + f)
            #expect(!p.gates.isEmpty, "\(f) has no gates")
        }
    }

    @Test("A missing protocol file is a one-line error")
    func missingFile() {
        #expect(throws: ProtocolError(file: "/nonexistent/p.yaml", "no such protocol file")) {
            try EvaluationProtocol.load(path: "/nonexistent/p.yaml")
        }
    }
}
