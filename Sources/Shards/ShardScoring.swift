import Foundation
import Runs
import SampleData
import ScoreMetrics
import Training

/// The first pass of one shard: the scores of its blocks, computed exactly as the unsharded
/// all-pairs scorer computes them, kept as a summary.
public enum ShardScoring {
    /// What a shard's blocks gave: genuine comparisons exactly, impostor scores binned.
    public struct Result: Sendable {
        public var genuineScores: [Float] = []
        public var genuineLeft: [Int32] = []
        public var genuineRight: [Int32] = []
        public var impostor = RadixHistogram()
        public var pairs = 0
    }

    /// The tiles a set of blocks compares (rows and columns).
    public static func tiles(of blocks: [PairBlock]) -> [Int] {
        Array(Set(blocks.flatMap { [$0.row, $0.column] })).sorted()
    }

    /// Embeds the items of `tiles` exactly as the unsharded scorer does: samples in batches of
    /// `PairBlocks.tile` in split order (only the batches the tiles need), and a template as the
    /// mean of its samples' embeddings. Returns all items' rows (`items x dimension`), those
    /// outside `tiles` left zero.
    /// - Complexity: the network's cost on the needed batches; O(items x dimension) memory.
    public static func embed(
        network: EmbeddingNetwork, samples: SamplesFile, indices: [Int], templates: [Template]?, tiles: [Int]
    ) throws(DataError) -> [Float] {
        let d = network.embeddingSize, tile = ShardLayout.tile
        let itemCount = templates?.count ?? indices.count
        var needed = Set<Int>()
        for t in tiles {
            for item in (t * tile)..<min((t + 1) * tile, itemCount) {
                if let templates { for p in templates[item].samples { needed.insert(p / tile) } } else { needed.insert(t) }
            }
        }
        var sampleRows = [Float](repeating: 0, count: indices.count * d)
        let size = network.sampleShape.count
        for batch in needed.sorted() {
            let positions = (batch * tile)..<min((batch + 1) * tile, indices.count)
            let pixels = try samples.readImages(indices: positions.map { indices[$0] })
            let e = pixels.withUnsafeBufferPointer { network.embed($0, count: positions.count) }
            precondition(pixels.count == positions.count * size)
            sampleRows.replaceSubrange((positions.lowerBound * d)..<(positions.upperBound * d), with: e)
        }
        guard let templates else { return sampleRows }
        var rows = [Float](repeating: 0, count: templates.count * d)
        for t in tiles {
            let range = (t * tile)..<min((t + 1) * tile, templates.count)
            let means = templateEmbeddings(sampleRows, dimension: d, templates: Array(templates[range]))
            rows.replaceSubrange((range.lowerBound * d)..<(range.upperBound * d), with: means)
        }
        return rows
    }

    /// Scores `blocks` of the pair matrix of `embeddings` (`labels.count x dimension`): each
    /// block is one single-threaded sgemm of the shape the unsharded scorer uses for it, so every
    /// score has the unsharded run's bits. Blocks run as 16 fixed parts (results do not depend on
    /// the thread count); `progress(pairsDone)` is called after each block.
    /// - Complexity: O(pairs x dimension) time; O(tile^2) memory per part plus the genuine scores.
    public static func score(
        blocks: [PairBlock], embeddings: [Float], dimension d: Int, labels: [Int32],
        progress: (@Sendable (Int) -> Void)? = nil
    ) -> Result {
        let parts = min(blocks.count, 16)
        var results = [Result](repeating: Result(), count: parts)
        let lock = NSLock()
        nonisolated(unsafe) var done = 0
        results.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            embeddings.withUnsafeBufferPointer { e in
                labels.withUnsafeBufferPointer { labels in
                    Compute.forEachPart(parts) { p in
                        var r = Result()
                        var gram = [Float](repeating: 0, count: ShardLayout.tile * ShardLayout.tile)
                        let range = (p * blocks.count / parts)..<((p + 1) * blocks.count / parts)
                        for block in blocks[range] {
                            let n = forEachPair(block, e.baseAddress!, d, labels, &gram) { x, i, j, genuine in
                                if genuine {
                                    r.genuineScores.append(x)
                                    r.genuineLeft.append(Int32(i))
                                    r.genuineRight.append(Int32(j))
                                } else {
                                    r.impostor.add(x)
                                }
                            }
                            r.pairs += n
                            lock.lock()
                            done += n
                            let now = done
                            lock.unlock()
                            progress?(now)
                        }
                        (base + p).initialize(to: r)
                    }
                }
            }
        }
        var total = Result()
        for r in results {
            total.genuineScores += r.genuineScores
            total.genuineLeft += r.genuineLeft
            total.genuineRight += r.genuineRight
            total.impostor.add(r.impostor)
            total.pairs += r.pairs
        }
        return total
    }

    /// Computes one block's scores (one sgemm of the unsharded scorer's shape for it) and calls
    /// `body(score, i, j, genuine)` for each pair i < j in row-major order; returns the pair count.
    @inline(__always)
    static func forEachPair(
        _ block: PairBlock, _ e: UnsafePointer<Float>, _ d: Int, _ labels: UnsafeBufferPointer<Int32>, _ gram: inout [Float],
        _ body: (Float, Int, Int, Bool) -> Void
    ) -> Int {
        let tile = ShardLayout.tile, n = labels.count
        let r0 = block.row * tile, c0 = block.column * tile
        let rows = min(tile, n - r0), cols = min(tile, n - c0)
        var count = 0
        gram.withUnsafeMutableBufferPointer { g in
            PairBlocks.block(e, dimension: d, rows: r0..<(r0 + rows), columns: c0..<(c0 + cols), into: g.baseAddress!, ldc: cols)
            for r in 0..<rows {
                let i = r0 + r, li = labels[i]
                let first = block.row == block.column ? r + 1 : 0
                var c = first
                while c < cols {
                    body(g[r * cols + c], i, c0 + c, labels[c0 + c] == li)
                    c += 1
                }
                count += cols - min(first, cols)
            }
        }
        return count
    }
}
