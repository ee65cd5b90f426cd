@testable import Shards
import Testing

@Suite("the pair matrix cut into shards")
struct LayoutTests {
    @Test("shards are disjoint, cover every block once, and are balanced within one block's pairs",
          arguments: [(2, 1), (300, 1), (1536, 2), (1536, 3), (1536, 7), (5000, 7), (44_722, 4), (70_000, 64)])
    func disjointAndBalanced(items: Int, shards: Int) {
        let layout = ShardLayout(items: items, shards: shards)
        var seen = Set<PairBlock>()
        var pairs = [Int]()
        for k in 1...shards {
            let blocks = layout.blocks(ofShard: k)
            for b in blocks { #expect(seen.insert(b).inserted, "block \(b) in two shards") }
            pairs.append(blocks.reduce(0) { $0 + layout.pairs(in: $1) })
        }
        #expect(seen.count == layout.tiles * (layout.tiles + 1) / 2)
        #expect(pairs.reduce(0, +) == layout.totalPairs)
        let ideal = Double(layout.totalPairs) / Double(shards)
        let block = Double(ShardLayout.tile * ShardLayout.tile)
        for p in pairs { #expect(abs(Double(p) - ideal) <= block, "shard pairs \(pairs), ideal \(ideal)") }
        let owned = (1...shards).flatMap { layout.ownedTiles(ofShard: $0) }.sorted()
        #expect(owned == Array(0..<layout.tiles))
    }

    @Test("a shard of a large matrix needs the embeddings of few tiles (Z-order)")
    func fewTiles() {
        let layout = ShardLayout(items: 141_422, shards: 64)  // 1e10 pairs
        let worst = (1...64).map { ShardScoring.tiles(of: layout.blocks(ofShard: $0)).count }.max()!
        #expect(worst * 3 <= layout.tiles, "a shard touches \(worst) of \(layout.tiles) tiles")
    }
}
