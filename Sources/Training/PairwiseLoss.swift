/// Per-bin pair counts and loss mass of the last batch (state features for a controller).
public struct PairStatistics: Sendable, Equatable {
    /// Genuine pairs whose similarity fell in bin b.
    public var genuineCount: [Int]
    /// Impostor pairs whose similarity fell in bin b.
    public var impostorCount: [Int]
    /// Weighted loss of the genuine pairs in bin b (before class averaging).
    public var genuineLoss: [Float]
    /// Weighted loss of the impostor pairs in bin b (before class averaging).
    public var impostorLoss: [Float]

    init(bins: Int) {
        genuineCount = Array(repeating: 0, count: bins)
        impostorCount = Array(repeating: 0, count: bins)
        genuineLoss = Array(repeating: 0, count: bins)
        impostorLoss = Array(repeating: 0, count: bins)
    }

    mutating func reset() {
        for b in genuineCount.indices { genuineCount[b] = 0; impostorCount[b] = 0; genuineLoss[b] = 0; impostorLoss[b] = 0 }
    }

    /// Adds another set of counts and loss masses bin by bin.
    mutating func add(_ other: PairStatistics) {
        for b in genuineCount.indices {
            genuineCount[b] += other.genuineCount[b]
            impostorCount[b] += other.impostorCount[b]
            genuineLoss[b] += other.genuineLoss[b]
            impostorLoss[b] += other.impostorLoss[b]
        }
    }
}

/// The loss sums of one part of the pairs: class sums in Double, pair counts, per-bin statistics.
struct PairSums {
    var genuine = 0.0, impostor = 0.0
    var genuinePairs = 0, impostorPairs = 0
    var statistics: PairStatistics

    init(bins: Int) { statistics = PairStatistics(bins: bins) }

    mutating func reset() {
        (genuine, impostor, genuinePairs, impostorPairs) = (0, 0, 0, 0)
        statistics.reset()
    }
}

/// A parametric pairwise loss over the cosine similarities of all pairs in the batch (and of
/// the batch against a cross-batch memory):
///
///     L = 2 beta / |G| * sum_{G} wG[bin(s)] * softplus(alpha * (mG - s))
///       + 2 (1 - beta) / |I| * sum_{I} wI[bin(s)] * softplus(alpha * (s - mI))
///
/// over genuine pairs G and impostor pairs I, with `B` equal-width similarity bins on [-1, 1]
/// (`bin(s) = clamp(floor((s + 1) / 2 * B), 0, B - 1)`). The bin weights are importance
/// weights: piecewise constant in s, they do not contribute to the gradient.
///
/// Phi = [scale alpha, genuine_margin mG, impostor_margin mI, balance beta,
/// genuine_weight[0..<B], impostor_weight[0..<B]]. The initial values (alpha 2, margins 0.5,
/// beta 0.5, weights 1) give the class-balanced binomial deviance
/// `mean_G log(1 + exp(-2 (s - 0.5))) + mean_I log(1 + exp(2 (s - 0.5)))` (Yi et al. 2014 with
/// per-class averaging as in Ustinova & Lempitsky 2016).
public final class PairwiseBinnedLoss: VerificationLoss {
    public let family: String
    /// Number of similarity bins per class.
    public let bins: Int
    public var parameterValues: LossParameterValues
    /// The cross-batch memory, if any.
    public let memory: CrossBatchMemory?
    /// Pair counts and loss mass per bin from the last `compute` (batch and memory pairs).
    public private(set) var statistics: PairStatistics
    private let similarities = Tensor()
    private let coefficients = Tensor()
    /// The batch's pairs are split into two fixed parts (the results do not depend on the thread count).
    private var parts: [PairSums]
    private let memorySimilarities = Tensor()
    private let memoryCoefficients = Tensor()

    /// Index of the scale in Phi.
    public static let scaleIndex = 0
    /// Index of the genuine margin in Phi.
    public static let genuineMarginIndex = 1
    /// Index of the impostor margin in Phi.
    public static let impostorMarginIndex = 2
    /// Index of the genuine/impostor balance in Phi.
    public static let balanceIndex = 3
    /// Index of genuine bin weight b in Phi.
    public func genuineWeightIndex(_ b: Int) -> Int { 4 + b }
    /// Index of impostor bin weight b in Phi.
    public func impostorWeightIndex(_ b: Int) -> Int { 4 + bins + b }

    /// Creates the loss at binomial deviance with `scale` and `margin` (defaults 2 and 0.5);
    /// `memoryCapacity > 0` adds a cross-batch memory of that many embeddings.
    public init(bins: Int = 8, scale: Float = 2, margin: Float = 0.5, memoryCapacity: Int = 0) {
        precondition(bins > 0, "bins must be positive")
        self.bins = bins
        family = "pairwise-binned(B=\(bins))"
        var d = [
            LossParameter(name: "scale", range: 0.5...64, step: 0.5, initial: scale),
            LossParameter(name: "genuine_margin", range: -1...1, step: 0.05, initial: margin),
            LossParameter(name: "impostor_margin", range: -1...1, step: 0.05, initial: margin),
            LossParameter(name: "balance", range: 0.05...0.95, step: 0.05, initial: 0.5),
        ]
        for b in 0..<bins { d.append(LossParameter(name: "genuine_weight[\(b)]", range: 0...4, step: 0.1, initial: 1)) }
        for b in 0..<bins { d.append(LossParameter(name: "impostor_weight[\(b)]", range: 0...4, step: 0.1, initial: 1)) }
        parameterValues = LossParameterValues(d)
        memory = memoryCapacity > 0 ? CrossBatchMemory(capacity: memoryCapacity) : nil
        statistics = PairStatistics(bins: bins)
        parts = [PairSums(bins: bins), PairSums(bins: bins)]
    }

    /// The similarities of bin `b`: `[-1 + 2b/B, -1 + 2(b+1)/B)` (the last bin includes 1).
    public func similarityRange(ofBin b: Int) -> Range<Float> {
        let w = 2 / Float(bins)
        return (-1 + Float(b) * w)..<(b == bins - 1 ? Float(1).nextUp : -1 + Float(b + 1) * w)
    }

    /// The bin whose weight is Phi component `index`, or nil for the scalar components.
    public func bin(ofParameter index: Int) -> (bin: Int, genuine: Bool)? {
        guard index >= 4, index < 4 + 2 * bins else { return nil }
        return index < 4 + bins ? (index - 4, true) : (index - 4 - bins, false)
    }

    /// The bin of similarity `s`.
    @inline(__always) public func bin(_ s: Float) -> Int { Self.bin(s, bins: bins) }

    /// The bin of similarity `s` among `bins` equal bins of [-1, 1] (the last one includes 1;
    /// values outside are clamped): the loss's bins, and the bins a run's validation counts.
    @inline(__always) public static func bin(_ s: Float, bins: Int) -> Int {
        let b = Int(((s + 1) * 0.5 * Float(bins)).rounded(.down))
        return min(max(b, 0), bins - 1)
    }

    public func compute(embeddings e: Tensor, labels: [Int32], gradient: Tensor) -> Float {
        let n = e.shape.n, d = e.shape.rowSize
        precondition(labels.count >= n, "\(labels.count) labels for \(n) embeddings")
        let phi = parameterValues.values
        let alpha = phi[0], mG = phi[1], mI = phi[2], beta = phi[3]
        statistics.reset()
        similarities.reshape(Shape(n, n))
        coefficients.reshape(Shape(n, n))
        coefficients.fill(0)
        BLAS.gemm(transB: true, m: n, n: n, k: d, e.pointer, lda: d, e.pointer, ldb: d, similarities.pointer, ldc: n)
        // One pair's weighted loss and derivative (before class averaging), added to `sums`.
        @inline(__always) func term(_ s: Float, _ genuine: Bool, _ sums: inout PairSums) -> Float {
            let b = bin(s)
            let z = genuine ? alpha * (mG - s) : alpha * (s - mI)
            let w = phi[4 + (genuine ? 0 : bins) + b]
            let (sp, sg) = softplusAndSigmoid(z)
            let f = w * sp
            if genuine {
                sums.statistics.genuineCount[b] += 1
                sums.statistics.genuineLoss[b] += f
                sums.genuine += Double(f)
                sums.genuinePairs += 1
            } else {
                sums.statistics.impostorCount[b] += 1
                sums.statistics.impostorLoss[b] += f
                sums.impostor += Double(f)
                sums.impostorPairs += 1
            }
            return (genuine ? -w : w) * alpha * sg
        }
        let (S, C) = (similarities.pointer, coefficients.pointer)
        // Rows 0..<split hold about half of the upper triangle's n(n-1)/2 pairs.
        let split = Int((Double(n) * (1 - 0.5.squareRoot())).rounded())
        labels.withUnsafeBufferPointer { y in
            parts.withUnsafeMutableBufferPointer { parts in
                inTwoParts { part in
                    parts[part].reset()
                    for i in (part == 0 ? 0..<split : split..<n) {
                        for j in (i + 1)..<max(n, i + 1) {
                            C[i * n + j] = term(S[i * n + j], y[i] == y[j], &parts[part])
                        }
                    }
                }
            }
        }
        let m = memory?.count ?? 0
        if let memory, m > 0 {
            precondition(memory.dimension == d, "memory holds \(memory.dimension)-d embeddings, got \(d)")
            memorySimilarities.reshape(Shape(n, m))
            memoryCoefficients.reshape(Shape(n, m))
            BLAS.gemm(transB: true, m: n, n: m, k: d, e.pointer, lda: d, memory.embeddings.pointer, ldb: d,
                      memorySimilarities.pointer, ldc: m)
            let (T, Cm) = (memorySimilarities.pointer, memoryCoefficients.pointer)
            labels.withUnsafeBufferPointer { y in
                memory.labels.withUnsafeBufferPointer { ym in
                    for i in 0..<n {
                        for k in 0..<m {
                            Cm[i * m + k] = term(T[i * m + k], y[i] == ym[k], &parts[1])
                        }
                    }
                }
            }
        }
        // The two parts (the memory's pairs went into the second) in a fixed order.
        statistics.add(parts[0].statistics)
        statistics.add(parts[1].statistics)
        let genuineSum = parts[0].genuine + parts[1].genuine, impostorSum = parts[0].impostor + parts[1].impostor
        let genuinePairs = parts[0].genuinePairs + parts[1].genuinePairs
        let impostorPairs = parts[0].impostorPairs + parts[1].impostorPairs
        let coefG = genuinePairs > 0 ? 2 * beta / Float(genuinePairs) : 0
        let coefI = impostorPairs > 0 ? 2 * (1 - beta) / Float(impostorPairs) : 0
        labels.withUnsafeBufferPointer { y in
            for i in 0..<n {
                for j in (i + 1)..<max(n, i + 1) {
                    let c = C[i * n + j] * (y[i] == y[j] ? coefG : coefI)
                    C[i * n + j] = c
                    C[j * n + i] = c
                }
            }
            if let memory, m > 0 {
                let Cm = memoryCoefficients.pointer
                memory.labels.withUnsafeBufferPointer { ym in
                    for i in 0..<n { for k in 0..<m { Cm[i * m + k] *= (y[i] == ym[k] ? coefG : coefI) } }
                }
            }
        }
        gradient.reshape(Shape(n, d))
        BLAS.gemm(m: n, n: d, k: n, C, lda: n, e.pointer, ldb: d, gradient.pointer, ldc: d)
        if let memory, m > 0 {
            BLAS.gemm(m: n, n: d, k: m, memoryCoefficients.pointer, lda: m, memory.embeddings.pointer, ldb: d,
                      beta: 1, gradient.pointer, ldc: d)
        }
        return Float(Double(coefG) * genuineSum + Double(coefI) * impostorSum)
    }

    public func endStep(embeddings: Tensor, labels: [Int32]) {
        memory?.enqueue(embeddings, labels: labels)
    }

    public var state: (floats: [NamedArray], integers: [NamedIntegers]) { memory?.state ?? ([], []) }

    public func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError) {
        try memory?.restore(floats: floats, integers: integers)
    }
}
