import AlaverifyBase
import Foundation
import ScoreMetrics

/// What a forward pass needs besides its input: the mode and the random stream for dropout.
public struct ForwardContext: Sendable {
    /// Training mode (batch statistics, dropout active) or inference mode.
    public var training: Bool
    /// The generator for every random choice made during the pass.
    public var rng: SeededGenerator

    /// Creates a context.
    public init(training: Bool, rng: SeededGenerator = SeededGenerator(seed: 0)) {
        self.training = training
        self.rng = rng
    }
}

/// A differentiable layer that owns its parameters and its output and gradient buffers.
///
/// `forward` returns a tensor owned by the layer that stays valid until the next `forward`;
/// `backward` takes the gradient with respect to that output, accumulates parameter gradients
/// and returns the gradient with respect to the last input (also owned by the layer).
/// Layers are classes because they own reusable buffers.
public protocol Layer: AnyObject {
    /// Computes the output for `input`; the layer may keep a reference to `input` for `backward`.
    func forward(_ input: Tensor, _ context: inout ForwardContext) -> Tensor
    /// Back-propagates `outputGradient` through the last `forward`.
    func backward(_ outputGradient: Tensor) -> Tensor
    /// Accumulates parameter gradients only; the input gradient is not needed (first layers).
    func backwardParameters(_ outputGradient: Tensor)
    /// The trainable parameters, in a fixed order.
    var parameters: [Parameter] { get }
    /// Non-trainable state that belongs in a checkpoint (e.g. BatchNorm running statistics).
    var buffers: [(name: String, tensor: Tensor)] { get }
    /// The output shape for an input shape, or nil when the input shape is not accepted.
    func outputShape(for input: Shape) -> Shape?
}

extension Layer {
    public func backwardParameters(_ outputGradient: Tensor) { _ = backward(outputGradient) }
    public var parameters: [Parameter] { [] }
    public var buffers: [(name: String, tensor: Tensor)] { [] }
    public func outputShape(for input: Shape) -> Shape? { input }
}

/// Layers applied one after the other.
public final class Sequential: Layer {
    /// The layers in order.
    public let layers: [any Layer]

    /// Creates the chain and names the parameters and buffers `<index>.<name>`.
    public init(_ layers: [any Layer]) {
        self.layers = layers
        for (i, layer) in layers.enumerated() {
            for p in layer.parameters { p.name = "\(i).\(p.name)" }
        }
    }

    public func forward(_ input: Tensor, _ context: inout ForwardContext) -> Tensor {
        var x = input
        for layer in layers { x = layer.forward(x, &context) }
        return x
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var g = outputGradient
        for layer in layers.reversed() { g = layer.backward(g) }
        return g
    }

    /// Back-propagates only as far as the first layer with parameters, skipping input gradients
    /// nobody needs (the first Linear or Conv2d's is the largest product of a step).
    public func backwardParameters(_ outputGradient: Tensor) {
        guard let first = firstTrainable else { return }
        var g = outputGradient
        var i = layers.count - 1
        while i > first {
            g = layers[i].backward(g)
            i -= 1
        }
        layers[first].backwardParameters(g)
    }

    private lazy var firstTrainable: Int? = layers.firstIndex { !$0.parameters.isEmpty }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    public var buffers: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { i, l in l.buffers.map { ("\(i).\($0.name)", $0.tensor) } }
    }

    public func outputShape(for input: Shape) -> Shape? {
        var s = input
        for layer in layers {
            guard let next = layer.outputShape(for: s) else { return nil }
            s = next
        }
        return s
    }
}

extension SeededGenerator {
    /// A standard normal variate (Box-Muller on two 53-bit uniforms).
    public mutating func normal() -> Double {
        let u1 = 1 - unit()
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
