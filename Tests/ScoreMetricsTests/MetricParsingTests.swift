import AlaverifyBase
import Foundation
@testable import ScoreMetrics
import Testing

struct ParseCase: Sendable, CustomTestStringConvertible {
    var text: String
    var metric: Metric?
    var testDescription: String { "'\(text)'" }
}

@Suite("Metric spellings (SPEC section 1: X is a decimal or 1e-4 style number in (0, 1))")
struct MetricParsingTests {
    @Test("valid spellings", arguments: [
        ParseCase(text: "frr@far=1e-4", metric: .frrAtFAR(1e-4)),
        ParseCase(text: "frr@far=0.0001", metric: .frrAtFAR(1e-4)),
        ParseCase(text: "frr@far=1E-3", metric: .frrAtFAR(1e-3)),
        ParseCase(text: "frr@far=0.5", metric: .frrAtFAR(0.5)),
        ParseCase(text: "far@frr=0.01", metric: .farAtFRR(0.01)),
        ParseCase(text: "far@frr=2.5e-2", metric: .farAtFRR(0.025)),
        ParseCase(text: "pauc@far=0.1", metric: .partialAUC(0.1)),
        ParseCase(text: "eer", metric: .eer),
        ParseCase(text: "roc_auc", metric: .rocAUC),
        ParseCase(text: "average_precision", metric: .averagePrecision),
        ParseCase(text: " frr@far=1e-4 ", metric: .frrAtFAR(1e-4)),
    ])
    func valid(_ c: ParseCase) throws {
        #expect(try Metric.parse(c.text) == c.metric)
        #expect(Metric(c.text) == c.metric)
    }

    @Test("invalid spellings are rejected with a reason", arguments: [
        "frr@far=2", "frr@far=1", "frr@far=0", "frr@far=-0.1", "frr@far=1.5e0",
        "frr@fa=1e-4", "frr@far=abc", "frr@far=", "frr@far", "frr@far=nan", "frr@far=inf",
        "frr@far=1e-4x", "frr@far=0x1p-4", "frr@far= 1e-4", "frr@far=1e-400", "far@frr=1",
        "pauc@far=0", "EER", "auc", "", "far=1e-4", "frr@far=1e-4=2",
    ])
    func invalid(_ text: String) {
        #expect(Metric(text) == nil, "'\(text)' parsed")
        #expect(throws: MetricParseError.self) { try Metric.parse(text) }
    }

    @Test("the error names the text and what is wrong")
    func errorMessage() {
        do {
            _ = try Metric.parse("frr@far=2")
            Issue.record("frr@far=2 parsed")
        } catch {
            #expect(error.description.contains("frr@far=2"))
            #expect(error.description.contains("between 0 and 1"))
        }
        do {
            _ = try Metric.parse("frr@fa=1e-4")
            Issue.record("frr@fa=1e-4 parsed")
        } catch {
            #expect(error.description.contains("frr@fa"))
        }
    }

    @Test("description is canonical and round-trips", arguments: [
        ParseCase(text: "frr@far=1e-4", metric: .frrAtFAR(1e-4)),
        ParseCase(text: "frr@far=1e-3", metric: .frrAtFAR(0.001)),
        ParseCase(text: "frr@far=0.01", metric: .frrAtFAR(0.01)),
        ParseCase(text: "far@frr=0.05", metric: .farAtFRR(0.05)),
        ParseCase(text: "pauc@far=0.1", metric: .partialAUC(0.1)),
        ParseCase(text: "eer", metric: .eer),
    ])
    func canonical(_ c: ParseCase) throws {
        let m = try #require(c.metric)
        #expect(m.description == c.text)
        #expect(Metric(m.description) == m)
    }

    @Test("round trip of arbitrary rates (seeded)")
    func roundTrip() {
        let seed: UInt64 = 0x5EED
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<2000 {
            let exponent = -Double(rng.below(12))
            let a = rng.unit() * pow(10, exponent)
            guard a > 0, a < 1 else { continue }
            for m in [Metric.frrAtFAR(a), .farAtFRR(a), .partialAUC(a)] {
                #expect(Metric(m.description) == m, "seed \(seed): \(m.description) does not round-trip")
            }
        }
    }
}
