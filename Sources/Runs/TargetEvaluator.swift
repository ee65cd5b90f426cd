import Foundation
import LossAlignment
import RunRecords
import ScoreMetrics
import Training

/// One child's validation: what the history records and what the controller sees.
public struct ChildValidation: Sendable {
    /// The target's value, the reward value, EER, AUC and the neighbouring FRRs.
    public var result: ValidationResult
    /// The controller's view: the reward value (a cost), the neighbours and the per-bin masses.
    public var snapshot: ValidationSnapshot
    /// The validation thresholds the model would record (`deploymentThresholds`).
    public var thresholds: String
}

/// The reward and selection rule of a run: the value of its target on the validation split,
/// asked of the metric engine (`SystemMetrics.value(of:)`), turned into a cost (lower is better,
/// `Metric.cost`) for the controller's reward and for picking the best model.
public struct TargetEvaluator: Sendable {
    /// The validation target.
    public let target: Metric
    /// For `frr@far=a`: the reward averages FRR over FARs in [a / band, a * band] (1: the target alone).
    public let rewardBand: Double
    /// Similarity bins of the controller's per-bin masses.
    public let bins: Int

    /// The evaluator of `config`'s target.
    public init(_ config: RunConfig) {
        target = config.target
        rewardBand = config.rewardBand
        bins = config.bins
    }

    /// The FARs whose FRRs the reward averages (the target's own rate alone without a band).
    var rewardRates: [Double] {
        guard case .frrAtFAR(let a) = target, rewardBand > 1 else { return [] }
        return [-1.0, -0.5, 0, 0.5, 1].map { min(max(a * pow(rewardBand, $0), 1e-12), 0.999) }
    }

    /// FRR is also reported at a tenth and ten times the target FAR (1e-2 for other targets).
    var neighbourRates: [Double] {
        let a: Double
        if case .frrAtFAR(let x) = target { a = x } else { a = 1e-2 }
        return [min(a / 10, 0.5), min(a * 10, 0.5)]
    }

    /// Embeds `images` with `model` and validates all their pairs (i < j); with `halves`, also the
    /// reward value within each of two disjoint halves of the identities (even and odd dense
    /// class), which tells how reliably the reward ranks children.
    public func validate(_ model: EmbeddingNetwork, on images: ImageSet, halves: Bool = false) throws -> ChildValidation {
        let d = model.embeddingSize
        let embeddings = images.pixels.withUnsafeBufferPointer { model.embed($0, count: images.count) }
        let pairs = Verification.allPairSimilarities(embeddings: embeddings, dimension: d, labels: images.labels)
        var result = try validate(genuine: pairs.genuine, impostor: pairs.impostor)
        if halves {
            result.snapshot.halves = try (0..<2).map { h in
                let rows = images.classes.indices.filter { Int(images.classes[$0]) % 2 == h }
                var e: [Float] = []
                e.reserveCapacity(rows.count * d)
                for r in rows { e += embeddings[(r * d)..<((r + 1) * d)] }
                let p = Verification.allPairSimilarities(embeddings: e, dimension: d, labels: rows.map { images.labels[$0] })
                return try validate(genuine: p.genuine, impostor: p.impostor).snapshot.target
            }
        }
        return result
    }

    /// Validates genuine and impostor similarity scores.
    public func validate(genuine: [Float], impostor: [Float]) throws -> ChildValidation {
        // Validation needs no identities: without them the sort skips the payload and the
        // operating points skip identity-pair counting.
        let sorted = SortedScores(try ScoreSet(genuine: genuine, impostor: impostor))
        let extra = (rewardRates + neighbourRates).map(Metric.frrAtFAR)
        let m = try sorted.evaluate(EvaluationOptions(metrics: [target] + extra, interval: .none))
        // An unreachable operating point or an EER the curve never reaches counts as the worst value.
        func value(_ metric: Metric) -> Double { m.value(of: metric) ?? 1 }
        let targetValue = value(target)
        let rates = rewardRates
        let reward = rates.isEmpty ? target.cost(targetValue) : rates.map { value(.frrAtFAR($0)) }.reduce(0, +) / Double(rates.count)
        let neighbours = neighbourRates.map { value(.frrAtFAR($0)) }
        let threshold = m.operatingPoints.first { $0.metric == target }?.threshold
        return ChildValidation(
            result: ValidationResult(
                target: target, value: targetValue, rewardValue: reward, eer: m.eer?.value, rocAUC: m.rocAUC, frrNeighbours: neighbours),
            snapshot: ValidationSnapshot(
                target: reward, neighbours: neighbours, genuineBinMass: binMasses(genuine), impostorBinMass: binMasses(impostor),
                threshold: threshold.flatMap { $0.isFinite ? $0 : nil }),
            thresholds: try deploymentThresholds(sorted))
    }

    /// The fraction of `scores` in each similarity bin (the pairwise loss's bins).
    func binMasses(_ scores: [Float]) -> [Double] {
        var m = [Double](repeating: 0, count: bins)
        for s in scores { m[PairwiseBinnedLoss.bin(s, bins: bins)] += 1 }
        return m.map { $0 / Double(max(scores.count, 1)) }
    }

    /// The cost of a validation value: what the run minimises when it picks its best model.
    public func cost(_ result: ValidationResult) -> Double { target.cost(result.value) }
}
