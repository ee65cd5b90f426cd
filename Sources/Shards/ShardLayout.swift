import Training

/// One block of the pair matrix: the comparisons of items in tile `row` with items in tile
/// `column` (row <= column; on the diagonal only pairs i < j).
public struct PairBlock: Sendable, Hashable {
    /// The tile of the left items.
    public var row: Int
    /// The tile of the right items.
    public var column: Int

    /// Creates a block.
    public init(row: Int, column: Int) {
        self.row = row
        self.column = column
    }
}

/// How the all-pairs comparisons of `items` items are cut into shards.
///
/// The unit is a block of `PairBlocks.tile` x `PairBlocks.tile` pairs, the grid every all-pairs
/// score goes through, so a block's scores are bit-identical whichever shard computes them.
/// Blocks are ordered along a Z-order (Morton) curve over (row, column), which keeps a shard's
/// blocks close together (it needs the embeddings of few tiles), and cut into `shards`
/// contiguous runs balanced in pair count: shard k (0-based) holds the blocks whose first pair
/// falls in [k P / n, (k + 1) P / n) of the P pairs counted along the curve.
public struct ShardLayout: Sendable, Equatable {
    /// Items compared (samples or templates).
    public let items: Int
    /// The number of shards.
    public let shards: Int
    /// Items per tile.
    public static var tile: Int { PairBlocks.tile }

    /// Creates a layout; `shards` >= 1.
    public init(items: Int, shards: Int) {
        precondition(items >= 0 && shards >= 1)
        self.items = items
        self.shards = shards
    }

    /// Tiles of the item list (the last may be partial).
    public var tiles: Int { (items + Self.tile - 1) / Self.tile }

    /// All comparisons i < j.
    public var totalPairs: Int { items * (items - 1) / 2 }

    /// Items in tile t.
    public func itemsInTile(_ t: Int) -> Int { min(Self.tile, items - t * Self.tile) }

    /// The comparisons of a block.
    public func pairs(in block: PairBlock) -> Int {
        let r = itemsInTile(block.row)
        return block.row == block.column ? r * (r - 1) / 2 : r * itemsInTile(block.column)
    }

    /// Every block along the Z-order curve.
    /// - Complexity: O(B log B) for B = tiles (tiles + 1) / 2 blocks.
    public func orderedBlocks() -> [PairBlock] {
        var blocks = [(code: UInt64, block: PairBlock)]()
        blocks.reserveCapacity(tiles * (tiles + 1) / 2)
        for r in 0..<tiles {
            for c in r..<tiles { blocks.append((interleave(r, c), PairBlock(row: r, column: c))) }
        }
        blocks.sort { $0.code < $1.code }
        return blocks.map(\.block)
    }

    /// The 0-based shard of every block of `orderedBlocks()`.
    public func shardOfBlocks() -> [Int] {
        let total = totalPairs
        var before = 0
        return orderedBlocks().map { block in
            let shard = total == 0 ? 0 : total.dividingFullWidth(before.multipliedFullWidth(by: shards)).quotient
            before += pairs(in: block)
            return shard
        }
    }

    /// The blocks of shard `index` (1-based), in curve order.
    public func blocks(ofShard index: Int) -> [PairBlock] {
        let owner = shardOfBlocks()
        return zip(orderedBlocks(), owner).filter { $0.1 == index - 1 }.map(\.0)
    }

    /// The tiles whose embeddings shard `index` stores: those whose diagonal block it holds (so
    /// the shards together store every tile once).
    public func ownedTiles(ofShard index: Int) -> [Int] {
        blocks(ofShard: index).filter { $0.row == $0.column }.map(\.row).sorted()
    }
}

/// The Morton code of (a, b): the bits of a and b interleaved (b's bit lowest).
func interleave(_ a: Int, _ b: Int) -> UInt64 {
    func spread(_ x: Int) -> UInt64 {
        var v = UInt64(UInt32(truncatingIfNeeded: x))
        v = (v | v << 16) & 0x0000_FFFF_0000_FFFF
        v = (v | v << 8) & 0x00FF_00FF_00FF_00FF
        v = (v | v << 4) & 0x0F0F_0F0F_0F0F_0F0F
        v = (v | v << 2) & 0x3333_3333_3333_3333
        v = (v | v << 1) & 0x5555_5555_5555_5555
        return v
    }
    return spread(a) << 1 | spread(b)
}
