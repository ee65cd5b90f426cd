import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics
import Training

/// All the shards of one evaluation, read and checked: every shard present once, all made from
/// the same model, data and items, each file intact.
public struct ShardSet: Sendable {
    /// The shard files in shard order.
    public let files: [String]
    /// What the shards share.
    public let run: ShardRun
    /// How the pairs were cut.
    public let layout: ShardLayout
    /// Identity label of every item.
    public let labels: [Int32]
    /// The merged first pass.
    public let firstPass: FirstPass
    /// Every item's embedding (`items x dimension`), from the tiles the shards own.
    let embeddings: [Float]
    /// Per shard: its impostor histogram and a digest of its genuine comparisons, to check the
    /// second pass against.
    let recorded: [(impostor: RadixHistogram, genuine: GenuineDigest)]

    /// Reads and checks the shard files (any order).
    public init(paths: [String]) throws(DataError) {
        guard let firstPath = paths.first else { throw DataError(file: "shards", "no shard files given") }
        var byIndex = [Int: (path: String, summary: ShardSummary)]()
        var run: ShardRun?
        var firstOfRun = firstPath
        for path in paths {
            let s = try ShardFile.read(path)
            if let run, let difference = s.manifest.run.difference(from: run) {
                throw DataError(file: path, "made with \(difference) than \(firstOfRun); shards of different evaluations do not merge")
            }
            if run == nil { run = s.manifest.run; firstOfRun = path }
            if let other = byIndex[s.manifest.shard] {
                throw DataError(file: path, "is shard \(s.manifest.shard)/\(s.manifest.run.shards) again (also \(other.path))")
            }
            byIndex[s.manifest.shard] = (path, s)
        }
        let shared = run!
        let missing = (1...shared.shards).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            let list = missing.count > 8 ? missing.prefix(8).map(String.init).joined(separator: ", ") + ", ..." : missing.map(String.init).joined(separator: ", ")
            throw DataError(file: shared.output, "missing \(missing.count) of \(shared.shards) shards: \(list) (given \(paths.count) files)")
        }
        let layout = ShardLayout(items: shared.items, shards: shared.shards)
        let ordered = (1...shared.shards).map { byIndex[$0]! }
        let labels = ordered[0].summary.labels
        var embeddings = [Float](repeating: 0, count: shared.items * shared.dimension)
        var genuine = [Float](), subjects = [Int32]()
        var histogram = RadixHistogram()
        var recorded = [(impostor: RadixHistogram, genuine: GenuineDigest)]()
        for (k, (path, s)) in ordered.enumerated() {
            let blocks = layout.blocks(ofShard: k + 1)
            guard s.manifest.blocks == blocks.count, s.manifest.pairs == blocks.reduce(0, { $0 + layout.pairs(in: $1) }),
                  s.tiles.map(Int.init) == layout.ownedTiles(ofShard: k + 1), s.labels == labels
            else { throw DataError(file: path, "does not hold the blocks, tiles or labels of shard \(k + 1)/\(shared.shards)") }
            var offset = 0
            for t in s.tiles {
                let rows = layout.itemsInTile(Int(t)) * shared.dimension
                let start = Int(t) * ShardLayout.tile * shared.dimension
                embeddings.replaceSubrange(start..<(start + rows), with: s.embeddings[offset..<(offset + rows)])
                offset += rows
            }
            genuine += s.genuineScores
            subjects += s.genuineLeft.map { labels[Int($0)] }
            histogram.add(s.impostor)
            var digest = GenuineDigest()
            for j in s.genuineScores.indices { digest.add(s.genuineScores[j], Int(s.genuineLeft[j]), Int(s.genuineRight[j])) }
            recorded.append((s.impostor, digest))
        }
        let identities = Set(labels).count
        files = ordered.map(\.path)
        self.run = shared
        self.layout = layout
        self.labels = labels
        self.embeddings = embeddings
        self.recorded = recorded
        firstPass = FirstPass(
            genuine: genuine, genuineSubjects: subjects, impostor: histogram,
            impostorIdentityPairs: identities * (identities - 1) / 2,
            identityBound: labels.allSatisfy { $0 >= 0 } ? Int(labels.max() ?? 0) + 1 : nil)
    }

    /// The scores file the shards stand for: the shard files' common name without the
    /// `.shard-i-of-n` tag, else the `--out` recorded when they were scored.
    public var source: String {
        let outputs = Set(files.compactMap { ShardSpec.output(ofShardFile: $0)?.output })
        return outputs.count == 1 ? outputs.first! : run.output
    }

    /// The metrics of all the shards' comparisons, exactly as `SortedScores.evaluate` gives them
    /// on the unsharded scores file: plans the second pass, scores every block again from the
    /// stored embeddings to count what the bins cannot tell (checking each shard's first pass on
    /// the way), and evaluates.
    /// - Complexity: O(pairs x dimension) time on `Compute.threads` threads; memory of one
    ///   refinement per thread (see `Refinement`), not of the scores.
    public func evaluate(_ options: EvaluationOptions, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SystemMetrics {
        try merged(options, progress: progress).evaluate()
    }

    /// The merged scores behind `evaluate` (for plots: the curve's corners, a histogram).
    public func merged(_ options: EvaluationOptions, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> MergedScores {
        let plan = try MergePlan(firstPass, options: options)
        let parts = max(1, Compute.threads)
        var refinements = [Refinement](repeating: Refinement(plan), count: parts)
        var done = 0
        let lock = NSLock()
        for (k, path) in files.enumerated() {
            let blocks = layout.blocks(ofShard: k + 1)
            var checks = [(RadixHistogram, GenuineDigest)](repeating: (RadixHistogram(), GenuineDigest()), count: parts)
            refinements.withUnsafeMutableBufferPointer { r in
                checks.withUnsafeMutableBufferPointer { c in
                    embeddings.withUnsafeBufferPointer { e in
                        labels.withUnsafeBufferPointer { labels in
                            Compute.forEachPart(parts) { p in
                                var gram = [Float](repeating: 0, count: ShardLayout.tile * ShardLayout.tile)
                                for b in stride(from: p, to: blocks.count, by: parts) {
                                    let n = ShardScoring.forEachPair(blocks[b], e.baseAddress!, run.dimension, labels, &gram) { x, i, j, genuine in
                                        if genuine {
                                            c[p].1.add(x, i, j)
                                        } else {
                                            c[p].0.add(x)
                                            r[p].add(x, left: labels[i], right: labels[j])
                                        }
                                    }
                                    lock.lock()
                                    done += n
                                    let now = done
                                    lock.unlock()
                                    progress?(now, layout.totalPairs)
                                }
                            }
                        }
                    }
                }
            }
            var histogram = RadixHistogram(), digest = GenuineDigest()
            for (h, g) in checks { histogram.add(h); digest.add(g) }
            guard histogram == recorded[k].impostor, digest == recorded[k].genuine else {
                throw DataError(file: path,
                    "its scores differ from the same blocks scored again here: it was scored on a CPU with other OpenBLAS kernels (set OPENBLAS_CORETYPE alike for shards and merge) or it was edited")
            }
        }
        var total = refinements[0]
        for r in refinements.dropFirst() { total.add(r) }
        return try MergedScores(total)
    }
}

/// An order-independent digest of genuine comparisons (score bits and items).
struct GenuineDigest: Sendable, Equatable {
    var count = 0
    var sum: UInt64 = 0

    @inline(__always) mutating func add(_ x: Float, _ i: Int, _ j: Int) {
        count += 1
        var z = UInt64(x.bitPattern) ^ UInt64(i) << 32 ^ UInt64(j) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        sum &+= z ^ (z >> 31)
    }

    mutating func add(_ other: GenuineDigest) {
        count += other.count
        sum &+= other.sum
    }
}
