import AlaverifyBase

/// A protocol file, or a gate request, that cannot be used as written (exit code 64).
///
/// The message names the file, the line and the key, then what is wrong and what was expected:
/// `protocols/demo.yaml: line 9: gates[1].use: 'ci_upper' is not one of estimate, ci95_upper, ci95_lower`.
public struct ProtocolError: AlaverifyError, Sendable, Equatable {
    /// The protocol file as the user gave it.
    public var file: String
    /// The 1-based line of the offending key or value, when known.
    public var line: Int?
    /// The key path, e.g. `gates[1].use`, when the problem belongs to a key.
    public var key: String?
    /// What is wrong.
    public var message: String

    /// Creates an error for `file` at `line` and `key`.
    public init(file: String, line: Int? = nil, key: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var out = file
        if let line { out += ": line \(line)" }
        if let key { out += ": \(key)" }
        return out + ": " + message
    }

    public var exitStatus: ExitStatus { .usage }
}

/// The closest candidate to `word` within a small edit distance, for "did you mean" hints.
func suggestion(for word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
    guard let (best, distance) = scored, distance <= max(2, best.count / 3) else { return nil }
    return best
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
