import AlaverifyBase

/// A report that cannot be drawn or encoded (exit 70: the input was fine, the drawing failed).
public struct ReportError: AlaverifyError, Sendable, Equatable {
    /// What failed, in one line.
    public var message: String

    /// Creates an error with a one-line message.
    public init(_ message: String) { self.message = message }

    public var description: String { "report: \(message)" }
    public var exitStatus: ExitStatus { .internalError }
}
