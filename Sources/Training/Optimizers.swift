import CKernels
import Foundation

/// Updates parameters from their accumulated gradients.
///
/// Optimizers are classes because they hold per-parameter state tied to specific parameters.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, in checkpoint order.
    var parameters: [Parameter] { get }
    /// Applies one update with learning rate `learningRate`; gradients are left untouched.
    func step(learningRate: Float)
    /// The optimizer's state as plain arrays (moments, step counter).
    var state: [NamedArray] { get }
    /// Restores `state`; throws when names or sizes do not match this optimizer.
    func restore(_ state: [NamedArray]) throws(TrainingError)
}

extension Optimizer {
    /// Sets every gradient to zero.
    public func zeroGradients() {
        for p in parameters { p.gradient.fill(0) }
    }
}

/// Stochastic gradient descent with (Nesterov) momentum and coupled L2 weight decay
/// (`g += decay * w` on parameters that decay), as in PyTorch's `SGD`.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    /// Momentum coefficient mu.
    public var momentum: Float
    /// Nesterov momentum (`w -= lr * (g + mu * v)`) instead of heavy ball (`w -= lr * v`).
    public var nesterov: Bool
    /// L2 coefficient.
    public var weightDecay: Float
    private let velocity: [Tensor]

    /// Creates the optimizer over `parameters`.
    public init(parameters: [Parameter], momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 0) {
        self.parameters = parameters
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = parameters.map { Tensor($0.value.shape) }
    }

    public func step(learningRate lr: Float) {
        for (p, v) in zip(parameters, velocity) {
            let (w, g, m) = (p.value.pointer, p.gradient.pointer, v.pointer)
            let wd = p.decays ? weightDecay : 0
            let mu = momentum, count = p.value.count, nesterov = self.nesterov
            var i = 0
            while i + 8 <= count {
                let gi = load8(g, i) + wd * load8(w, i)
                let vi = mu * load8(m, i) + gi
                store8(vi, m, i)
                store8(load8(w, i) - lr * (nesterov ? gi + mu * vi : vi), w, i)
                i += 8
            }
            while i < count {
                let gi = g[i] + wd * w[i]
                let vi = mu * m[i] + gi
                m[i] = vi
                w[i] -= lr * (nesterov ? gi + mu * vi : vi)
                i += 1
            }
        }
    }

    public var state: [NamedArray] {
        zip(parameters, velocity).map { NamedArray(name: "velocity/\($0.name)", shape: $1.shape.extents, values: $1.array) }
    }

    public func restore(_ state: [NamedArray]) throws(TrainingError) {
        try restoreTensors(state, prefix: "velocity/", into: velocity, parameters: parameters)
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter): `w -= lr * decay * w` then the Adam
/// step with bias-corrected moments, as in PyTorch's `AdamW`.
public final class AdamW: Optimizer {
    public let parameters: [Parameter]
    /// First-moment decay.
    public var beta1: Float
    /// Second-moment decay.
    public var beta2: Float
    /// Added to the root of the second moment.
    public var epsilon: Float
    /// Decoupled decay coefficient.
    public var weightDecay: Float
    /// Updates applied so far (for bias correction).
    public private(set) var stepCount: Int = 0
    private let first: [Tensor]
    private let second: [Tensor]

    /// Creates the optimizer over `parameters`.
    public init(
        parameters: [Parameter], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) {
        self.parameters = parameters
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        first = parameters.map { Tensor($0.value.shape) }
        second = parameters.map { Tensor($0.value.shape) }
    }

    public func step(learningRate lr: Float) {
        stepCount += 1
        let c1 = 1 - Float(pow(Double(beta1), Double(stepCount)))
        let c2 = 1 - Float(pow(Double(beta2), Double(stepCount)))
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for k in parameters.indices {
            let p = parameters[k]
            let (w, g, m, v) = (p.value.pointer, p.gradient.pointer, first[k].pointer, second[k].pointer)
            let shrink = 1 - lr * (p.decays ? weightDecay : 0)
            let count = p.value.count
            let (step, invC2) = (lr / c1, 1 / c2)
            // Elementwise, so splitting large tensors in two changes no result.
            @inline(__always) func update(_ range: Range<Int>) {
                alav_adamw_update(w + range.lowerBound, g + range.lowerBound, m + range.lowerBound, v + range.lowerBound,
                                  range.count, b1, b2, shrink, step, invC2, eps)
            }
            if count >= 1 << 15 {
                let half = count / 16 * 8
                inTwoParts { part in update(part == 0 ? 0..<half : half..<count) }
            } else {
                update(0..<count)
            }
        }
    }

    public var state: [NamedArray] {
        [NamedArray(name: "step", shape: [1], values: [Float(stepCount)])]
            + zip(parameters, first).map { NamedArray(name: "m/\($0.name)", shape: $1.shape.extents, values: $1.array) }
            + zip(parameters, second).map { NamedArray(name: "v/\($0.name)", shape: $1.shape.extents, values: $1.array) }
    }

    public func restore(_ state: [NamedArray]) throws(TrainingError) {
        guard let s = state.first(where: { $0.name == "step" }), s.values.count == 1 else {
            throw .stateMismatch("optimizer state has no step counter")
        }
        try restoreTensors(state, prefix: "m/", into: first, parameters: parameters)
        try restoreTensors(state, prefix: "v/", into: second, parameters: parameters)
        stepCount = Int(s.values[0])
    }
}

/// Copies `prefix + parameter name` arrays from `state` into `tensors`.
func restoreTensors(_ state: [NamedArray], prefix: String, into tensors: [Tensor], parameters: [Parameter]) throws(TrainingError) {
    for (p, t) in zip(parameters, tensors) {
        let name = prefix + p.name
        guard let a = state.first(where: { $0.name == name }) else { throw .stateMismatch("missing '\(name)'") }
        guard a.values.count == t.count else {
            throw .stateMismatch("'\(name)' has \(a.values.count) values, expected \(t.count)")
        }
        a.values.withUnsafeBufferPointer { t.pointer.update(from: $0.baseAddress!, count: t.count) }
    }
}

/// Linear warm-up from `base/warmup` to `base`, then cosine decay to `minimum` at `totalSteps`.
public struct LearningRateSchedule: Sendable, Equatable {
    /// Peak rate.
    public var base: Float
    /// Steps of linear warm-up (0 for none).
    public var warmupSteps: Int
    /// Step at which the cosine reaches `minimum` (it stays there afterwards).
    public var totalSteps: Int
    /// Final rate.
    public var minimum: Float

    /// Creates a schedule; a constant rate is `warmupSteps: 0, totalSteps: 0`.
    public init(base: Float, warmupSteps: Int = 0, totalSteps: Int = 0, minimum: Float = 0) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimum = minimum
    }

    /// Throws naming the first value that is out of range: rates must be finite with
    /// `0 < base <= 10`, `0 <= minimum <= base`; step counts non-negative and warm-up within the run.
    public func validate() throws(TrainingError) {
        guard base.isFinite, base > 0, base <= 10 else { throw .invalidConfiguration("learning rate \(base) is outside (0, 10]") }
        guard minimum.isFinite, minimum >= 0, minimum <= base else {
            throw .invalidConfiguration("final learning rate \(minimum) is outside [0, \(base)]")
        }
        guard warmupSteps >= 0, totalSteps >= 0 else { throw .invalidConfiguration("step counts must not be negative") }
        guard totalSteps == 0 || warmupSteps <= totalSteps else {
            throw .invalidConfiguration("warm-up of \(warmupSteps) steps is longer than the \(totalSteps)-step schedule")
        }
    }

    /// The rate for 0-based step `step`.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let span = totalSteps - warmupSteps
        guard span > 0 else { return totalSteps == 0 ? base : minimum }
        let progress = min(Double(step - warmupSteps) / Double(span), 1)
        return minimum + (base - minimum) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}
