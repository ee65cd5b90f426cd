import Foundation

/// One adjustable loss parameter (a component of the ALA vector Phi).
public struct LossParameter: Sendable, Equatable, CustomStringConvertible {
    /// A stable name (`scale`, `genuine_weight[3]`).
    public var name: String
    /// The values the parameter may take; assignments are clamped into it.
    public var range: ClosedRange<Float>
    /// The controller's step: one action moves the value by +-step.
    public var step: Float
    /// The default value.
    public var initial: Float

    /// Creates a description.
    public init(name: String, range: ClosedRange<Float>, step: Float, initial: Float) {
        precondition(range.contains(initial), "initial \(initial) outside \(range) for \(name)")
        self.name = name
        self.range = range
        self.step = step
        self.initial = initial
    }

    public var description: String { "\(name)=\(initial) in [\(range.lowerBound), \(range.upperBound)] step \(step)" }
}

/// Parameter descriptions with their current values, kept within range.
public struct LossParameterValues: Sendable, Equatable {
    /// The descriptions, in Phi order.
    public let descriptions: [LossParameter]
    /// The current values, each within its range.
    public private(set) var values: [Float]

    /// All parameters at their initial values.
    public init(_ descriptions: [LossParameter]) {
        self.descriptions = descriptions
        values = descriptions.map(\.initial)
    }

    /// Sets all values, clamping each into its range (NaN becomes the initial value).
    public mutating func setClamped(_ newValues: [Float]) {
        precondition(newValues.count == descriptions.count, "Phi has \(descriptions.count) components, got \(newValues.count)")
        for (i, d) in descriptions.enumerated() {
            let v = newValues[i]
            values[i] = v.isNaN ? d.initial : min(max(v, d.range.lowerBound), d.range.upperBound)
        }
    }

    /// Sets all values; throws naming the first value outside its range (for user input).
    public mutating func setChecked(_ newValues: [Float]) throws(TrainingError) {
        guard newValues.count == descriptions.count else {
            throw .invalidConfiguration("expected \(descriptions.count) loss parameters, got \(newValues.count)")
        }
        for (d, v) in zip(descriptions, newValues) where !(d.range.contains(v)) {
            throw .invalidConfiguration("loss parameter \(d.name)=\(v) is outside [\(d.range.lowerBound), \(d.range.upperBound)]")
        }
        values = newValues
    }

    /// The index of the parameter called `name`.
    public func index(of name: String) -> Int? { descriptions.firstIndex { $0.name == name } }

    /// Moves parameter `index` by `steps` times its step, clamped.
    public mutating func move(_ index: Int, steps: Int) {
        let d = descriptions[index]
        values[index] = min(max(values[index] + Float(steps) * d.step, d.range.lowerBound), d.range.upperBound)
    }
}

/// A verification loss over a batch of unit-norm embeddings whose parameter vector Phi can be
/// changed between steps by an outside controller (ALA).
///
/// Embeddings are expected to be L2-normalised, so dot products are cosine similarities.
/// Losses are classes because they may own trainable weights and memories.
public protocol VerificationLoss: AnyObject {
    /// A stable name of the loss family (a policy for another family is refused).
    var family: String { get }
    /// The current Phi with descriptions; `phi` is the controller's read/write view of it.
    var parameterValues: LossParameterValues { get set }
    /// Weights the loss itself learns (e.g. class proxies), updated by the same optimizer.
    var trainableParameters: [Parameter] { get }
    /// The loss of `embeddings` `[N, E]` with identity `labels`; writes dLoss/dEmbeddings into
    /// `gradient` (reshaped to `[N, E]`, overwritten) and accumulates into trainable gradients.
    func compute(embeddings: Tensor, labels: [Int32], gradient: Tensor) -> Float
    /// Called once after the optimizer step (e.g. to enqueue the batch into a memory).
    func endStep(embeddings: Tensor, labels: [Int32])
    /// Non-trainable state for checkpoints (memories): float and integer arrays.
    var state: (floats: [NamedArray], integers: [NamedIntegers]) { get }
    /// Restores `state`.
    func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError)
}

extension VerificationLoss {
    /// Phi's component descriptions (name, range, step, initial value).
    public var parameterDescriptions: [LossParameter] { parameterValues.descriptions }

    /// The parameter vector Phi; assignments are clamped into the valid ranges.
    public var phi: [Float] {
        get { parameterValues.values }
        set { parameterValues.setClamped(newValue) }
    }

    public var trainableParameters: [Parameter] { [] }
    public func endStep(embeddings: Tensor, labels: [Int32]) {}
    public var state: (floats: [NamedArray], integers: [NamedIntegers]) { ([], []) }
    public func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError) {}
}

/// `log(1 + exp(x))` without overflow.
@inline(__always) func softplus(_ x: Float) -> Float {
    x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x))
}

/// `(softplus(x), sigmoid(x))` from one exponential, equal bit for bit to the two functions.
@inline(__always) func softplusAndSigmoid(_ x: Float) -> (Float, Float) {
    let e = expf(-abs(x))
    return x >= 0 ? (x + log1pf(e), 1 / (1 + e)) : (log1pf(e), e / (1 + e))
}

/// The logistic function.
@inline(__always) func sigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
}
