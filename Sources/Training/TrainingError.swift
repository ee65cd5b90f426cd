import AlaverifyBase

/// Why a training component refused its input.
public enum TrainingError: AlaverifyError, Sendable, Equatable {
    /// A checkpoint or state does not fit this model, optimizer or loss.
    case stateMismatch(String)
    /// A configuration value is outside its valid range.
    case invalidConfiguration(String)
    /// Input data of an unexpected shape or content.
    case invalidInput(String)

    public var description: String {
        switch self {
        case .stateMismatch(let m): return "checkpoint does not match: \(m)"
        case .invalidConfiguration(let m): return "invalid configuration: \(m)"
        case .invalidInput(let m): return "invalid input: \(m)"
        }
    }

    /// A configuration outside its range is a usage error (64); a state or input that does not
    /// fit is bad data (65).
    public var exitStatus: ExitStatus {
        switch self {
        case .invalidConfiguration: return .usage
        case .stateMismatch, .invalidInput: return .dataError
        }
    }
}

/// One named, shaped array of a checkpoint (row-major values).
public struct StateArray<Element: Sendable & Equatable>: Sendable, Equatable {
    /// A path-like name (`model/3.weight`, `optimizer/m/3.weight`).
    public var name: String
    /// Extents; their product is `values.count`.
    public var shape: [Int]
    /// The values.
    public var values: [Element]

    /// Creates an array.
    public init(name: String, shape: [Int], values: [Element]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A Float32 checkpoint array (weights, moments, memories).
public typealias NamedArray = StateArray<Float>
/// An integer checkpoint array (labels, counters, generator states).
public typealias NamedIntegers = StateArray<Int64>
