import ScoreMetrics

/// Scores for validation and evaluation.
public enum Verification {
    /// All-pairs cosine scores (i < j) of unit-norm embeddings `[N, dimension]`, split into
    /// genuine (same label) and impostor comparisons, with comparison identities.
    /// - Complexity: O(N^2 * dimension) in the tiles of `PairBlocks`; O(N^2) memory for the scores.
    public static func allPairsScores(embeddings: [Float], dimension: Int, labels: [Int32]) throws -> ScoreSet<Float> {
        let (genuine, impostor) = allPairSimilarities(embeddings: embeddings, dimension: dimension, labels: labels)
        // The identities follow the same (i, j) order as the scores, so a label-only pass rebuilds them.
        var gl: [Int32] = [], gr: [Int32] = [], il: [Int32] = [], ir: [Int32] = []
        gl.reserveCapacity(genuine.count); gr.reserveCapacity(genuine.count)
        il.reserveCapacity(impostor.count); ir.reserveCapacity(impostor.count)
        let n = labels.count
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                if labels[i] == labels[j] { gl.append(labels[i]); gr.append(labels[j]) } else { il.append(labels[i]); ir.append(labels[j]) }
            }
        }
        return try ScoreSet(genuine: genuine, impostor: impostor, polarity: .similarity,
                            genuineIdentities: ComparisonIdentities(left: gl, right: gr),
                            impostorIdentities: ComparisonIdentities(left: il, right: ir))
    }

    /// All-pairs cosine scores (i < j) of unit-norm embeddings split by class, without identities,
    /// into arrays sized up front (what validation needs every K steps).
    /// - Complexity: O(N^2 * dimension) in the tiles of `PairBlocks`; O(N^2) memory for the scores.
    public static func allPairSimilarities(embeddings: [Float], dimension d: Int, labels: [Int32]) -> (genuine: [Float], impostor: [Float]) {
        let n = labels.count
        precondition(embeddings.count == n * d, "\(embeddings.count) values for \(n) embeddings of \(d)")
        var perLabel: [Int32: Int] = [:]
        for l in labels { perLabel[l, default: 0] += 1 }
        let genuineCount = perLabel.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        var genuine = [Float](repeating: 0, count: genuineCount)
        var impostor = [Float](repeating: 0, count: n * (n - 1) / 2 - genuineCount)
        var gi = 0, ii = 0
        labels.withUnsafeBufferPointer { labels in
            genuine.withUnsafeMutableBufferPointer { g in
                impostor.withUnsafeMutableBufferPointer { imp in
                    embeddings.withUnsafeBufferPointer { e in
                        PairBlocks.forEachBand(e.baseAddress!, count: n, dimension: d) { start, rows, p in
                            for r in 0..<rows {
                                let i = start + r
                                let li = labels[i]
                                var j = i + 1
                                while j < n {
                                    let s = p[r * n + j]
                                    if labels[j] == li { g[gi] = s; gi += 1 } else { imp[ii] = s; ii += 1 }
                                    j += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return (genuine, impostor)
    }

    /// Embeds `images` with `model` and evaluates all pairs with the metric engine (no intervals).
    public static func evaluate(model: EmbeddingNetwork, images: ImageSet, metrics: [Metric], batchSize: Int = 256) throws -> SystemMetrics {
        let embeddings = images.pixels.withUnsafeBufferPointer { model.embed($0, count: images.count, batchSize: batchSize) }
        let set = try allPairsScores(embeddings: embeddings, dimension: model.embeddingSize, labels: images.labels)
        return try SortedScores(set).evaluate(EvaluationOptions(metrics: metrics, interval: .none))
    }
}

/// The all-pairs similarity matrix `E E^T` of `n` embeddings, computed band by band in a fixed
/// grid of `tile` x `tile` blocks (one single-threaded sgemm each, blocks run as parts on
/// `Compute.threads` threads).
///
/// A similarity's bits depend on the sgemm shape and on where it falls in it, so every caller
/// that must agree — validation, the run's test scores, `alaverify score`, a shard of the pair
/// matrix — goes through this grid: pair (i, j) always comes from block (i / tile, j / tile) of
/// the same shape, whatever else is computed.
public enum PairBlocks {
    /// Rows and columns per block.
    public static let tile = 256

    /// Calls `body(start, rows, gram)` for each band of `tile` rows in order, where row `r` of
    /// `gram` (stride `count`) holds the similarities of embedding `start + r` with every `j >=
    /// start` (columns below `start` are not computed).
    /// - Complexity: O(count^2 * dimension / 2) time; O(tile * count) memory.
    public static func forEachBand(
        _ embeddings: UnsafePointer<Float>, count n: Int, dimension d: Int,
        _ body: (_ start: Int, _ rows: Int, _ gram: UnsafePointer<Float>) throws -> Void
    ) rethrows {
        guard n > 0 else { return }
        let gram = Tensor(Shape(min(tile, n), n))
        let p = gram.pointer
        var start = 0
        while start < n {
            let rows = min(tile, n - start)
            let columnBlocks = (n - start + tile - 1) / tile
            Compute.forEachPart(columnBlocks) { b in
                let c0 = start + b * tile
                block(embeddings, dimension: d, rows: start..<(start + rows), columns: c0..<min(c0 + tile, n), into: p + c0, ldc: n)
            }
            try body(start, rows, UnsafePointer(p))
            start += rows
        }
    }

    /// The similarities of embeddings `rows` with embeddings `columns` (at most one tile each) into
    /// `c` (row stride `ldc`): one single-threaded sgemm of the shape every all-pairs scorer uses for
    /// this block (validation, `score`, shards), so a pair's score has the same bits whichever computes it.
    @inline(__always)
    public static func block(
        _ embeddings: UnsafePointer<Float>, dimension d: Int, rows: Range<Int>, columns: Range<Int>,
        into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLAS.gemm(transB: true, m: rows.count, n: columns.count, k: d, embeddings + rows.lowerBound * d, lda: d,
                  embeddings + columns.lowerBound * d, ldb: d, c, ldc: ldc, split: false)
    }
}
