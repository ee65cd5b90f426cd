/// Batch normalisation over all axes but the channel axis (`[N, C]` or `[N, C, H, W]`), with a
/// learned scale and shift and running statistics for inference.
///
/// Batch statistics are computed in two passes (mean, then mean squared deviation) with
/// per-plane Float partial sums combined in Double.
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
    private let mean: Tensor
    private let inverseStd: Tensor
    private let sumA: Tensor
    private let sumB: Tensor
    private var accumulator: [Double]
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
        mean = Tensor(Shape(channels))
        inverseStd = Tensor(Shape(channels))
        sumA = Tensor(Shape(channels))
        sumB = Tensor(Shape(channels))
        accumulator = [Double](repeating: 0, count: channels)
    }

    public func outputShape(for s: Shape) -> Shape? { s.c == channels && s.rank >= 2 ? s : nil }

    /// Per-channel sums of `x - center[c]` (`squared`: of its square) over the batch and
    /// positions, in Double via per-plane (or per-row) Float partial sums.
    private func channelSums(_ x: UnsafePointer<Float>, n: Int, spatial: Int, center: UnsafePointer<Float>?, squared: Bool,
                             into out: Tensor) {
        let o = out.pointer
        accumulator.withUnsafeMutableBufferPointer { acc in
            for c in 0..<channels { acc[c] = 0 }
            if spatial == 1 {
                let a = sumA.pointer
                for i in 0..<n {
                    let row = x + i * channels
                    if let m = center {
                        for c in 0..<channels { let d = row[c] - m[c]; a[c] = squared ? d * d : d }
                    } else {
                        for c in 0..<channels { a[c] = row[c] }
                    }
                    for c in 0..<channels { acc[c] += Double(a[c]) }
                }
            } else {
                for i in 0..<n {
                    for c in 0..<channels {
                        let p = x + (i * channels + c) * spatial
                        let m = center?[c] ?? 0
                        let s = squared ? vectorSquaredDeviation(p, spatial, center: m) : vectorSum(p, spatial)
                        acc[c] += Double(s)
                    }
                }
            }
            for c in 0..<channels { o[c] = Float(acc[c]) }
        }
    }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        precondition(x.shape.c == channels, "BatchNorm expects \(channels) channels, got \(x.shape)")
        trainingMode = context.training
        let n = x.shape.n, spatial = x.shape.h * x.shape.w, m = n * spatial
        output.reshape(x.shape)
        normalized.reshape(x.shape)
        let (mu, inv) = (mean.pointer, inverseStd.pointer)
        if context.training {
            channelSums(x.pointer, n: n, spatial: spatial, center: nil, squared: false, into: mean)
            for c in 0..<channels { mu[c] /= Float(m) }
            channelSums(x.pointer, n: n, spatial: spatial, center: UnsafePointer(mu), squared: true, into: sumB)
            let momentum = self.momentum
            for c in 0..<channels {
                let variance = sumB[c] / Float(m)
                inv[c] = 1 / (variance + epsilon).squareRoot()
                let unbiased = m > 1 ? variance * Float(m) / Float(m - 1) : variance
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mu[c]
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased
            }
        } else {
            for c in 0..<channels {
                mu[c] = runningMean[c]
                inv[c] = 1 / (runningVariance[c] + epsilon).squareRoot()
            }
        }
        let (src, y, xh, g, b) = (x.pointer, output.pointer, normalized.pointer, scale.value.pointer, shift.value.pointer)
        if spatial == 1 {
            for i in 0..<n {
                let off = i * channels
                for c in 0..<channels {
                    let h = (src[off + c] - mu[c]) * inv[c]
                    xh[off + c] = h
                    y[off + c] = g[c] * h + b[c]
                }
            }
        } else {
            for i in 0..<n {
                for c in 0..<channels {
                    let off = (i * channels + c) * spatial
                    let (mc, ic, gc, bc) = (mu[c], inv[c], g[c], b[c])
                    for j in 0..<spatial {
                        let h = (src[off + j] - mc) * ic
                        xh[off + j] = h
                        y[off + j] = gc * h + bc
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.shape.n, spatial = dy.shape.h * dy.shape.w, m = Float(n * spatial)
        inputGradient.reshape(dy.shape)
        let (g, xh, dx) = (dy.pointer, normalized.pointer, inputGradient.pointer)
        // sumA = sum dy, sumB = sum dy * xhat, per channel.
        let (sg, sgh) = (sumA.pointer, sumB.pointer)
        sg.update(repeating: 0, count: channels)
        sgh.update(repeating: 0, count: channels)
        if spatial == 1 {
            for i in 0..<n {
                let off = i * channels
                for c in 0..<channels { sg[c] += g[off + c]; sgh[c] += g[off + c] * xh[off + c] }
            }
        } else {
            for i in 0..<n {
                for c in 0..<channels {
                    let off = (i * channels + c) * spatial
                    sg[c] += vectorSum(g + off, spatial)
                    sgh[c] += vectorDot(g + off, xh + off, spatial)
                }
            }
        }
        let (gamma, inv) = (scale.value.pointer, inverseStd.pointer)
        for c in 0..<channels {
            shift.gradient[c] += sg[c]
            scale.gradient[c] += sgh[c]
            // Reuse the sums as the per-channel terms of dx = k * (dy - mean(dy) - xhat * mean(dy * xhat)).
            if trainingMode { sg[c] /= m; sgh[c] /= m } else { sg[c] = 0; sgh[c] = 0 }
            mean[c] = gamma[c] * inv[c]
        }
        let k = mean.pointer
        if spatial == 1 {
            for i in 0..<n {
                let off = i * channels
                for c in 0..<channels { dx[off + c] = k[c] * (g[off + c] - sg[c] - xh[off + c] * sgh[c]) }
            }
        } else {
            for i in 0..<n {
                for c in 0..<channels {
                    let off = (i * channels + c) * spatial
                    let (kc, a, b) = (k[c], sg[c], sgh[c])
                    for j in 0..<spatial { dx[off + j] = kc * (g[off + j] - a - xh[off + j] * b) }
                }
            }
        }
        return inputGradient
    }

    public var parameters: [Parameter] { [scale, shift] }
    public var buffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }
}
