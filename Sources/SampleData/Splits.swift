import AlaverifyBase
import ScoreMetrics

/// An identity-disjoint split of a samples file's identities (indices into `/identities`).
public struct IdentitySplit: Sendable, Equatable {
    /// Training identities, ascending.
    public var train: [Int32]
    /// Validation identities, ascending.
    public var validation: [Int32]
    /// Test identities, ascending.
    public var test: [Int32]

    /// Creates a split from three identity lists (sorted on the way in).
    public init(train: [Int32], validation: [Int32], test: [Int32]) {
        self.train = train.sorted()
        self.validation = validation.sorted()
        self.test = test.sorted()
    }

    /// The identities of one part.
    public subscript(part: SplitPart) -> [Int32] {
        switch part {
        case .train: return train
        case .validation: return validation
        case .test: return test
        }
    }

    /// Splits identities 0..<identityCount by fractions, seeded and identical on every machine.
    ///
    /// Identities are shuffled (Fisher-Yates with `SeededGenerator(seed:)`); the first
    /// round(train * K) go to train, the next round(validation * K) to validation, the rest to test.
    public static func byFractions(
        identityCount: Int, train: Double, validation: Double, test: Double, seed: UInt64, file: String = "split"
    ) throws(DataError) -> IdentitySplit {
        let fractions = [train, validation, test]
        guard fractions.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-6 else {
            throw DataError(file: file, location: "split", "fractions \(train), \(validation), \(test) must be >= 0 and sum to 1")
        }
        guard identityCount > 0 else { throw DataError(file: file, location: "split", "there are no identities to split") }
        var order = (0..<identityCount).map { Int32($0) }
        var rng = SeededGenerator(seed: seed)
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, rng.below(i + 1))
            }
        }
        let nTrain = min(identityCount, Int((train * Double(identityCount)).rounded()))
        let nValidation = min(identityCount - nTrain, Int((validation * Double(identityCount)).rounded()))
        return IdentitySplit(
            train: Array(order[0..<nTrain]),
            validation: Array(order[nTrain..<(nTrain + nValidation)]),
            test: Array(order[(nTrain + nValidation)...]))
    }

    /// A split from explicit identity names; names must exist and the lists must be disjoint.
    public static func byNames(
        train: [String], validation: [String], test: [String], identityNames: [String], file: String = "split"
    ) throws(DataError) -> IdentitySplit {
        var index: [String: Int32] = [:]
        for (i, name) in identityNames.enumerated() where index[name] == nil { index[name] = Int32(i) }
        var seen: [Int32: String] = [:]
        var parts: [[Int32]] = []
        for (partName, names) in [("train", train), ("validation", validation), ("test", test)] {
            var part: [Int32] = []
            for name in names {
                guard let id = index[name] else {
                    throw DataError(file: file, location: "split", "\(partName) identity '\(name)' is not in the file")
                }
                if let other = seen[id] {
                    throw DataError(file: file, location: "split", "identity '\(name)' is in both \(other) and \(partName)")
                }
                seen[id] = partName
                part.append(id)
            }
            parts.append(part)
        }
        return IdentitySplit(train: parts[0], validation: parts[1], test: parts[2])
    }

    /// The samples (ascending indices) whose identity is in `part`.
    public func samples(_ part: SplitPart, identities: [Int32]) -> [Int] {
        let members = Set(self[part])
        return identities.indices.filter { members.contains(identities[$0]) }
    }
}

/// One part of an identity split.
public enum SplitPart: String, Sendable, CaseIterable {
    case train, validation, test
}

/// At most `cap` samples per identity from `indices`, chosen by a seeded shuffle within each
/// identity (identities in ascending order), returned in ascending index order.
public func samplesCappedPerIdentity(
    _ indices: [Int], identities: [Int32], cap: Int, using rng: inout SeededGenerator
) -> [Int] {
    var byIdentity: [Int32: [Int]] = [:]
    for i in indices { byIdentity[identities[i], default: []].append(i) }
    var kept: [Int] = []
    for id in byIdentity.keys.sorted() {
        var members = byIdentity[id] ?? []
        if members.count > 1 {
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, rng.below(i + 1)) }
        }
        kept += members.prefix(cap)
    }
    return kept.sorted()
}
