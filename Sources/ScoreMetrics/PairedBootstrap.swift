import AlaverifyBase
import Dispatch

/// Two systems' values of one operating point under the same resampled subjects.
///
/// Each replicate draws S subjects with replacement from the union of both systems' subjects
/// (multiplicity m_s), weighs every comparison of *both* systems by its subjects' multiplicities
/// (a genuine comparison of s by m_s, an impostor comparison of (l, r) by m_l * m_r) and re-derives
/// each system's threshold on its weighted scores. The differences keep the pairing: a subject
/// that is hard for both systems moves both values together, so the spread of the difference is
/// the spread that matters for a regression test.
public struct PairedReplicates: Sendable {
    /// The operating point compared.
    public var metric: Metric
    /// The baseline's value on the full data.
    public var baseline: Double
    /// The candidate's value on the full data.
    public var candidate: Double
    /// (baseline, candidate) values of the replicates that both systems could evaluate.
    public var pairs: [(baseline: Double, candidate: Double)]
    /// Replicates drawn (some may be missing from `pairs` when a replicate cannot reach the target).
    public var requested: Int
    /// Subjects in the union of both systems.
    public var subjects: Int
    /// The seed of the draw.
    public var seed: UInt64
}

/// A paired comparison that cannot be run.
public enum PairedBootstrapError: AlaverifyError, Sendable, Equatable {
    /// One of the systems has no comparison identities.
    case needsIdentities(String)
    /// Only `frr@far` and `far@frr` can be compared this way.
    case notAnOperatingPoint(Metric)
    /// A system cannot reach the target on the full data.
    case unreachable(String, Metric)
    /// Fewer than 90% of the replicates could evaluate both systems.
    case tooManyUnreachableReplicates(Metric, valid: Int, of: Int)

    public var description: String {
        switch self {
        case .needsIdentities(let which): return "the \(which) scores carry no comparison identities"
        case .notAnOperatingPoint(let m): return "\(m) is not an operating point (frr@far or far@frr)"
        case .unreachable(let which, let m): return "the \(which) system cannot reach \(m)"
        case .tooManyUnreachableReplicates(let m, let valid, let total):
            return "\(m): only \(valid) of \(total) bootstrap replicates reach the target for both systems"
        }
    }

    public var exitStatus: ExitStatus { .dataError }
}

extension PairedReplicates {
    /// Runs the paired subject bootstrap of `metric` for two systems scored on the same subjects.
    ///
    /// Identity numbers must mean the same subject in both sets (match them by name first when
    /// they come from different files). Replicates run on all cores; the result is identical
    /// for a seed whatever the core count.
    /// - Complexity: O(B * (S + nG + nI)) for B replicates and S subjects.
    public static func run(
        baseline: AnyScoreSet, candidate: AnyScoreSet, metric: Metric, rule: ThresholdRule = .roc,
        replicates: Int = 1000, seed: UInt64 = 0
    ) throws(PairedBootstrapError) -> PairedReplicates {
        guard metric.isOperatingPoint else { throw .notAnOperatingPoint(metric) }
        guard baseline.hasIdentities else { throw .needsIdentities("baseline") }
        guard candidate.hasIdentities else { throw .needsIdentities("candidate") }
        let b = baseline.weightedSubjects()
        let c = candidate.weightedSubjects()
        var index = [Int32: Int32]()
        for id in b.rawSubjects + c.rawSubjects where index[id] == nil { index[id] = Int32(index.count) }
        let bw = b.make(index), cw = c.make(index)
        guard let b0 = bw.estimate(metric, rule: rule) else { throw .unreachable("baseline", metric) }
        guard let c0 = cw.estimate(metric, rule: rule) else { throw .unreachable("candidate", metric) }
        let S = index.count
        var values = [(Double, Double)](repeating: (.nan, .nan), count: replicates)
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: replicates) { r in
                var rng = SeededGenerator(seed: seed, stream: UInt64(r))
                var m = [Int](repeating: 0, count: S)
                for _ in 0..<S { m[rng.below(S)] += 1 }
                base[r] = (bw.value(metric, rule: rule, weights: m) ?? .nan, cw.value(metric, rule: rule, weights: m) ?? .nan)
            }
        }
        let valid = values.filter { !$0.0.isNaN && !$0.1.isNaN }.map { (baseline: $0.0, candidate: $0.1) }
        guard valid.count >= max(2, replicates * 9 / 10) else {
            throw .tooManyUnreachableReplicates(metric, valid: valid.count, of: replicates)
        }
        return PairedReplicates(
            metric: metric, baseline: b0, candidate: c0, pairs: valid, requested: replicates, subjects: S, seed: seed)
    }
}

/// A type-erased builder so both precisions share one subject numbering.
struct WeightedSubjectsBuilder: Sendable {
    let rawSubjects: [Int32]
    let make: @Sendable ([Int32: Int32]) -> any WeightedEvaluating
}

protocol WeightedEvaluating: Sendable {
    func estimate(_ metric: Metric, rule: ThresholdRule) -> Double?
    func value(_ metric: Metric, rule: ThresholdRule, weights m: [Int]) -> Double?
}

extension AnyScoreSet {
    func weightedSubjects() -> WeightedSubjectsBuilder {
        switch self {
        case .float(let s): return WeightedSubjects<Float>.builder(SortedScores(s))
        case .double(let s): return WeightedSubjects<Double>.builder(SortedScores(s))
        }
    }
}

/// One system's sorted comparisons with subjects numbered in a shared index.
struct WeightedSubjects<T: ScoreFloat>: WeightedEvaluating {
    let sorted: SortedScores<T>
    let genuineSubject: [Int32]
    let failedGenuineSubject: [Int32]
    let impostorLeft: [Int32]
    let impostorRight: [Int32]
    /// Impostor comparisons (failures included) per distinct ordered subject pair, so a
    /// replicate's total impostor weight costs O(pairs), not O(nI).
    let pairLeft: [Int32]
    let pairRight: [Int32]
    let pairCount: [Int]
    /// Genuine comparisons (failures included) and failed ones per subject.
    let genuinePerSubject: [Int]
    let failedGenuinePerSubject: [Int]

    static func builder(_ s: SortedScores<T>) -> WeightedSubjectsBuilder {
        let ids = s.identities!
        var raw = [Int32]()
        var seen = Set<Int32>()
        func note(_ p: UInt64, both: Bool) {
            let (a, b) = unpackPair(p)
            if seen.insert(a).inserted { raw.append(a) }
            if both, seen.insert(b).inserted { raw.append(b) }
        }
        for p in ids.genuine { note(p, both: false) }
        for p in ids.failedGenuine { note(p, both: false) }
        for p in ids.impostor { note(p, both: true) }
        for p in ids.failedImpostor { note(p, both: true) }
        return WeightedSubjectsBuilder(rawSubjects: raw) { index in WeightedSubjects(s, index) }
    }

    init(_ s: SortedScores<T>, _ index: [Int32: Int32]) {
        let ids = s.identities!
        sorted = s
        genuineSubject = ids.genuine.map { index[unpackPair($0).0]! }
        failedGenuineSubject = ids.failedGenuine.map { index[unpackPair($0).0]! }
        impostorLeft = ids.impostor.map { index[unpackPair($0).0]! }
        impostorRight = ids.impostor.map { index[unpackPair($0).1]! }
        var pairs = [UInt64: Int]()
        for j in impostorLeft.indices { pairs[packPair(impostorLeft[j], impostorRight[j]), default: 0] += 1 }
        for p in ids.failedImpostor {
            let (a, b) = unpackPair(p)
            pairs[packPair(index[a]!, index[b]!), default: 0] += 1
        }
        let entries = pairs.sorted { $0.key < $1.key }
        pairLeft = entries.map { unpackPair($0.key).0 }
        pairRight = entries.map { unpackPair($0.key).1 }
        pairCount = entries.map(\.value)
        var failed = [Int](repeating: 0, count: index.count)
        for s in failedGenuineSubject { failed[Int(s)] += 1 }
        var perSubject = failed
        for s in genuineSubject { perSubject[Int(s)] += 1 }
        failedGenuinePerSubject = failed
        genuinePerSubject = perSubject
    }

    func estimate(_ metric: Metric, rule: ThresholdRule) -> Double? {
        sorted.operatingPoint(metric, rule: rule).value
    }

    /// The operating point's value with comparisons weighted by subject multiplicities `m`,
    /// thresholds chosen exactly as `SortedScores.thresholdForFAR`/`thresholdForFRR` choose
    /// them on the weighted counts; nil when the weighted data cannot reach the target.
    func value(_ metric: Metric, rule: ThresholdRule, weights m: [Int]) -> Double? {
        let genuine = sorted.genuine, impostor = sorted.impostor
        var wI = 0, wG = 0, failedWeight = 0
        for j in pairLeft.indices { wI += pairCount[j] * m[Int(pairLeft[j])] * m[Int(pairRight[j])] }
        for s in genuinePerSubject.indices {
            wG += genuinePerSubject[s] * m[s]
            failedWeight += failedGenuinePerSubject[s] * m[s]
        }
        guard wI > 0, wG > 0 else { return nil }

        switch metric {
        case .frrAtFAR(let a):
            let limit = a * Double(wI)
            // Walk impostor groups from the top; v is the first value whose inclusion breaks FAR <= a.
            var cumulative = 0
            var j = impostor.count
            var v: T? = nil
            var lastPositive: T = .infinity
            while j > 0 {
                let value = impostor[j - 1]
                var groupWeight = 0
                while j > 0 && impostor[j - 1] == value {
                    groupWeight += m[Int(impostorLeft[j - 1])] * m[Int(impostorRight[j - 1])]
                    j -= 1
                }
                if groupWeight == 0 { continue }
                if Double(cumulative + groupWeight) > limit { v = value; break }
                cumulative += groupWeight
                lastPositive = value
            }
            var rejected = failedWeight
            if let v {
                if v == .infinity { return nil }
                var k = 0
                while k < genuine.count {
                    let g = genuine[k]
                    if rule == .roc ? g > v : g >= lastPositive { break }
                    rejected += m[Int(genuineSubject[k])]
                    k += 1
                }
            } else if rule == .impostor {
                var k = 0
                while k < genuine.count && genuine[k] < lastPositive {
                    rejected += m[Int(genuineSubject[k])]
                    k += 1
                }
            }
            return Double(rejected) / Double(wG)
        case .farAtFRR(let b):
            let limit = b * Double(wG)
            if Double(failedWeight) > limit { return nil }
            var cumulative = failedWeight
            var k = 0
            var t: T? = nil
            while k < genuine.count {
                let value = genuine[k]
                var groupWeight = 0
                while k < genuine.count && genuine[k] == value {
                    groupWeight += m[Int(genuineSubject[k])]
                    k += 1
                }
                if groupWeight == 0 { continue }
                if Double(cumulative + groupWeight) > limit { t = value; break }
                cumulative += groupWeight
            }
            guard let t else { return nil }
            var accepted = 0
            var j = impostor.count
            while j > 0 && impostor[j - 1] >= t {
                accepted += m[Int(impostorLeft[j - 1])] * m[Int(impostorRight[j - 1])]
                j -= 1
            }
            return Double(accepted) / Double(wI)
        default:
            return nil
        }
    }
}

extension ConfidenceInterval {
    /// An interval read back from a report (e.g. metrics JSON) or computed outside the engine.
    public static func recorded(lower: Double, upper: Double, level: Double, method: String, replicates: Int?)
        -> ConfidenceInterval
    {
        ConfidenceInterval(lower: lower, upper: upper, level: level, method: method, replicates: replicates)
    }
}

extension PairedReplicates {
    /// The candidate's value minus the baseline's on the full data.
    public var difference: Double { candidate - baseline }

    /// The percentile interval at `level` of (candidate - baseline) over the replicates: the
    /// difference is resolved at that level when the interval excludes 0.
    /// - Complexity: O(B log B) for B replicates.
    public func differenceInterval(level: Double = 0.95) -> ConfidenceInterval {
        let alpha = (1 - level) / 2
        let sorted = pairs.map { $0.candidate - $0.baseline }.sorted()
        return ConfidenceInterval(
            lower: quantile(sorted, alpha), upper: quantile(sorted, 1 - alpha), level: level, method: "paired-bootstrap-subjects",
            replicates: requested)
    }
}
