/// Batch normalisation over all axes but the channel axis (`[N, C]`, i.e. BatchNorm1d, or
/// `[N, C, H, W]`, BatchNorm2d), with a learned scale and shift, running statistics for
/// inference and optionally a ReLU applied to its output (`relu: true`, one pass instead of two).
///
/// Batch statistics: each `[H, W]` plane's mean and squared deviation are computed while the
/// plane is in cache (two passes over it, Float sums) and merged in Double (Chan et al.'s pairwise
/// update); rows of `[N, C]` are summed in two passes in Double. Samples run as parts on
/// `Compute.threads` threads and the parts are merged in part order, so the statistics do not
/// depend on the thread count. The normalised input is recomputed in the backward pass rather
/// than stored.
public final class BatchNorm: Layer {
    /// Channels (features).
    public let channels: Int
    /// Weight of the newest batch in the running statistics.
    public let momentum: Float
    /// Added to the variance.
    public let epsilon: Float
    /// Whether a ReLU follows the affine map.
    public let relu: Bool
    /// Scale gamma, initialised to 1.
    public let scale: Parameter
    /// Shift beta, initialised to 0.
    public let shift: Parameter
    /// Running mean (inference).
    public let runningMean: Tensor
    /// Running unbiased variance (inference).
    public let runningVariance: Tensor
    private let output = Tensor()
    private let inputGradient = Tensor()
    private let mean: Tensor
    private let inverseStd: Tensor
    private let factor: Tensor
    private let termA: Tensor
    private let termB: Tensor
    /// `[parts, channels]` accumulators: counts or first sums, and means or second sums, and M2.
    private var partial: [Double] = []
    private var input: Tensor?
    private var trainingMode = true

    /// Creates the layer.
    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, relu: Bool = false) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        self.relu = relu
        scale = Parameter(name: "scale", shape: Shape(channels), decays: false)
        scale.value.fill(1)
        shift = Parameter(name: "shift", shape: Shape(channels), decays: false)
        runningMean = Tensor(Shape(channels))
        runningVariance = Tensor(Shape(channels))
        runningVariance.fill(1)
        mean = Tensor(Shape(channels))
        inverseStd = Tensor(Shape(channels))
        factor = Tensor(Shape(channels))
        termA = Tensor(Shape(channels))
        termB = Tensor(Shape(channels))
    }

    public func outputShape(for s: Shape) -> Shape? { s.c == channels && s.rank >= 2 ? s : nil }

    /// Per-channel batch mean and biased variance of `x` into `mean` and `termB`.
    private func statistics(_ x: UnsafePointer<Float>, n: Int, spatial: Int) {
        let parts = Compute.sampleParts(n), channels = self.channels
        if partial.count < 3 * parts * channels { partial = [Double](repeating: 0, count: 3 * parts * channels) }
        let (mu, variance) = (mean.pointer, termB.pointer)
        partial.withUnsafeMutableBufferPointer { acc in
            let (count, avg, m2) = (acc.baseAddress!, acc.baseAddress! + parts * channels, acc.baseAddress! + 2 * parts * channels)
            Compute.forEachPart(parts) { part in
                let (c0, a0, q0) = (count + part * channels, avg + part * channels, m2 + part * channels)
                for c in 0..<channels { c0[c] = 0; a0[c] = 0; q0[c] = 0 }
                for i in Compute.range(of: part, parts: parts, count: n) {
                    for c in 0..<channels {
                        let plane = x + (i * channels + c) * spatial
                        let planeMean: Double, planeM2: Double
                        if spatial == 1 {
                            planeMean = Double(plane[0])
                            planeM2 = 0
                        } else {
                            planeMean = Double(vectorSum(plane, spatial)) / Double(spatial)
                            let center = Float(planeMean)
                            let d = Double(center) - planeMean
                            // sum (x - mean)^2 = sum (x - center)^2 - n (mean - center)^2
                            planeM2 = max(0, Double(vectorSquaredDeviation(plane, spatial, center: center)) - Double(spatial) * d * d)
                        }
                        merge(&c0[c], &a0[c], &q0[c], Double(spatial), planeMean, planeM2)
                    }
                }
            }
            for c in 0..<channels {
                var nA = 0.0, mA = 0.0, qA = 0.0
                for part in 0..<parts {
                    let k = part * channels + c
                    merge(&nA, &mA, &qA, count[k], avg[k], m2[k])
                }
                mu[c] = Float(mA)
                variance[c] = Float(qA / max(nA, 1))
            }
        }
    }

    /// Chan et al.'s update of (count, mean, M2) with another group's (count, mean, M2).
    @inline(__always)
    private func merge(_ n: inout Double, _ m: inout Double, _ q: inout Double, _ nb: Double, _ mb: Double, _ qb: Double) {
        guard nb > 0 else { return }
        let total = n + nb
        let delta = mb - m
        m += delta * nb / total
        q += qb + delta * delta * n * nb / total
        n = total
    }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        precondition(x.shape.c == channels, "BatchNorm expects \(channels) channels, got \(x.shape)")
        trainingMode = context.training
        input = x
        let n = x.shape.n, spatial = x.shape.h * x.shape.w, m = n * spatial
        output.reshape(x.shape)
        let (mu, inv) = (mean.pointer, inverseStd.pointer)
        if context.training {
            statistics(x.pointer, n: n, spatial: spatial)
            let momentum = self.momentum
            for c in 0..<channels {
                let variance = termB[c]
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
        // y = a * x + b per channel, with a = gamma / std and b = beta - a * mean.
        let (a, b, g, s) = (factor.pointer, termA.pointer, scale.value.pointer, shift.value.pointer)
        for c in 0..<channels {
            a[c] = g[c] * inv[c]
            b[c] = s[c] - a[c] * mu[c]
        }
        let (src, y) = (x.pointer, output.pointer)
        let channels = self.channels, parts = Compute.sampleParts(n), relu = self.relu
        Compute.forEachPart(parts) { part in
            for i in Compute.range(of: part, parts: parts, count: n) {
                if spatial == 1 {
                    let off = i * channels
                    for c in 0..<channels {
                        let v = a[c] * src[off + c] + b[c]
                        y[off + c] = relu ? max(v, 0) : v
                    }
                    continue
                }
                for c in 0..<channels {
                    let off = (i * channels + c) * spatial
                    let (ac, bc) = (SIMD8<Float>(repeating: a[c]), SIMD8<Float>(repeating: b[c]))
                    var j = 0
                    while j + 8 <= spatial {
                        let v = ac * load8(src + off, j) + bc
                        store8(relu ? v.replacing(with: 0, where: v .< 0) : v, y + off, j)
                        j += 8
                    }
                    while j < spatial {
                        let v = a[c] * src[off + j] + b[c]
                        y[off + j] = relu ? max(v, 0) : v
                        j += 1
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("backward before forward") }
        let n = dy.shape.n, spatial = dy.shape.h * dy.shape.w, m = Double(n * spatial)
        inputGradient.reshape(dy.shape)
        let (g, xp, yp, dx) = (dy.pointer, x.pointer, output.pointer, inputGradient.pointer)
        let (mu, inv) = (mean.pointer, inverseStd.pointer)
        let channels = self.channels, parts = Compute.sampleParts(n), relu = self.relu
        // Per channel: sum dy' and sum dy' * xhat, where dy' is dy through the ReLU and
        // xhat = (x - mean) * inv.
        if partial.count < 2 * parts * channels { partial = [Double](repeating: 0, count: 2 * parts * channels) }
        let (sg, sgh) = (termA.pointer, termB.pointer)
        partial.withUnsafeMutableBufferPointer { acc in
            let (s1, s2) = (acc.baseAddress!, acc.baseAddress! + parts * channels)
            Compute.forEachPart(parts) { part in
                let (a1, a2) = (s1 + part * channels, s2 + part * channels)
                for c in 0..<channels { a1[c] = 0; a2[c] = 0 }
                for i in Compute.range(of: part, parts: parts, count: n) {
                    for c in 0..<channels {
                        let off = (i * channels + c) * (spatial == 1 ? 1 : spatial)
                        let (mc, ic) = (SIMD8<Float>(repeating: mu[c]), SIMD8<Float>(repeating: inv[c]))
                        var sum = SIMD8<Float>.zero, dot = SIMD8<Float>.zero
                        var tail: Float = 0, tailDot: Float = 0
                        if spatial == 1 {
                            let k = i * channels + c
                            let d = relu && yp[k] <= 0 ? 0 : g[k]
                            tail = d
                            tailDot = d * ((xp[k] - mu[c]) * inv[c])
                        } else {
                            var j = 0
                            if relu {
                                while j + 8 <= spatial {
                                    let d = SIMD8<Float>.zero.replacing(with: load8(g + off, j), where: load8(yp + off, j) .> 0)
                                    sum += d
                                    dot += d * ((load8(xp + off, j) - mc) * ic)
                                    j += 8
                                }
                            } else {
                                while j + 8 <= spatial {
                                    let d = load8(g + off, j)
                                    sum += d
                                    dot += d * ((load8(xp + off, j) - mc) * ic)
                                    j += 8
                                }
                            }
                            while j < spatial {
                                let d = relu && yp[off + j] <= 0 ? 0 : g[off + j]
                                tail += d
                                tailDot += d * ((xp[off + j] - mu[c]) * inv[c])
                                j += 1
                            }
                        }
                        a1[c] += Double(sum.sum() + tail)
                        a2[c] += Double(dot.sum() + tailDot)
                    }
                }
            }
            for c in 0..<channels {
                var t1 = 0.0, t2 = 0.0
                for part in 0..<parts { t1 += s1[part * channels + c]; t2 += s2[part * channels + c] }
                shift.gradient[c] += Float(t1)
                scale.gradient[c] += Float(t2)
                // dx = k * (dy' - mean(dy') - xhat * mean(dy' * xhat)); in inference the batch terms vanish.
                sg[c] = trainingMode ? Float(t1 / m) : 0
                sgh[c] = trainingMode ? Float(t2 / m) : 0
                factor[c] = scale.value[c] * inv[c]
            }
        }
        let k = factor.pointer
        Compute.forEachPart(parts) { part in
            for i in Compute.range(of: part, parts: parts, count: n) {
                if spatial == 1 {
                    let off = i * channels
                    for c in 0..<channels {
                        let d = relu && yp[off + c] <= 0 ? 0 : g[off + c]
                        dx[off + c] = k[c] * (d - sg[c] - (xp[off + c] - mu[c]) * inv[c] * sgh[c])
                    }
                    continue
                }
                for c in 0..<channels {
                    let off = (i * channels + c) * spatial
                    let (kc, a, b, mc, ic) = (k[c], sg[c], sgh[c], mu[c], inv[c])
                    let (k8, a8, b8, m8, i8) = (SIMD8(repeating: kc), SIMD8(repeating: a), SIMD8(repeating: b),
                                                SIMD8(repeating: mc), SIMD8(repeating: ic))
                    var j = 0
                    if relu {
                        while j + 8 <= spatial {
                            let d = SIMD8<Float>.zero.replacing(with: load8(g + off, j), where: load8(yp + off, j) .> 0)
                            store8(k8 * (d - a8 - (load8(xp + off, j) - m8) * i8 * b8), dx + off, j)
                            j += 8
                        }
                    } else {
                        while j + 8 <= spatial {
                            store8(k8 * (load8(g + off, j) - a8 - (load8(xp + off, j) - m8) * i8 * b8), dx + off, j)
                            j += 8
                        }
                    }
                    while j < spatial {
                        let d = relu && yp[off + j] <= 0 ? 0 : g[off + j]
                        dx[off + j] = kc * (d - a - (xp[off + j] - mc) * ic * b)
                        j += 1
                    }
                }
            }
        }
        return inputGradient
    }

    public var parameters: [Parameter] { [scale, shift] }
    public var buffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }
}
