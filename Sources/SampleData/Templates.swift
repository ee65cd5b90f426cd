import AlaverifyBase
import ScoreMetrics

/// A template (IJB-B/C style): k samples of one identity, compared through one embedding.
public struct Template: Sendable, Equatable {
    /// The identity of every sample in the template.
    public var identity: Int32
    /// The sample indices.
    public var samples: [Int]

    /// Creates a template.
    public init(identity: Int32, samples: [Int]) {
        self.identity = identity
        self.samples = samples
    }

    /// Groups `items` into templates of `size` samples of one identity (and one value of
    /// `sharing`, e.g. the `face` attribute, when given), seeded; leftovers smaller than
    /// `size` are dropped. Templates come out ordered by identity, then group value.
    public static func make(
        items: [Int], identities: [Int32], size: Int, sharing attribute: [Int64]? = nil, seed: UInt64,
        file: String = "templates"
    ) throws(DataError) -> [Template] {
        guard size >= 1 else { throw DataError(file: file, location: "templates", "template size must be >= 1") }
        if let attribute, attribute.count != identities.count {
            throw DataError(file: file, location: "templates", "the grouping attribute has \(attribute.count) entries for \(identities.count) samples")
        }
        struct Key: Hashable, Comparable {
            var identity: Int32
            var group: Int64
            static func < (a: Key, b: Key) -> Bool { (a.identity, a.group) < (b.identity, b.group) }
        }
        var groups: [Key: [Int]] = [:]
        for item in items {
            guard item >= 0, item < identities.count else {
                throw DataError(file: file, location: "templates", "sample \(item) is outside 0..<\(identities.count)")
            }
            groups[Key(identity: identities[item], group: attribute?[item] ?? 0), default: []].append(item)
        }
        var rng = SeededGenerator(seed: seed)
        var templates: [Template] = []
        for key in groups.keys.sorted() {
            var members = groups[key] ?? []
            if members.count > 1 {
                for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, rng.below(i + 1)) }
            }
            for start in stride(from: 0, through: members.count - size, by: size) {
                templates.append(Template(identity: key.identity, samples: Array(members[start..<(start + size)])))
            }
        }
        if templates.isEmpty {
            throw DataError(file: file, location: "templates", "no identity has \(size) samples to form a template")
        }
        return templates
    }

    /// The mean of the L2-normalised embedding rows `samples` of a row-major matrix with
    /// `dimension` columns (zero rows contribute zero; the mean is not re-normalised).
    /// - Complexity: O(k * dimension).
    public func embedding(from matrix: UnsafeBufferPointer<Float>, dimension: Int) -> [Float] {
        var sum = [Double](repeating: 0, count: dimension)
        for sample in samples {
            let base = sample * dimension
            guard base >= 0, base + dimension <= matrix.count else { continue }
            var norm = 0.0
            for d in 0..<dimension { norm += Double(matrix[base + d]) * Double(matrix[base + d]) }
            guard norm > 0 else { continue }
            let scale = 1 / norm.squareRoot()
            for d in 0..<dimension { sum[d] += Double(matrix[base + d]) * scale }
        }
        let n = Double(max(1, samples.count))
        return sum.map { Float($0 / n) }
    }
}

/// A seeded P x K batch sampler: each batch holds K samples of each of P distinct identities.
public struct PKSampler: Sendable {
    /// Identities per batch.
    public let p: Int
    /// Samples per identity per batch.
    public let k: Int
    private let groups: [[Int]]
    private let groupIdentities: [Int32]
    private var order: [Int]
    private var position: Int
    private var rng: SeededGenerator

    /// A sampler over `items` (sample indices into `identities`); identities with fewer than 2
    /// samples are skipped; fails when fewer than `p` identities remain.
    public init(items: [Int], identities: [Int32], p: Int, k: Int, seed: UInt64, file: String = "batches") throws(DataError) {
        guard p >= 1, k >= 1 else { throw DataError(file: file, location: "batches", "P and K must be >= 1") }
        var byIdentity: [Int32: [Int]] = [:]
        for item in items {
            guard item >= 0, item < identities.count else {
                throw DataError(file: file, location: "batches", "sample \(item) is outside 0..<\(identities.count)")
            }
            byIdentity[identities[item], default: []].append(item)
        }
        let eligible = byIdentity.keys.sorted().filter { (byIdentity[$0]?.count ?? 0) >= 2 }
        guard eligible.count >= p else {
            throw DataError(file: file, location: "batches", "only \(eligible.count) identities have 2+ samples; P = \(p) needs more")
        }
        self.p = p
        self.k = k
        groupIdentities = eligible
        groups = eligible.map { byIdentity[$0] ?? [] }
        order = Array(0..<eligible.count)
        position = order.count
        rng = SeededGenerator(seed: seed)
    }

    /// The next batch: P*K sample indices, identity by identity (K distinct samples when the
    /// identity has at least K, otherwise all of them plus random repeats).
    public mutating func next() -> [Int] {
        if position + p > order.count {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
            position = 0
        }
        var batch: [Int] = []
        batch.reserveCapacity(p * k)
        for slot in 0..<p {
            var members = groups[order[position + slot]]
            let take = min(k, members.count)
            for i in 0..<take { members.swapAt(i, i + rng.below(members.count - i)) }
            batch.append(contentsOf: members[0..<take])
            for _ in take..<k { batch.append(members[rng.below(members.count)]) }
        }
        position += p
        return batch
    }
}
