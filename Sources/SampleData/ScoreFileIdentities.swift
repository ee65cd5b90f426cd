import ScoreMetrics

/// A score file's scores together with the names behind its identity numbers.
public struct NamedScoreSet: Sendable {
    /// The scores; identity numbers index `identityNames` when it is present.
    public var scores: AnyScoreSet
    /// The identity name of each identity number (text layouts number names in order of first
    /// appearance, NumPy files when their identities are strings or exceed int32); nil when the
    /// file stores identity numbers themselves (HDF5, NumPy integers), or none.
    public var identityNames: [String]?

    /// Creates a named score set.
    public init(scores: AnyScoreSet, identityNames: [String]?) {
        self.scores = scores
        self.identityNames = identityNames
    }
}

extension ScoreFiles {
    /// Reads `path` like `read(path:format:polarity:)` and also returns the identity names, so
    /// that identities of two files can be matched by name rather than by file-local number.
    public static func readNamed(path: String, format: ScoreFileFormat = .auto, polarity: Polarity = .similarity)
        throws(DataError) -> NamedScoreSet
    {
        let resolved = format == .auto ? try sniff(path: path) : format
        switch resolved {
        case .csv, .tsv, .bob4, .bob5:
            var parser = TextScoreParser(path: path, format: resolved)
            try parser.parseFile()
            let set = try parser.scoreSet(polarity: polarity)
            guard parser.hasIdentities else { return NamedScoreSet(scores: set, identityNames: nil) }
            var names = [String](repeating: "", count: parser.identityIndex.count)
            for (name, id) in parser.identityIndex { names[Int(id)] = name }
            return NamedScoreSet(scores: set, identityNames: names)
        case .npy, .npz:
            return try ScoresNumPy.read(path: path, format: resolved, polarity: polarity)
        default:
            return NamedScoreSet(scores: try read(path: path, format: resolved, polarity: polarity), identityNames: nil)
        }
    }
}
