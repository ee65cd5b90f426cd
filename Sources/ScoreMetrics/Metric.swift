import AlaverifyBase
import Foundation

/// A metric named the way SPEC section 1 spells it: `frr@far=1e-4`, `far@frr=0.01`, `eer`,
/// `roc_auc`, `average_precision`, `pauc@far=1e-3`.
///
/// The rate `X` in `frr@far=X`, `far@frr=X` and `pauc@far=X` must lie strictly inside (0, 1).
public enum Metric: Hashable, Sendable, LosslessStringConvertible {
    /// FRR at the threshold chosen for a FAR target.
    case frrAtFAR(Double)
    /// FAR at the threshold chosen for an FRR target.
    case farAtFRR(Double)
    /// Equal error rate on the DET polyline.
    case eer
    /// Area under the ROC curve (Mann-Whitney, ties count half).
    case rocAUC
    /// Average precision with genuine as the positive class.
    case averagePrecision
    /// Partial ROC area over FAR in [0, a], divided by a.
    case partialAUC(Double)

    /// Parses a metric, returning nil when the text is not a valid metric.
    public init?(_ description: String) {
        guard let parsed = try? Metric.parse(description) else { return nil }
        self = parsed
    }

    /// Parses a metric, throwing an error that says what is wrong with the text.
    public static func parse(_ text: String) throws(MetricParseError) -> Metric {
        let trimmed = text.trimmingSpaces()
        switch trimmed {
        case "eer": return .eer
        case "roc_auc": return .rocAUC
        case "average_precision": return .averagePrecision
        default: break
        }
        guard let eq = trimmed.firstIndex(of: "=") else {
            throw MetricParseError(text: text, reason: "unknown metric; expected one of \(Metric.spellings)")
        }
        let head = String(trimmed[..<eq])
        let valueText = String(trimmed[trimmed.index(after: eq)...])
        let make: (Double) -> Metric
        switch head {
        case "frr@far": make = Metric.frrAtFAR
        case "far@frr": make = Metric.farAtFRR
        case "pauc@far": make = Metric.partialAUC
        default:
            throw MetricParseError(text: text, reason: "unknown metric '\(head)'; expected one of \(Metric.spellings)")
        }
        guard let value = parseRate(valueText) else {
            throw MetricParseError(text: text, reason: "'\(valueText)' is not a number")
        }
        guard value > 0, value < 1 else {
            throw MetricParseError(text: text, reason: "the rate must lie strictly between 0 and 1, got \(valueText)")
        }
        return make(value)
    }

    /// The accepted spellings, for error messages and help.
    public static let spellings = "frr@far=X, far@frr=X, eer, roc_auc, average_precision, pauc@far=X"

    /// The canonical spelling; the rate keeps the shortest text that round-trips.
    public var description: String {
        switch self {
        case .frrAtFAR(let a): return "frr@far=\(formatRate(a))"
        case .farAtFRR(let b): return "far@frr=\(formatRate(b))"
        case .eer: return "eer"
        case .rocAUC: return "roc_auc"
        case .averagePrecision: return "average_precision"
        case .partialAUC(let a): return "pauc@far=\(formatRate(a))"
        }
    }

    /// True when a smaller value is better (error rates); false for areas and precision.
    public var lowerIsBetter: Bool {
        switch self {
        case .frrAtFAR, .farAtFRR, .eer: return true
        case .rocAUC, .averagePrecision, .partialAUC: return false
        }
    }

    /// The value as a cost, lower being better: an error rate as it is, `1 - value` for areas
    /// and precision. Training rewards and model selection compare costs.
    public func cost(_ value: Double) -> Double { lowerIsBetter ? value : 1 - value }

    /// True when `value` is strictly better than `reference`: its cost is strictly lower (a tie
    /// is not better). The one rule that picks a run's best model and reports it.
    public func isBetter(_ value: Double, than reference: Double) -> Bool { cost(value) < cost(reference) }

    /// How much worse `value` is than `reference`, in the metric's units (negative: better):
    /// `value - reference` for error rates, `reference - value` for areas.
    public func worsening(of value: Double, from reference: Double) -> Double {
        lowerIsBetter ? value - reference : reference - value
    }
}

extension Metric: Codable {
    /// Reads the SPEC spelling (`frr@far=1e-3`); an invalid one throws `MetricParseError`.
    public init(from decoder: Decoder) throws {
        self = try Metric.parse(try decoder.singleValueContainer().decode(String.self))
    }

    /// Writes the canonical spelling.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A metric spelling that could not be parsed.
public struct MetricParseError: AlaverifyError, Sendable {
    /// The text as given.
    public var text: String
    /// What is wrong with it.
    public var reason: String
    public var description: String { "invalid metric '\(text)': \(reason)" }
    public var exitStatus: ExitStatus { .usage }
}

/// Parses a decimal or exponent-style number (`0.001`, `1e-4`, `1E-4`); rejects anything else.
func parseRate(_ text: String) -> Double? {
    let allowed = Set("0123456789.eE+-")
    guard !text.isEmpty, text.allSatisfy({ allowed.contains($0) }) else { return nil }
    guard let value = Double(text), value.isFinite else { return nil }
    return value
}

/// Formats a rate compactly: `1e-4` for powers of ten below 0.01, else the shortest decimal.
func formatRate(_ value: Double) -> String {
    if value > 0, value < 0.01 {
        let exponent = Int((-log10(value)).rounded())
        if value == Double("1e-\(exponent)") { return "1e-\(exponent)" }
    }
    return "\(value)"
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
