import ScoreMetrics

/// Scores for validation and evaluation.
public enum Verification {
    /// All-pairs cosine scores (i < j) of unit-norm embeddings `[N, dimension]`, split into
    /// genuine (same label) and impostor comparisons, with comparison identities.
    /// - Complexity: O(N^2 * dimension) in sgemm blocks of 256 rows; O(N^2) memory for the scores.
    public static func allPairsScores(embeddings: [Float], dimension: Int, labels: [Int32]) throws -> ScoreSet<Float> {
        let n = labels.count
        precondition(embeddings.count == n * dimension, "\(embeddings.count) values for \(n) embeddings of \(dimension)")
        var genuine: [Float] = [], impostor: [Float] = []
        var gl: [Int32] = [], gr: [Int32] = [], il: [Int32] = [], ir: [Int32] = []
        let block = 256
        let scores = Tensor(Shape(min(block, n), n))
        embeddings.withUnsafeBufferPointer { e in
            var start = 0
            while start < n {
                let rows = min(block, n - start)
                scores.reshape(Shape(rows, n))
                BLAS.gemm(transB: true, m: rows, n: n, k: dimension, e.baseAddress! + start * dimension, lda: dimension,
                          e.baseAddress!, ldb: dimension, scores.pointer, ldc: n)
                for r in 0..<rows {
                    let i = start + r
                    for j in (i + 1)..<max(n, i + 1) {
                        let s = scores[r * n + j]
                        if labels[i] == labels[j] {
                            genuine.append(s); gl.append(labels[i]); gr.append(labels[j])
                        } else {
                            impostor.append(s); il.append(labels[i]); ir.append(labels[j])
                        }
                    }
                }
                start += rows
            }
        }
        return try ScoreSet(genuine: genuine, impostor: impostor, polarity: .similarity,
                            genuineIdentities: ComparisonIdentities(left: gl, right: gr),
                            impostorIdentities: ComparisonIdentities(left: il, right: ir))
    }

    /// Embeds `images` with `model` and evaluates all pairs with the metric engine (no intervals).
    public static func evaluate(model: EmbeddingNetwork, images: ImageSet, metrics: [Metric], batchSize: Int = 256) throws -> SystemMetrics {
        let embeddings = images.pixels.withUnsafeBufferPointer { model.embed($0, count: images.count, batchSize: batchSize) }
        let set = try allPairsScores(embeddings: embeddings, dimension: model.embeddingSize, labels: images.labels)
        return try SortedScores(set).evaluate(EvaluationOptions(metrics: metrics, interval: .none))
    }
}
