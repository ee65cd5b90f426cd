import Foundation

/// `max(x, 0)` elementwise.
public final class ReLU: Layer {
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// Creates the layer.
    public init() {}

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        output.reshape(x.shape)
        let (src, dst) = (x.pointer, output.pointer)
        Compute.forEachRange(x.count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = load8(src, i)
                store8(v.replacing(with: 0, where: v .< 0), dst, i)
                i += 8
            }
            while i < r.upperBound { dst[i] = max(src[i], 0); i += 1 }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(dy.shape)
        let (y, g, dx) = (output.pointer, dy.pointer, inputGradient.pointer)
        Compute.forEachRange(dy.count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                store8(SIMD8<Float>.zero.replacing(with: load8(g, i), where: load8(y, i) .> 0), dx, i)
                i += 8
            }
            while i < r.upperBound { dx[i] = y[i] > 0 ? g[i] : 0; i += 1 }
        }
        return inputGradient
    }
}

/// The Gaussian error linear unit `x * Phi(x)` with the exact normal CDF (erf form).
public final class GELU: Layer {
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var input: Tensor?

    /// Creates the layer.
    public init() {}

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        input = x
        output.reshape(x.shape)
        let (src, dst) = (x.pointer, output.pointer)
        for i in 0..<x.count {
            let v = src[i]
            dst[i] = 0.5 * v * (1 + erff(v * 0.70710678))
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("backward before forward") }
        inputGradient.reshape(dy.shape)
        let (src, g, dx) = (x.pointer, dy.pointer, inputGradient.pointer)
        for i in 0..<dy.count {
            let v = src[i]
            let cdf = 0.5 * (1 + erff(v * 0.70710678))
            let pdf = 0.39894228 * expf(-0.5 * v * v)
            dx[i] = g[i] * (cdf + v * pdf)
        }
        return inputGradient
    }
}

/// The fixed affine map `y = x * scale + shift`, e.g. from raw pixel values to about [-1, 1].
public final class InputNormalization: Layer {
    /// Multiplier.
    public let scale: Float
    /// Offset added after scaling.
    public let shift: Float
    private let output = Tensor()
    private let inputGradient = Tensor()

    /// Maps `(x - mean) / std`.
    public init(mean: Float, std: Float) {
        precondition(std > 0, "std must be positive")
        scale = 1 / std
        shift = -mean / std
    }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        output.reshape(x.shape)
        let (src, dst, scale, shift) = (x.pointer, output.pointer, scale, shift)
        Compute.forEachRange(x.count) { r in
            for i in r { dst[i] = src[i] * scale + shift }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(dy.shape)
        let (g, dx) = (dy.pointer, inputGradient.pointer)
        for i in 0..<dy.count { dx[i] = g[i] * scale }
        return inputGradient
    }
}

/// Scales each row to unit Euclidean norm: `y = x / max(|x|, epsilon)`.
public final class L2Normalize: Layer {
    /// Norms below this are treated as this value.
    public let epsilon: Float
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var norms: [Float] = []

    /// Creates the layer.
    public init(epsilon: Float = 1e-6) { self.epsilon = epsilon }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        output.reshape(x.shape)
        let (n, d) = (x.shape.n, x.shape.rowSize)
        if norms.count < n { norms = Array(repeating: 0, count: n) }
        for r in 0..<n {
            let src = x.pointer + r * d, dst = output.pointer + r * d
            let norm = max(vectorDot(src, src, d).squareRoot(), epsilon)
            norms[r] = norm
            let inv = 1 / norm
            for j in 0..<d { dst[j] = src[j] * inv }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(dy.shape)
        let (n, d) = (dy.shape.n, dy.shape.rowSize)
        for r in 0..<n {
            let y = output.pointer + r * d, g = dy.pointer + r * d, dx = inputGradient.pointer + r * d
            let inv = 1 / norms[r]
            if norms[r] <= epsilon {
                for j in 0..<d { dx[j] = g[j] * inv }
                continue
            }
            let dot = vectorDot(y, g, d)
            for j in 0..<d { dx[j] = (g[j] - y[j] * dot) * inv }
        }
        return inputGradient
    }
}

/// Zeroes each element with probability `rate` in training and scales survivors by `1/(1-rate)`.
public final class Dropout: Layer {
    /// The drop probability in [0, 1).
    public let rate: Float
    private let output = Tensor()
    private let mask = Tensor()
    private let inputGradient = Tensor()
    private var active = false

    /// Creates the layer.
    public init(rate: Float) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1)")
        self.rate = rate
    }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        active = context.training && rate > 0
        guard active else { return x }
        output.reshape(x.shape)
        mask.reshape(x.shape)
        let keep = 1 / (1 - rate)
        let threshold = Double(rate)
        let (src, dst, m) = (x.pointer, output.pointer, mask.pointer)
        for i in 0..<x.count {
            let v: Float = context.rng.unit() < threshold ? 0 : keep
            m[i] = v
            dst[i] = src[i] * v
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard active else { return dy }
        inputGradient.reshape(dy.shape)
        let (g, m, dx) = (dy.pointer, mask.pointer, inputGradient.pointer)
        for i in 0..<dy.count { dx[i] = g[i] * m[i] }
        return inputGradient
    }
}

/// Reshapes `[N, ...]` to `[N, rowSize]`.
public final class Flatten: Layer {
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var inputShape = Shape(0)

    /// Creates the layer.
    public init() {}

    public func outputShape(for s: Shape) -> Shape? { Shape(s.n, s.rowSize) }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        inputShape = x.shape
        output.reshape(Shape(x.shape.n, x.shape.rowSize))
        output.pointer.update(from: x.pointer, count: x.count)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(inputShape)
        inputGradient.pointer.update(from: dy.pointer, count: dy.count)
        return inputGradient
    }
}
