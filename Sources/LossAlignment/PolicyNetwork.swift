import AlaverifyBase
import Foundation

/// The ALA policy: one small MLP shared by every loss parameter, mapping that parameter's state
/// features to probabilities of the actions {lower, keep, raise}.
///
/// Architecture: features -> tanh hidden layer -> 3 logits -> softmax. Small enough (a few
/// hundred weights) that plain Swift loops are the right tool; no BLAS.
public struct PolicyNetwork: Sendable, Equatable, Codable {
    /// Number of input features.
    public let inputs: Int
    /// Hidden units.
    public let hidden: Int
    /// Hidden weights [hidden, inputs], row-major.
    public var w1: [Double]
    /// Hidden biases [hidden].
    public var b1: [Double]
    /// Output weights [3, hidden].
    public var w2: [Double]
    /// Output biases [3]; initialised to favour "keep" slightly so early training is gentle.
    public var b2: [Double]

    /// Number of actions: lower, keep, raise.
    public static let actions = 3

    /// Creates a policy with small seeded random weights.
    public init(inputs: Int, hidden: Int = 32, seed: UInt64) {
        self.inputs = inputs
        self.hidden = hidden
        var rng = SeededGenerator(seed: seed, stream: 0xA1A)
        let scale1 = 1 / Double(inputs).squareRoot()
        let scale2 = 0.1 / Double(hidden).squareRoot()
        w1 = (0..<(hidden * inputs)).map { _ in (rng.unit() * 2 - 1) * scale1 }
        b1 = [Double](repeating: 0, count: hidden)
        w2 = (0..<(3 * hidden)).map { _ in (rng.unit() * 2 - 1) * scale2 }
        b2 = [0, 0.5, 0]
    }

    /// All weights as one vector (for the optimiser and for saving).
    public var parameters: [Double] {
        get { w1 + b1 + w2 + b2 }
        set {
            precondition(newValue.count == parameterCount)
            var at = 0
            func take(_ n: Int) -> [Double] { defer { at += n }; return Array(newValue[at..<(at + n)]) }
            w1 = take(hidden * inputs); b1 = take(hidden); w2 = take(3 * hidden); b2 = take(3)
        }
    }

    /// Number of weights.
    public var parameterCount: Int { hidden * inputs + hidden + 3 * hidden + 3 }

    /// Action probabilities for one state, and the hidden activations (for the gradient).
    public func forward(_ x: [Double]) -> (probabilities: [Double], hiddenActivations: [Double]) {
        precondition(x.count == inputs, "policy expects \(inputs) features, got \(x.count)")
        var h = [Double](repeating: 0, count: hidden)
        for i in 0..<hidden {
            var s = b1[i]
            for j in 0..<inputs { s += w1[i * inputs + j] * x[j] }
            h[i] = tanh(s)
        }
        var logits = b2
        for a in 0..<3 { for i in 0..<hidden { logits[a] += w2[a * hidden + i] * h[i] } }
        let m = logits.max()!
        let e = logits.map { exp($0 - m) }
        let z = e.reduce(0, +)
        return (e.map { $0 / z }, h)
    }

    /// The gradient of log pi(action | x) with respect to all weights, in `parameters` order.
    public func logProbabilityGradient(_ x: [Double], action: Int) -> [Double] {
        let (p, h) = forward(x)
        // d log softmax_a / d logit_k = [k == a] - p_k
        var dLogits = p.map { -$0 }
        dLogits[action] += 1
        var gw2 = [Double](repeating: 0, count: 3 * hidden)
        var dh = [Double](repeating: 0, count: hidden)
        for a in 0..<3 {
            for i in 0..<hidden {
                gw2[a * hidden + i] = dLogits[a] * h[i]
                dh[i] += dLogits[a] * w2[a * hidden + i]
            }
        }
        var gw1 = [Double](repeating: 0, count: hidden * inputs)
        var gb1 = [Double](repeating: 0, count: hidden)
        for i in 0..<hidden {
            let dz = dh[i] * (1 - h[i] * h[i])
            gb1[i] = dz
            for j in 0..<inputs { gw1[i * inputs + j] = dz * x[j] }
        }
        return gw1 + gb1 + gw2 + dLogits
    }
}

