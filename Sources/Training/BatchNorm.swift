/// Batch normalisation over all axes but the channel axis (`[N, C]` or `[N, C, H, W]`), with a
/// learned scale and shift and running statistics for inference.
public final class BatchNorm: Layer {
    /// Channels (features).
    public let channels: Int
    /// Weight of the newest batch in the running statistics.
    public let momentum: Float
    /// Added to the variance.
    public let epsilon: Float
    /// Scale gamma, initialised to 1.
    public let scale: Parameter
    /// Shift beta, initialised to 0.
    public let shift: Parameter
    /// Running mean (inference).
    public let runningMean: Tensor
    /// Running unbiased variance (inference).
    public let runningVariance: Tensor
    private let output = Tensor()
    private let normalized = Tensor()
    private let inputGradient = Tensor()
    private let inverseStd: Tensor
    private var trainingMode = true

    /// Creates the layer.
    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        scale = Parameter(name: "scale", shape: Shape(channels), decays: false)
        scale.value.fill(1)
        shift = Parameter(name: "shift", shape: Shape(channels), decays: false)
        runningMean = Tensor(Shape(channels))
        runningVariance = Tensor(Shape(channels))
        runningVariance.fill(1)
        inverseStd = Tensor(Shape(channels))
    }

    public func outputShape(for s: Shape) -> Shape? { s.c == channels && s.rank >= 2 ? s : nil }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        precondition(x.shape.c == channels, "BatchNorm expects \(channels) channels, got \(x.shape)")
        trainingMode = context.training
        let n = x.shape.n, spatial = x.shape.h * x.shape.w, m = n * spatial
        output.reshape(x.shape)
        normalized.reshape(x.shape)
        let (src, y, xh) = (x.pointer, output.pointer, normalized.pointer)
        for c in 0..<channels {
            var mean: Float, inv: Float
            if context.training {
                var s = 0.0, ss = 0.0
                for i in 0..<n {
                    let p = src + (i * channels + c) * spatial
                    for j in 0..<spatial { let v = Double(p[j]); s += v; ss += v * v }
                }
                let mu = s / Double(m)
                let variance = max(ss / Double(m) - mu * mu, 0)
                mean = Float(mu)
                inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                let unbiased = m > 1 ? variance * Double(m) / Double(m - 1) : variance
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * Float(unbiased)
            } else {
                mean = runningMean[c]
                inv = 1 / (runningVariance[c] + epsilon).squareRoot()
            }
            inverseStd[c] = inv
            let (g, b) = (scale.value[c], shift.value[c])
            for i in 0..<n {
                let off = (i * channels + c) * spatial
                for j in 0..<spatial {
                    let h = (src[off + j] - mean) * inv
                    xh[off + j] = h
                    y[off + j] = g * h + b
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.shape.n, spatial = dy.shape.h * dy.shape.w, m = Float(n * spatial)
        inputGradient.reshape(dy.shape)
        let (g, xh, dx) = (dy.pointer, normalized.pointer, inputGradient.pointer)
        for c in 0..<channels {
            var sumG: Float = 0, sumGH: Float = 0
            for i in 0..<n {
                let off = (i * channels + c) * spatial
                for j in 0..<spatial { sumG += g[off + j]; sumGH += g[off + j] * xh[off + j] }
            }
            shift.gradient[c] += sumG
            scale.gradient[c] += sumGH
            let k = scale.value[c] * inverseStd[c]
            if trainingMode {
                let (meanG, meanGH) = (sumG / m, sumGH / m)
                for i in 0..<n {
                    let off = (i * channels + c) * spatial
                    for j in 0..<spatial { dx[off + j] = k * (g[off + j] - meanG - xh[off + j] * meanGH) }
                }
            } else {
                for i in 0..<n {
                    let off = (i * channels + c) * spatial
                    for j in 0..<spatial { dx[off + j] = k * g[off + j] }
                }
            }
        }
        return inputGradient
    }

    public var parameters: [Parameter] { [scale, shift] }
    public var buffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }
}
