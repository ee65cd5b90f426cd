import ScoreMetrics
import Training

extension TargetEvaluator {
    /// The operating points whose validation thresholds a model records: the target (when it is
    /// an operating point) and FRR at FAR 1e-2, 1e-3 and 1e-4 (the FARs a run reports).
    var recordedPoints: [Metric] {
        var points = target.isOperatingPoint ? [target] : []
        for a in [1e-2, 1e-3, 1e-4] where !points.contains(.frrAtFAR(a)) { points.append(.frrAtFAR(a)) }
        return points
    }

    /// The thresholds `model.h5` records (its document `thresholds`, schema `alaverify.thresholds/1`):
    /// chosen by SPEC section 2's `roc` rule on all pairs of the validation split, one per
    /// `recordedPoints`, plus the EER threshold; a point the split cannot reach is left out. Read
    /// back by `ThresholdSources.model`. Computed with each validation, from its sorted scores.
    /// The same thresholds for `model` embedding `images` (all pairs).
    /// - Complexity: one embedding of `images` and a sort of its pair scores.
    public func deploymentThresholds(_ model: EmbeddingNetwork, on images: ImageSet) throws -> String {
        let embeddings = images.pixels.withUnsafeBufferPointer { model.embed($0, count: images.count) }
        let pairs = Verification.allPairSimilarities(embeddings: embeddings, dimension: model.embeddingSize, labels: images.labels)
        return try deploymentThresholds(SortedScores(try ScoreSet(genuine: pairs.genuine, impostor: pairs.impostor)))
    }

    func deploymentThresholds(_ sorted: SortedScores<Float>) throws -> String {
        var chosen = [FixedThreshold]()
        for point in recordedPoints {
            if let t = try? sorted.chooseThresholds([point], rule: .roc, eer: false, provenance: ThresholdProvenance(kind: .model)) {
                chosen += t
            }
        }
        chosen += try sorted.chooseThresholds([], rule: .roc, eer: true, provenance: ThresholdProvenance(kind: .model))
        return MetricsJSON.thresholdsDocument(chosen, chosenOn: "validation split").serialized()
    }
}
