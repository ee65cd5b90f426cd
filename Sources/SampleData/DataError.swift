import AlaverifyBase

/// Bad input data: an unreadable, malformed or inconsistent file (exit code 65).
///
/// The message names the file, then where in it (a line or an HDF5 dataset), then the problem:
/// `scores.csv: line 12: score 'abc' is not a number`.
public struct DataError: AlaverifyError, Sendable, Equatable {
    /// The file's path as the user gave it.
    public var file: String
    /// Where in the file: `line 12`, `dataset /scores/label`, or nil for the whole file.
    public var location: String?
    /// What is wrong, and what was expected where useful.
    public var message: String

    /// Creates an error for `file` at `location`.
    public init(file: String, location: String? = nil, _ message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        if let location { return "\(file): \(location): \(message)" }
        return "\(file): \(message)"
    }

    public var exitStatus: ExitStatus { .dataError }
}
