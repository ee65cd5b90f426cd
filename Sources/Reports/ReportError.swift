/// A report that cannot be drawn or encoded.
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed, in one line.
    public var message: String

    /// Creates an error with a one-line message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
