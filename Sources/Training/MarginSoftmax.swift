import AlaverifyBase
import Foundation
import ScoreMetrics

/// A margin softmax over the training identities with learned, L2-normalised class proxies:
///
///     L = mean_i CE(softmax(s * z_i), y_i),  z_ij = cos_ij for j != y_i,
///     z_iy = cos(theta_iy + mA) - mC,  theta = acos(cos)
///
/// (CosFace for mA = 0, ArcFace for mC = 0; `theta + mA` is capped at pi), plus, with an
/// `ImpostorTail`, `tail_weight * tail` (the mean of the hardest impostor similarities of the
/// batch and its cross-batch memory).
/// Phi = [scale s, cos_margin mC, angular_margin mA] (+ [tail_weight]); initially CosFace s = 30,
/// m = 0.35 and no tail. Labels must be dense class indices `0..<classes`.
public final class MarginSoftmaxLoss: VerificationLoss {
    public let family: String
    /// Number of training identities.
    public let classes: Int
    /// Embedding size.
    public let dimension: Int
    public var parameterValues: LossParameterValues
    /// Class proxies `[classes, dimension]` (normalised on the fly).
    public let proxies: Parameter
    private let normalized = Tensor()
    private let norms = Tensor()
    private let cosines = Tensor()
    private let cosineGradient = Tensor()
    private let proxyGradient = Tensor()
    /// The impostor tail term, if any.
    public let tail: ImpostorTail?
    /// The tail's value at the last `compute` (nil without a tail).
    public private(set) var lastTail: Float?

    /// Creates the loss with proxies drawn from `rng`.
    public init(classes: Int, dimension: Int, scale: Float = 30, cosMargin: Float = 0.35, angularMargin: Float = 0,
                tail: ImpostorTail? = nil, tailWeight: Float = 0, rng: inout SeededGenerator) {
        precondition(classes > 1 && dimension > 0)
        self.classes = classes
        self.dimension = dimension
        self.tail = tail
        var d = [
            LossParameter(name: "scale", range: 1...64, step: 1, initial: scale),
            LossParameter(name: "cos_margin", range: 0...0.8, step: 0.05, initial: cosMargin),
            LossParameter(name: "angular_margin", range: 0...0.8, step: 0.05, initial: angularMargin),
        ]
        if tail != nil { d.append(LossParameter(name: "tail_weight", range: 0...32, step: 1, initial: tailWeight)) }
        parameterValues = LossParameterValues(d)
        family = tail.map { "margin-softmax+tail(q=\($0.fraction),M=\($0.memory.capacity))" } ?? "margin-softmax"
        proxies = Parameter(name: "loss.proxies", shape: Shape(classes, dimension), decays: false)
        for i in 0..<proxies.value.count { proxies.value[i] = Float(rng.normal()) }
    }

    public var trainableParameters: [Parameter] { [proxies] }

    public func compute(embeddings e: Tensor, labels: [Int32], gradient: Tensor) -> Float {
        let n = e.shape.n, d = e.shape.rowSize, k = classes
        precondition(d == dimension, "margin softmax expects \(dimension)-d embeddings, got \(d)")
        let phi = parameterValues.values
        let s = phi[0], mC = phi[1], mA = phi[2]
        normalized.reshape(Shape(k, d))
        norms.reshape(Shape(k))
        let (w, wn) = (proxies.value.pointer, normalized.pointer)
        for c in 0..<k {
            var ss: Float = 0
            for j in 0..<d { ss += w[c * d + j] * w[c * d + j] }
            let norm = max(ss.squareRoot(), 1e-12)
            norms[c] = norm
            for j in 0..<d { wn[c * d + j] = w[c * d + j] / norm }
        }
        cosines.reshape(Shape(n, k))
        cosineGradient.reshape(Shape(n, k))
        BLAS.gemm(transB: true, m: n, n: k, k: d, e.pointer, lda: d, wn, ldb: d, cosines.pointer, ldc: k)
        let (cos, dcos) = (cosines.pointer, cosineGradient.pointer)
        var total = 0.0
        let invN = 1 / Float(n)
        labels.withUnsafeBufferPointer { y in
            for i in 0..<n {
                let t = Int(y[i])
                precondition(t >= 0 && t < k, "label \(t) outside 0..<\(k)")
                let row = cos + i * k, g = dcos + i * k
                let c = min(max(row[t], -1), 1)
                var targetValue = c - mC, targetSlope: Float = 1
                if mA != 0 {
                    let theta = acosf(c)
                    if theta + mA < Float.pi {
                        targetValue = cosf(theta + mA) - mC
                        targetSlope = sinf(theta + mA) / max(sinf(theta), 1e-6)
                    } else {
                        targetValue = -1 - mC
                        targetSlope = 0
                    }
                }
                var maxLogit = s * targetValue
                for j in 0..<k where j != t { maxLogit = max(maxLogit, s * row[j]) }
                var sum: Float = 0
                for j in 0..<k {
                    let z = j == t ? s * targetValue : s * row[j]
                    let p = expf(z - maxLogit)
                    g[j] = p
                    sum += p
                }
                let logSum = logf(sum) + maxLogit
                total += Double(logSum - s * targetValue)
                for j in 0..<k {
                    let p = g[j] / sum
                    let dz = (p - (j == t ? 1 : 0)) * invN
                    g[j] = dz * s * (j == t ? targetSlope : 1)
                }
            }
        }
        gradient.reshape(Shape(n, d))
        BLAS.gemm(m: n, n: d, k: k, dcos, lda: k, wn, ldb: d, gradient.pointer, ldc: d)
        proxyGradient.reshape(Shape(k, d))
        BLAS.gemm(transA: true, m: k, n: d, k: n, dcos, lda: k, e.pointer, ldb: d, proxyGradient.pointer, ldc: d)
        let (dwn, dw) = (proxyGradient.pointer, proxies.gradient.pointer)
        for c in 0..<k {
            var dot: Float = 0
            for j in 0..<d { dot += wn[c * d + j] * dwn[c * d + j] }
            let inv = 1 / norms[c]
            for j in 0..<d { dw[c * d + j] += (dwn[c * d + j] - wn[c * d + j] * dot) * inv }
        }
        var value = Float(total / Double(n))
        if let tail {
            let weight = phi[3]
            let t = tail.compute(embeddings: e, labels: labels, weight: weight, gradient: gradient)
            lastTail = t
            value += weight * t
        }
        return value
    }

    public func endStep(embeddings: Tensor, labels: [Int32]) {
        tail?.memory.enqueue(embeddings, labels: labels)
    }

    public var state: (floats: [NamedArray], integers: [NamedIntegers]) { tail?.memory.state ?? ([], []) }

    public func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError) {
        try tail?.memory.restore(floats: floats, integers: integers)
    }
}
