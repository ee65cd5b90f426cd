/// The exit statuses of SPEC section 1.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Success, or every gate passed.
    case success = 0
    /// A gate failed.
    case gateFailed = 1
    /// A usage error: a bad flag, target or setting, an output that cannot be written.
    case usage = 64
    /// Bad input data: an unreadable, malformed or inconsistent file.
    case dataError = 65
    /// A bug or an environment failure.
    case internalError = 70
}

/// An error alaverify reports to its user: one line (`description`) and the exit status of its kind.
///
/// Every error type of the libraries conforms, so the executable turns any error into its exit
/// status in one place; an error that does not conform is unexpected and exits 70.
public protocol AlaverifyError: Error, CustomStringConvertible {
    /// The exit status of this kind of problem.
    var exitStatus: ExitStatus { get }
}

/// An error with the file it concerns: `file: <error>`, with the error's own exit status.
public struct ErrorInFile: AlaverifyError, Sendable {
    /// The file as the user gave it.
    public var file: String
    /// What went wrong.
    public var underlying: any AlaverifyError & Sendable

    /// Puts `file` in front of `underlying`'s message.
    public init(file: String, _ underlying: any AlaverifyError & Sendable) {
        self.file = file
        self.underlying = underlying
    }

    public var description: String { "\(file): \(underlying.description)" }
    public var exitStatus: ExitStatus { underlying.exitStatus }
}
