import AlaverifyBase

/// Whether a higher score means more alike (`similarity`) or less alike (`distance`).
public enum Polarity: String, Sendable, CaseIterable {
    /// Accept iff `score >= t`.
    case similarity
    /// Accept iff `distance <= t`; evaluated internally on negated scores.
    case distance
}

/// How the threshold for `frr@far` is chosen (SPEC section 2).
public enum ThresholdRule: String, Sendable, CaseIterable {
    /// Among thresholds with FAR <= a, the one with the lowest FRR (the smallest such t).
    case roc
    /// The lowest impostor score whose FAR <= a (bob.measure `far_threshold` compatible).
    case impostor
}

/// The identities on the two sides of each comparison, aligned with a score array.
public struct ComparisonIdentities: Sendable, Equatable {
    /// Identity of the left sample of comparison j.
    public var left: [Int32]
    /// Identity of the right sample of comparison j.
    public var right: [Int32]

    /// Creates identity columns; both must have the same length as the scores they label.
    public init(left: [Int32], right: [Int32]) {
        self.left = left
        self.right = right
    }
}

/// Genuine and impostor scores of one system, with optional comparison identities.
///
/// NaN scores are failed comparisons; `+inf` and `-inf` are ordinary extreme scores.
public struct ScoreSet<T: ScoreFloat>: Sendable {
    /// Scores of same-identity comparisons.
    public var genuine: [T]
    /// Scores of different-identity comparisons.
    public var impostor: [T]
    /// Identities of the genuine comparisons, when known.
    public var genuineIdentities: ComparisonIdentities?
    /// Identities of the impostor comparisons, when known.
    public var impostorIdentities: ComparisonIdentities?
    /// The meaning of the scores.
    public var polarity: Polarity

    /// Creates a score set; fails when a class is empty or an identity column is misaligned.
    public init(
        genuine: [T], impostor: [T], polarity: Polarity = .similarity,
        genuineIdentities: ComparisonIdentities? = nil, impostorIdentities: ComparisonIdentities? = nil
    ) throws(ScoreSetError) {
        guard !genuine.isEmpty else { throw .emptyClass("genuine") }
        guard !impostor.isEmpty else { throw .emptyClass("impostor") }
        if let ids = genuineIdentities, ids.left.count != genuine.count || ids.right.count != genuine.count {
            throw .misalignedIdentities("genuine")
        }
        if let ids = impostorIdentities, ids.left.count != impostor.count || ids.right.count != impostor.count {
            throw .misalignedIdentities("impostor")
        }
        self.genuine = genuine
        self.impostor = impostor
        self.polarity = polarity
        self.genuineIdentities = genuineIdentities
        self.impostorIdentities = impostorIdentities
    }

    /// Number of genuine comparisons, failures included (nG).
    public var genuineCount: Int { genuine.count }
    /// Number of impostor comparisons, failures included (nI).
    public var impostorCount: Int { impostor.count }
    /// True when both classes carry comparison identities.
    public var hasIdentities: Bool { genuineIdentities != nil && impostorIdentities != nil }
}

/// A score set that cannot be evaluated.
public enum ScoreSetError: AlaverifyError, Sendable, Equatable {
    /// A class has no scores at all.
    case emptyClass(String)
    /// An identity column does not have one entry per score.
    case misalignedIdentities(String)

    public var description: String {
        switch self {
        case .emptyClass(let c): return "no \(c) scores"
        case .misalignedIdentities(let c): return "\(c) identity columns do not match the number of \(c) scores"
        }
    }

    public var exitStatus: ExitStatus { .dataError }
}

/// A score set of either precision, as read from a file.
public enum AnyScoreSet: Sendable {
    case float(ScoreSet<Float>)
    case double(ScoreSet<Double>)

    /// Number of genuine comparisons.
    public var genuineCount: Int {
        switch self { case .float(let s): return s.genuineCount; case .double(let s): return s.genuineCount }
    }
    /// Number of impostor comparisons.
    public var impostorCount: Int {
        switch self { case .float(let s): return s.impostorCount; case .double(let s): return s.impostorCount }
    }
    /// The polarity the scores are read with.
    public var polarity: Polarity {
        get { switch self { case .float(let s): return s.polarity; case .double(let s): return s.polarity } }
        set {
            switch self {
            case .float(var s): s.polarity = newValue; self = .float(s)
            case .double(var s): s.polarity = newValue; self = .double(s)
            }
        }
    }
    /// True when identities are known for both classes.
    public var hasIdentities: Bool {
        switch self { case .float(let s): return s.hasIdentities; case .double(let s): return s.hasIdentities }
    }
}
