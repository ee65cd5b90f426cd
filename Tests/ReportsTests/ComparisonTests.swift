import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing
@testable import Reports

@Suite("Differences between systems in a report (paired subject bootstrap)")
struct ComparisonTests {
    /// All pairs of 60 subjects x 4 samples; genuine scores N(mean, 1), impostors N(0, 1), from `seed`.
    static func system(genuineMean: Double, seed: UInt64, identities: Bool = true) throws -> AnyScoreSet {
        var g = [Double](), i = [Double]()
        var gl = [Int32](), gr = [Int32](), il = [Int32](), ir = [Int32]()
        var rng = SeededGenerator(seed: seed)
        func normal() -> Double { (-2 * log(max(rng.unit(), 1e-300))).squareRoot() * cos(2 * .pi * rng.unit()) }
        let subjects = (0..<240).map { Int32($0 / 4) }
        for a in 0..<240 {
            for b in (a + 1)..<240 {
                if subjects[a] == subjects[b] {
                    g.append(genuineMean + normal()); gl.append(subjects[a]); gr.append(subjects[b])
                } else {
                    i.append(normal()); il.append(subjects[a]); ir.append(subjects[b])
                }
            }
        }
        return .double(try ScoreSet(
            genuine: g, impostor: i, genuineIdentities: identities ? ComparisonIdentities(left: gl, right: gr) : nil,
            impostorIdentities: identities ? ComparisonIdentities(left: il, right: ir) : nil))
    }

    @Test("a clearly better system: negative FRR difference, CI below 0, the line says so")
    func resolved() throws {
        let a = try Self.system(genuineMean: 2, seed: 1), b = try Self.system(genuineMean: 3.5, seed: 2)
        let d = SystemDifference.compute([("fixed", a), ("ala", b)], metrics: [.frrAtFAR(1e-2), .eer], rule: .roc, level: 0.95, replicates: 200, seed: 3)
        #expect(d.count == 1, "eer is not an operating point")
        let diff = try #require(d.first)
        let values = try #require(diff.values)
        let direct = { (s: ScoreSet<Double>) in try SortedScores(s).evaluate(EvaluationOptions(metrics: [.frrAtFAR(1e-2)], interval: .none)).value(of: .frrAtFAR(1e-2)) }
        guard case .double(let sa) = a, case .double(let sb) = b else { Issue.record("expected float64 sets"); return }
        #expect(try values.reference == direct(sa) && values.system == direct(sb))
        let interval = try #require(diff.interval)
        #expect(interval.upper < 0 && interval.lower <= diff.difference! && diff.difference! <= interval.upper)
        #expect(diff.resolved == true && interval.replicates == 200 && interval.method == "paired-bootstrap-subjects")
        #expect(diff.line.hasPrefix("frr@far=0.01: ala "), "\(diff.line)")
        #expect(diff.line.hasSuffix("(paired subject bootstrap, 200 replicates): the CI excludes 0 (ala lower)"), "\(diff.line)")
        // Same seed, same interval.
        let again = SystemDifference.compute([("fixed", a), ("ala", b)], metrics: [.frrAtFAR(1e-2)], rule: .roc, level: 0.95, replicates: 200, seed: 3)
        #expect(again.first?.interval == interval)
    }

    @Test("two draws of the same system: the CI contains 0 and the line says no difference is resolved")
    func unresolved() throws {
        let d = SystemDifference.compute(
            [("a", try Self.system(genuineMean: 2.5, seed: 1)), ("b", try Self.system(genuineMean: 2.5, seed: 2))],
            metrics: [.frrAtFAR(1e-1)], rule: .roc, level: 0.95, replicates: 200, seed: 0)
        let diff = try #require(d.first)
        #expect(diff.resolved == false, "\(diff.line)")
        #expect(diff.line.hasSuffix("the CI contains 0 (no difference resolved)"))
    }

    @Test("without identities there is no interval, and the line and the summary say why")
    func noIdentities() throws {
        let d = SystemDifference.compute(
            [("a", try Self.system(genuineMean: 2, seed: 1)), ("b", try Self.system(genuineMean: 2, seed: 2, identities: false))],
            metrics: [.frrAtFAR(1e-2)], rule: .roc, level: 0.95, replicates: 50, seed: 0)
        #expect(d.first?.interval == nil && d.first?.resolved == nil)
        #expect(d.first?.line == "frr@far=0.01: b vs a: not compared (the candidate scores carry no comparison identities)")
        let series = [try demoSeries(name: "a"), try demoSeries(name: "b", genuineMean: 4, seed: 9)]
        let text = Report.summary(series, figures: [], axes: .probit, differences: d, provenance: EncodingTests.provenance)
        #expect(text.contains("**Differences from a** (each system's value minus the first's"))
        #expect(text.contains("- frr@far=0.01: b vs a: not compared (the candidate scores carry no comparison identities)"))
    }
}
