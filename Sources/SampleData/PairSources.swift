import AlaverifyBase
import ScoreMetrics

/// One comparison: two item indices (samples or templates) and whether they share an identity.
public struct SamplePair: Sendable, Equatable, Hashable {
    /// Index of the left item.
    public var left: Int
    /// Index of the right item.
    public var right: Int
    /// True when both items have the same identity.
    public var genuine: Bool

    /// Creates a pair.
    public init(left: Int, right: Int, genuine: Bool) {
        self.left = left
        self.right = right
        self.genuine = genuine
    }
}

/// Fails when an identity among `items` has a single item (it can form no genuine pair).
func requireGenuineCapable(
    items: [Int], identities: [Int32], identityNames: [String], file: String
) throws(DataError) {
    var counts: [Int32: Int] = [:]
    for item in items { counts[identities[item], default: 0] += 1 }
    guard let single = counts.filter({ $0.value == 1 }).keys.min() else { return }
    let name = Int(single) < identityNames.count ? "'\(identityNames[Int(single)])'" : "\(single)"
    throw DataError(file: file, location: "dataset /samples/identity",
                    "identity \(name) has a single sample; genuine pairs need at least 2 per identity")
}

/// Every unordered pair {i, j}, i < j, of a list of items, enumerated lazily in row-major order.
///
/// With n items there are n(n-1)/2 pairs; nothing proportional to that is stored, so 1e9+ pairs
/// are fine. Items are sample indices (or template indices) with their identities.
public struct AllPairs: Sequence, Sendable {
    /// The items, in enumeration order.
    public let items: [Int]
    /// Identity of each entry of `items`.
    public let itemIdentities: [Int32]
    /// n(n-1)/2.
    public let count: Int
    /// Pairs with equal identities: the sum over identities of c(c-1)/2.
    public let genuineCount: Int
    /// `count - genuineCount`.
    public var impostorCount: Int { count - genuineCount }

    /// All pairs of `items` (sample indices into `identities`).
    ///
    /// With `requireGenuine`, an identity with a single item is an error naming it.
    public init(
        items: [Int], identities: [Int32], identityNames: [String] = [], requireGenuine: Bool = true, file: String = "pairs"
    ) throws(DataError) {
        if let bad = items.first(where: { $0 < 0 || $0 >= identities.count }) {
            throw DataError(file: file, location: "pairs", "item \(bad) is outside 0..<\(identities.count)")
        }
        if requireGenuine {
            try requireGenuineCapable(items: items, identities: identities, identityNames: identityNames, file: file)
        }
        self.items = items
        itemIdentities = items.map { identities[$0] }
        let n = items.count
        count = n < 2 ? 0 : n * (n - 1) / 2
        var sizes: [Int32: Int] = [:]
        for id in itemIdentities { sizes[id, default: 0] += 1 }
        genuineCount = sizes.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        if requireGenuine && genuineCount == 0 {
            throw DataError(file: file, location: "pairs", "no genuine pairs: every identity has a single sample")
        }
    }

    /// The k-th pair in enumeration order (0 <= k < count).
    /// - Complexity: O(1).
    public func pair(at k: Int) -> SamplePair {
        let n = items.count
        // Row i starts at offset(i) = i*n - i*(i+1)/2; invert with a square root, then correct.
        let b = Double(2 * n - 1)
        var i = Int((b - (b * b - 8 * Double(k)).squareRoot()) / 2)
        i = Swift.max(0, Swift.min(i, n - 2))
        func offset(_ r: Int) -> Int { r * n - r * (r + 1) / 2 }
        while i > 0 && offset(i) > k { i -= 1 }
        while i < n - 2 && offset(i + 1) <= k { i += 1 }
        let j = i + 1 + (k - offset(i))
        return SamplePair(left: items[i], right: items[j], genuine: itemIdentities[i] == itemIdentities[j])
    }

    /// Iterates pairs (0,1), (0,2), ..., (1,2), ...
    public struct Iterator: IteratorProtocol {
        let pairs: AllPairs
        var i = 0
        var j = 1

        /// The next pair, nil at the end.
        public mutating func next() -> SamplePair? {
            let n = pairs.items.count
            if j >= n {
                i += 1
                j = i + 1
                if j >= n { return nil }
            }
            defer { j += 1 }
            return SamplePair(left: pairs.items[i], right: pairs.items[j],
                              genuine: pairs.itemIdentities[i] == pairs.itemIdentities[j])
        }
    }

    /// An iterator from the first pair.
    public func makeIterator() -> Iterator { Iterator(pairs: self) }

    /// Only the genuine pairs, identity by identity (materialised: O(genuineCount) memory).
    public var genuinePairs: [SamplePair] {
        var groups: [Int32: [Int]] = [:]
        for (position, id) in itemIdentities.enumerated() { groups[id, default: []].append(items[position]) }
        var result: [SamplePair] = []
        result.reserveCapacity(genuineCount)
        for id in groups.keys.sorted() {
            let members = groups[id] ?? []
            for a in 0..<members.count {
                for b in (a + 1)..<Swift.max(a + 1, members.count) {
                    result.append(SamplePair(left: members[a], right: members[b], genuine: true))
                }
            }
        }
        return result
    }
}

/// Seeded pair sampling: every genuine pair plus `impostorsPerGenuine` random impostors for each.
public enum SampledPairs {
    /// For each genuine pair (a, b) in `AllPairs.genuinePairs` order: the pair itself, then
    /// `impostorsPerGenuine` pairs (a, c) with c drawn uniformly among items of another identity.
    public static func make(
        items: [Int], identities: [Int32], identityNames: [String] = [], impostorsPerGenuine: Int, seed: UInt64,
        file: String = "pairs"
    ) throws(DataError) -> [SamplePair] {
        guard impostorsPerGenuine >= 0 else {
            throw DataError(file: file, location: "pairs", "impostors per genuine must be >= 0")
        }
        let all = try AllPairs(items: items, identities: identities, identityNames: identityNames, file: file)
        if impostorsPerGenuine > 0 && all.impostorCount == 0 {
            throw DataError(file: file, location: "pairs", "no impostor pairs: all samples have one identity")
        }
        var rng = SeededGenerator(seed: seed)
        var result: [SamplePair] = []
        let genuine = all.genuinePairs
        result.reserveCapacity(genuine.count * (1 + impostorsPerGenuine))
        for pair in genuine {
            result.append(pair)
            let identity = identities[pair.left]
            for _ in 0..<impostorsPerGenuine {
                var other = items[rng.below(items.count)]
                while identities[other] == identity { other = items[rng.below(items.count)] }
                result.append(SamplePair(left: pair.left, right: other, genuine: false))
            }
        }
        return result
    }
}
