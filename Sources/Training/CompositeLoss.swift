/// A weighted sum of verification losses, e.g. a margin softmax plus the pairwise loss with a
/// cross-batch memory. Phi is `[weight of component 0, ..., weight of component n-1]` followed
/// by every component's Phi with its names prefixed `<index>.`.
public final class CompositeLoss: VerificationLoss {
    /// The components.
    public let components: [any VerificationLoss]
    public let family: String
    private var weightDescriptions: [LossParameter]
    private let scratch = Tensor()
    private let parameterLists: [[Parameter]]
    private let savedGradients: [[Tensor]]

    /// Combines `components` with initial weights `weights` (each in [0, 4], step 0.1).
    public init(_ components: [any VerificationLoss], weights: [Float]) {
        precondition(!components.isEmpty && components.count == weights.count, "one weight per component")
        self.components = components
        parameterLists = components.map(\.trainableParameters)
        savedGradients = parameterLists.map { $0.map { Tensor($0.value.shape) } }
        family = "composite(" + components.map(\.family).joined(separator: "+") + ")"
        weightDescriptions = weights.enumerated().map {
            LossParameter(name: "weight[\($0.offset)]", range: 0...4, step: 0.1, initial: $0.element)
        }
        var values = weights
        for c in components { values += c.phi }
        var d = weightDescriptions
        for (i, c) in components.enumerated() {
            d += c.parameterDescriptions.map {
                LossParameter(name: "\(i).\($0.name)", range: $0.range, step: $0.step, initial: $0.initial)
            }
        }
        stored = LossParameterValues(d)
        stored.setClamped(values)
    }

    private var stored: LossParameterValues

    public var parameterValues: LossParameterValues {
        get { stored }
        set {
            stored = newValue
            var offset = components.count
            for c in components {
                let n = c.parameterDescriptions.count
                c.phi = Array(newValue.values[offset..<(offset + n)])
                offset += n
            }
        }
    }

    public var trainableParameters: [Parameter] { components.flatMap(\.trainableParameters) }

    public func compute(embeddings: Tensor, labels: [Int32], gradient: Tensor) -> Float {
        gradient.reshape(embeddings.shape)
        gradient.fill(0)
        var total: Float = 0
        for (i, c) in components.enumerated() {
            let w = stored.values[i]
            // A component accumulates unscaled gradients into its own weights: keep what was
            // there, let it accumulate from zero, then add w times its contribution.
            let params = parameterLists[i], saved = savedGradients[i]
            for (p, t) in zip(params, saved) { t.copy(from: p.gradient); p.gradient.fill(0) }
            let value = c.compute(embeddings: embeddings, labels: labels, gradient: scratch)
            for (p, t) in zip(params, saved) {
                let (g, old) = (p.gradient.pointer, t.pointer)
                for j in 0..<p.gradient.count { g[j] = old[j] + w * g[j] }
            }
            total += w * value
            let (g, s) = (gradient.pointer, scratch.pointer)
            for j in 0..<gradient.count { g[j] += w * s[j] }
        }
        return total
    }

    public func endStep(embeddings: Tensor, labels: [Int32]) {
        for c in components { c.endStep(embeddings: embeddings, labels: labels) }
    }

    public var state: (floats: [NamedArray], integers: [NamedIntegers]) {
        var f: [NamedArray] = [], n: [NamedIntegers] = []
        for (i, c) in components.enumerated() {
            let s = c.state
            f += s.floats.map { NamedArray(name: "\(i)/\($0.name)", shape: $0.shape, values: $0.values) }
            n += s.integers.map { NamedIntegers(name: "\(i)/\($0.name)", shape: $0.shape, values: $0.values) }
        }
        return (f, n)
    }

    public func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError) {
        for (i, c) in components.enumerated() {
            let prefix = "\(i)/"
            try c.restore(
                floats: floats.filter { $0.name.hasPrefix(prefix) }.map {
                    NamedArray(name: String($0.name.dropFirst(prefix.count)), shape: $0.shape, values: $0.values)
                },
                integers: integers.filter { $0.name.hasPrefix(prefix) }.map {
                    NamedIntegers(name: String($0.name.dropFirst(prefix.count)), shape: $0.shape, values: $0.values)
                })
        }
    }
}
