/// Batch normalisation over all axes but the channel axis (`[N, C]`, i.e. BatchNorm1d, or
/// `[N, C, H, W]`, BatchNorm2d), with a learned scale and shift and running statistics for
/// inference.
///
/// Batch statistics are computed in two passes (mean, then mean squared deviation). Samples run
/// as parts on `Compute.threads` threads; each part sums its planes (Float partial sums per plane,
/// accumulated in Double) and the parts' sums are added in part order, so the statistics do not
/// depend on the thread count.
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
    /// Per-channel terms of the backward pass.
    private let termA: Tensor
    private let termB: Tensor
    /// `[parts, channels]` partial sums of one reduction, then of a second one.
    private var partialA: [Double] = []
    private var partialB: [Double] = []
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
        termA = Tensor(Shape(channels))
        termB = Tensor(Shape(channels))
    }

    public func outputShape(for s: Shape) -> Shape? { s.c == channels && s.rank >= 2 ? s : nil }

    /// Per-channel sums over the batch, part by part, then added in part order into `out`:
    /// `sum x - center` (`squared`: its square) when `second` is nil, else `sum x * second`.
    private func channelSums(
        _ x: UnsafePointer<Float>, n: Int, spatial: Int, center: UnsafePointer<Float>?, squared: Bool,
        times second: UnsafePointer<Float>? = nil, into out: UnsafeMutablePointer<Float>, partials: inout [Double]
    ) {
        let parts = Compute.sampleParts(n), channels = self.channels
        if partials.count < parts * channels { partials = [Double](repeating: 0, count: parts * channels) }
        partials.withUnsafeMutableBufferPointer { acc in
            let acc = acc.baseAddress!
            Compute.forEachPart(parts) { part in
                let a = acc + part * channels
                for c in 0..<channels { a[c] = 0 }
                for i in Compute.range(of: part, parts: parts, count: n) {
                    if spatial == 1 {
                        let row = x + i * channels
                        for c in 0..<channels {
                            let v: Float
                            if let y = second {
                                v = row[c] * y[i * channels + c]
                            } else if let m = center {
                                let d = row[c] - m[c]
                                v = squared ? d * d : d
                            } else {
                                v = row[c]
                            }
                            a[c] += Double(v)
                        }
                    } else {
                        for c in 0..<channels {
                            let off = (i * channels + c) * spatial
                            let s: Float
                            if let y = second {
                                s = vectorDot(x + off, y + off, spatial)
                            } else if squared {
                                s = vectorSquaredDeviation(x + off, spatial, center: center?[c] ?? 0)
                            } else {
                                s = vectorSum(x + off, spatial)
                            }
                            a[c] += Double(s)
                        }
                    }
                }
            }
            for c in 0..<channels {
                var total = 0.0
                for part in 0..<parts { total += acc[part * channels + c] }
                out[c] = Float(total)
            }
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
            channelSums(x.pointer, n: n, spatial: spatial, center: nil, squared: false, into: mu, partials: &partialA)
            for c in 0..<channels { mu[c] /= Float(m) }
            channelSums(x.pointer, n: n, spatial: spatial, center: UnsafePointer(mu), squared: true, into: termB.pointer,
                        partials: &partialB)
            let momentum = self.momentum
            for c in 0..<channels {
                let variance = termB[c] / Float(m)
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
        let channels = self.channels, parts = Compute.sampleParts(n)
        Compute.forEachPart(parts) { part in
            for i in Compute.range(of: part, parts: parts, count: n) {
                if spatial == 1 {
                    let off = i * channels
                    for c in 0..<channels {
                        let h = (src[off + c] - mu[c]) * inv[c]
                        xh[off + c] = h
                        y[off + c] = g[c] * h + b[c]
                    }
                    continue
                }
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
        // termA = sum dy, termB = sum dy * xhat, per channel.
        let (sg, sgh) = (termA.pointer, termB.pointer)
        channelSums(g, n: n, spatial: spatial, center: nil, squared: false, into: sg, partials: &partialA)
        channelSums(g, n: n, spatial: spatial, center: nil, squared: false, times: xh, into: sgh, partials: &partialB)
        let (gamma, inv) = (scale.value.pointer, inverseStd.pointer)
        for c in 0..<channels {
            shift.gradient[c] += sg[c]
            scale.gradient[c] += sgh[c]
            // Reuse the sums as the per-channel terms of dx = k * (dy - mean(dy) - xhat * mean(dy * xhat)).
            if trainingMode { sg[c] /= m; sgh[c] /= m } else { sg[c] = 0; sgh[c] = 0 }
            mean[c] = gamma[c] * inv[c]
        }
        let k = mean.pointer
        let channels = self.channels, parts = Compute.sampleParts(n)
        Compute.forEachPart(parts) { part in
            for i in Compute.range(of: part, parts: parts, count: n) {
                if spatial == 1 {
                    let off = i * channels
                    for c in 0..<channels { dx[off + c] = k[c] * (g[off + c] - sg[c] - xh[off + c] * sgh[c]) }
                    continue
                }
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
