@testable import ScoreMetrics
import AlaverifyBase
import Foundation
import Testing

/// A score set with comparison identities, as float32 (what shards produce).
struct IdentifiedScores {
    var genuine: [Float]
    var genuineSubjects: [Int32]
    var impostor: [Float]
    var left: [Int32]
    var right: [Int32]

    var set: ScoreSet<Float> {
        get throws {
            try ScoreSet(
                genuine: genuine, impostor: impostor, polarity: .similarity,
                genuineIdentities: ComparisonIdentities(left: genuineSubjects, right: genuineSubjects),
                impostorIdentities: ComparisonIdentities(left: left, right: right))
        }
    }

    /// Distinct unordered identity pairs among the impostor comparisons (failures included).
    var impostorIdentityPairs: Int {
        Set(impostor.indices.map { packPair(min(left[$0], right[$0]), max(left[$0], right[$0])) }).count
    }
}

/// The metrics JSON of one system, the way `alaverify metrics --json` writes it.
func json(_ metrics: SystemMetrics) -> String {
    MetricsJSON.document([NamedMetrics(name: "s", source: "s.h5", metrics: metrics)]).serialized()
}

/// Merges `scores` as if its impostor scores came from `parts` shards (interleaved, so every
/// shard sees every part of the range): first pass per shard, plan, refinement per shard.
func mergedMetrics(_ scores: IdentifiedScores, parts: Int, options: EvaluationOptions, bounded: Bool) throws -> SystemMetrics {
    var histogram = RadixHistogram()
    for p in 0..<parts {
        var h = RadixHistogram()
        for j in stride(from: p, to: scores.impostor.count, by: parts) { h.add(scores.impostor[j]) }
        histogram.add(h)
    }
    let bound = Int((scores.left + scores.right + scores.genuineSubjects).max() ?? 0) + 1
    let pass = FirstPass(
        genuine: scores.genuine, genuineSubjects: scores.genuineSubjects, impostor: histogram,
        impostorIdentityPairs: scores.impostorIdentityPairs, identityBound: bounded ? bound : nil)
    let plan = try MergePlan(pass, options: options)
    var total = Refinement(plan)
    for p in 0..<parts {
        var r = Refinement(plan)
        for j in stride(from: p, to: scores.impostor.count, by: parts) { r.add(scores.impostor[j], left: scores.left[j], right: scores.right[j]) }
        total.add(r)
    }
    return try MergedScores(total).evaluate()
}

/// Random identified scores: `identities` subjects, genuine and impostor scores drawn by `draw`.
func identifiedScores(
    _ rng: inout SeededGenerator, genuine nG: Int, impostor nI: Int, identities: Int,
    draw: (inout SeededGenerator, Bool) -> Float
) -> IdentifiedScores {
    var s = IdentifiedScores(genuine: [], genuineSubjects: [], impostor: [], left: [], right: [])
    for _ in 0..<nG {
        s.genuine.append(draw(&rng, true))
        s.genuineSubjects.append(Int32(rng.below(identities)))
    }
    for _ in 0..<nI {
        s.impostor.append(draw(&rng, false))
        let a = rng.below(identities)
        var b = rng.below(identities - 1)
        if b >= a { b += 1 }
        s.left.append(Int32(a))
        s.right.append(Int32(b))
    }
    return s
}

let mergeOptionSets: [(String, EvaluationOptions)] = [
    ("defaults, no intervals", EvaluationOptions(metrics: [.frrAtFAR(1e-4), .frrAtFAR(1e-3), .frrAtFAR(1e-2)], interval: .none)),
    ("wide targets, Wilson", EvaluationOptions(
        metrics: [.frrAtFAR(0.05), .frrAtFAR(0.5), .farAtFRR(0.01), .farAtFRR(0.3), .partialAUC(1e-2), .partialAUC(0.2)],
        interval: .wilson)),
    ("impostor rule, conservative", EvaluationOptions(
        metrics: [.frrAtFAR(1e-3), .frrAtFAR(0.1), .farAtFRR(0.1)], rule: .impostor, interval: .conservative)),
    ("roc rule, conservative at 90%", EvaluationOptions(
        metrics: [.frrAtFAR(2e-3), .farAtFRR(0.05), .partialAUC(0.05)], interval: .conservative, level: 0.9)),
    ("points only", EvaluationOptions(metrics: [.frrAtFAR(0.01), .farAtFRR(0.2)], interval: .wilson, curveMetrics: false)),
]

@Suite("merged shard summaries give the metrics of all the scores, bit for bit")
struct MergeTests {
    @Test("tie-heavy small cases with NaN, -0 and ±inf, merged from 1, 2 and 3 parts")
    func smallCases() throws {
        var rng = SeededGenerator(seed: 14)
        for trial in 0..<400 {
            let raw = randomCase(&rng, maxCount: 14)
            let n = raw.genuine.count + raw.impostor.count
            var ids = SeededGenerator(seed: UInt64(trial), stream: 1)
            let k = 2 + ids.below(4)
            var s = IdentifiedScores(genuine: raw.genuine.map { Float($0) }, genuineSubjects: [], impostor: raw.impostor.map { Float($0) }, left: [], right: [])
            s.genuineSubjects = raw.genuine.map { _ in Int32(ids.below(k)) }
            for _ in raw.impostor {
                let a = ids.below(k)
                s.left.append(Int32(a))
                s.right.append(Int32((a + 1 + ids.below(k - 1)) % k))
            }
            let (name, options) = mergeOptionSets[trial % mergeOptionSets.count]
            let expected = json(try SortedScores(try s.set).evaluate(options))
            for parts in [1, 2, 3] {
                let merged = json(try mergedMetrics(s, parts: parts, options: options, bounded: trial % 2 == 0))
                #expect(merged == expected, "trial \(trial) (seed 14, \(n) scores, \(name), \(parts) parts): \(raw)")
                if merged != expected { return }
            }
        }
    }

    @Test("thousands of scores packed into a few radix bins (thresholds, the EER crossing and pAUC points inside bins)",
          arguments: [1, 2, 7])
    func packedBins(parts: Int) throws {
        var rng = SeededGenerator(seed: 7_014)
        // Scores in [0.5, 0.53): four radix bins; quantised to 2^-20 so that many scores tie.
        let s = identifiedScores(&rng, genuine: 600, impostor: 60_000, identities: 40) { r, genuine in
            let base = genuine ? 0.51 + 0.02 * r.unit() : 0.5 + 0.018 * r.unit() * r.unit()
            if r.below(100) == 0 { return .nan }
            return Float((base * 1_048_576).rounded() / 1_048_576)
        }
        for (name, options) in mergeOptionSets {
            let expected = json(try SortedScores(try s.set).evaluate(options))
            let merged = json(try mergedMetrics(s, parts: parts, options: options, bounded: parts != 2))
            #expect(merged == expected, "\(name), \(parts) parts")
        }
    }

    @Test("spread scores over many bins, with identities past the bitmap bound", arguments: [1, 3])
    func spreadScores(parts: Int) throws {
        var rng = SeededGenerator(seed: 2_026)
        let s = identifiedScores(&rng, genuine: 2_000, impostor: 200_000, identities: 9_000) { r, genuine in
            let u = r.unit(), v = r.unit()
            let normal = (-2 * (u > 0 ? log(u) : -700)).squareRoot() * cos(6.283185307179586 * v)
            return Float(genuine ? 0.55 + 0.15 * normal : 0.05 + 0.12 * normal)
        }
        for (name, options) in mergeOptionSets {
            let expected = json(try SortedScores(try s.set).evaluate(options))
            #expect(json(try mergedMetrics(s, parts: parts, options: options, bounded: true)) == expected, "\(name), \(parts) parts")
        }
    }

    @Test("all scores equal; one genuine and one impostor score")
    func degenerate() throws {
        for (g, i) in [([Float](repeating: 0.25, count: 5), [Float](repeating: 0.25, count: 9)), ([0.75], [0.5])] {
            let s = IdentifiedScores(
                genuine: g, genuineSubjects: g.indices.map { Int32($0 % 2) }, impostor: i,
                left: i.indices.map { _ in 0 }, right: i.indices.map { _ in 1 })
            for (name, options) in mergeOptionSets {
                let expected = json(try SortedScores(try s.set).evaluate(options))
                #expect(json(try mergedMetrics(s, parts: 2, options: options, bounded: false)) == expected, "\(name): G=\(g) I=\(i)")
            }
        }
    }

    @Test("the subject bootstrap is refused (exit 64): summaries do not keep every comparison's identities")
    func bootstrapRefused() throws {
        let pass = FirstPass(genuine: [0.9], genuineSubjects: [0], impostor: { var h = RadixHistogram(); h.add(0.1); return h }(),
                             impostorIdentityPairs: 1)
        #expect(throws: MergeError.self) { try MergePlan(pass, options: EvaluationOptions(interval: .bootstrap)) }
        do { _ = try MergePlan(pass, options: EvaluationOptions(interval: .bootstrap)) } catch { #expect(error.exitStatus == .usage) }
    }

    @Test("a refinement that counted other scores than the first pass is refused (exit 65)")
    func countsChecked() throws {
        var h = RadixHistogram()
        for x: Float in [0.1, 0.2, 0.3] { h.add(x) }
        let plan = try MergePlan(FirstPass(genuine: [0.9], genuineSubjects: nil, impostor: h, impostorIdentityPairs: nil),
                                 options: EvaluationOptions(metrics: [.frrAtFAR(0.5)], interval: .none))
        var r = Refinement(plan)
        for x: Float in [0.1, 0.2] { r.add(x, left: 0, right: 1) }
        do {
            _ = try MergedScores(r)
            Issue.record("a short refinement was accepted")
        } catch {
            #expect(error.exitStatus == .dataError)
            #expect(error.description.contains("counted 2 impostor scores, the first 3"))
        }
    }
}
