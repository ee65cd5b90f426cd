import AlaverifyBase
import Foundation
import Testing
import ScoreMetrics
@testable import Training

/// `n` random unit vectors of dimension `d`.
func unitRows(_ n: Int, _ d: Int, rng: inout SeededGenerator) -> [Float] {
    var v = randomValues(n * d, rng: &rng)
    for r in 0..<n {
        var s: Float = 0
        for j in 0..<d { s += v[r * d + j] * v[r * d + j] }
        for j in 0..<d { v[r * d + j] /= s.squareRoot() }
    }
    return v
}

/// Central differences of `loss.compute` with respect to the embeddings and the loss's own weights.
func checkLoss(_ loss: any VerificationLoss, embeddings: [Float], shape: Shape, labels: [Int32], eps: Float = 1e-3)
    -> (embeddings: Double, weights: [Double])
{
    let e = Tensor(shape, values: embeddings)
    let g = Tensor()
    for p in loss.trainableParameters { p.gradient.fill(0) }
    _ = loss.compute(embeddings: e, labels: labels, gradient: g)
    let analytic = g.array.map(Double.init)
    let analyticWeights = loss.trainableParameters.map { $0.gradient.array.map(Double.init) }
    let scratch = Tensor()
    func numeric(_ t: Tensor) -> [Double] {
        (0..<t.count).map { i in
            let old = t[i]
            t[i] = old + eps
            let fp = Double(loss.compute(embeddings: e, labels: labels, gradient: scratch))
            t[i] = old - eps
            let fm = Double(loss.compute(embeddings: e, labels: labels, gradient: scratch))
            t[i] = old
            return (fp - fm) / (2 * Double(eps))
        }
    }
    let embeddingError = relativeError(analytic, numeric(e))
    let weightErrors = zip(loss.trainableParameters, analyticWeights).map { p, a in relativeError(a, numeric(p.value)) }
    return (embeddingError, weightErrors)
}

/// The class-balanced binomial deviance, written independently in Double.
func referenceBinomialDeviance(_ e: [Float], n: Int, d: Int, labels: [Int32], alpha: Double, margin: Double) -> Double {
    var g = 0.0, i = 0.0, ng = 0, ni = 0
    for a in 0..<n {
        for b in (a + 1)..<n {
            var s = 0.0
            for j in 0..<d { s += Double(e[a * d + j]) * Double(e[b * d + j]) }
            if labels[a] == labels[b] { g += log(1 + exp(-alpha * (s - margin))); ng += 1 }
            else { i += log(1 + exp(alpha * (s - margin))); ni += 1 }
        }
    }
    return g / Double(ng) + i / Double(ni)
}

@Test("initial Phi reproduces binomial deviance", arguments: [(2 as Float, 0.5 as Float), (10, 0.3), (40, 0.6)])
func initialPhiIsBinomialDeviance(alpha: Float, margin: Float) {
    var rng = SeededGenerator(seed: 31)
    let (n, d) = (12, 16)
    let e = unitRows(n, d, rng: &rng)
    let labels: [Int32] = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4]
    let loss = PairwiseBinnedLoss(bins: 8, scale: alpha, margin: margin)
    let value = loss.compute(embeddings: Tensor(Shape(n, d), values: e), labels: labels, gradient: Tensor())
    let reference = referenceBinomialDeviance(e, n: n, d: d, labels: labels, alpha: Double(alpha), margin: Double(margin))
    #expect(abs(Double(value) - reference) <= 1e-5 * max(1, abs(reference)), "\(value) vs \(reference)")
    let genuine = loss.statistics.genuineCount.reduce(0, +), impostor = loss.statistics.impostorCount.reduce(0, +)
    let expectedImpostors = n * (n - 1) / 2 - 11
    #expect(genuine == 11)
    #expect(impostor == expectedImpostors)
}

/// Draws embeddings whose pair similarities all stay `clearance` away from bin edges, so that
/// finite differences do not jump between bin weights.
func embeddingsAwayFromBinEdges(n: Int, d: Int, bins: Int, memory: [Float] = [], seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    let m = memory.count / d
    while true {
        let e = unitRows(n, d, rng: &rng)
        func clear(_ s: Float) -> Bool {
            let x = (s + 1) * 0.5 * Float(bins)
            return abs(x - x.rounded()) * 2 / Float(bins) > 0.01
        }
        var ok = true
        for a in 0..<n {
            for b in 0..<n where b > a {
                var s: Float = 0
                for j in 0..<d { s += e[a * d + j] * e[b * d + j] }
                ok = ok && clear(s)
            }
            for k in 0..<m {
                var s: Float = 0
                for j in 0..<d { s += e[a * d + j] * memory[k * d + j] }
                ok = ok && clear(s)
            }
        }
        if ok { return e }
    }
}

@Test func pairwiseLossGradientWithRandomPhi() {
    let (n, d, bins) = (6, 5, 4)
    let loss = PairwiseBinnedLoss(bins: bins)
    var rng = SeededGenerator(seed: 41)
    loss.phi = loss.parameterDescriptions.map { p in
        p.range.lowerBound + Float(rng.unit()) * (p.range.upperBound - p.range.lowerBound)
    }
    loss.phi[PairwiseBinnedLoss.scaleIndex] = 6
    let e = embeddingsAwayFromBinEdges(n: n, d: d, bins: bins, seed: 42)
    let labels: [Int32] = [0, 0, 1, 1, 1, 2]
    let result = checkLoss(loss, embeddings: e, shape: Shape(n, d), labels: labels)
    #expect(result.embeddings < 1e-2, "relative error \(result.embeddings), phi \(loss.phi)")
}

@Test func pairwiseLossGradientWithMemory() {
    let (n, d, bins) = (4, 5, 4)
    let loss = PairwiseBinnedLoss(bins: bins, scale: 4, margin: 0.2, memoryCapacity: 5)
    var rng = SeededGenerator(seed: 51)
    for i in 0..<bins { loss.phi[loss.impostorWeightIndex(i)] = 0.5 + Float(i) * 0.5 }
    let past = unitRows(7, d, rng: &rng)
    loss.endStep(embeddings: Tensor(Shape(7, d), values: past), labels: [0, 3, 3, 4, 5, 1, 6])
    #expect(loss.memory!.count == 5)
    let stored = Array(loss.memory!.embeddings.buffer.prefix(5 * d))
    let e = embeddingsAwayFromBinEdges(n: n, d: d, bins: bins, memory: stored, seed: 52)
    let labels: [Int32] = [0, 1, 1, 2]
    let result = checkLoss(loss, embeddings: e, shape: Shape(n, d), labels: labels)
    #expect(result.embeddings < 1e-2, "relative error \(result.embeddings)")
    let without = PairwiseBinnedLoss(bins: bins, scale: 4, margin: 0.2)
    without.phi = loss.phi
    let g1 = Tensor(), g2 = Tensor()
    let l1 = loss.compute(embeddings: Tensor(Shape(n, d), values: e), labels: labels, gradient: g1)
    let l2 = without.compute(embeddings: Tensor(Shape(n, d), values: e), labels: labels, gradient: g2)
    #expect(l1 != l2, "the memory must change the loss")
    let impostors = loss.statistics.impostorCount.reduce(0, +)
    #expect(impostors == 5 + 4 * 5 - 2)
}

@Test func crossBatchMemoryIsARing() {
    let memory = CrossBatchMemory(capacity: 3)
    memory.enqueue(Tensor(Shape(2, 1), values: [1, 2]), labels: [10, 20])
    memory.enqueue(Tensor(Shape(2, 1), values: [3, 4]), labels: [30, 40])
    #expect(memory.count == 3)
    #expect(Array(memory.embeddings.buffer) == [4, 2, 3])
    #expect(memory.labels == [40, 20, 30])
}

struct SoftmaxCase: Sendable, CustomTestStringConvertible {
    let name: String, scale: Float, cosMargin: Float, angularMargin: Float
    var testDescription: String { name }
}

@Test("margin softmax gradient", arguments: [
    SoftmaxCase(name: "plain softmax", scale: 5, cosMargin: 0, angularMargin: 0),
    SoftmaxCase(name: "CosFace", scale: 8, cosMargin: 0.35, angularMargin: 0),
    SoftmaxCase(name: "ArcFace", scale: 8, cosMargin: 0, angularMargin: 0.4),
    SoftmaxCase(name: "combined", scale: 6, cosMargin: 0.2, angularMargin: 0.2),
])
func marginSoftmaxGradient(_ c: SoftmaxCase) {
    var rng = SeededGenerator(seed: 61)
    let loss = MarginSoftmaxLoss(classes: 4, dimension: 6, scale: c.scale, cosMargin: c.cosMargin,
                                 angularMargin: c.angularMargin, rng: &rng)
    let e = unitRows(5, 6, rng: &rng)
    let result = checkLoss(loss, embeddings: e, shape: Shape(5, 6), labels: [0, 1, 1, 3, 2])
    #expect(result.embeddings < 1e-2, "embeddings: \(result.embeddings)")
    #expect(result.weights.count == 1)
    for w in result.weights { #expect(w < 1e-2, "proxies: \(w)") }
}

@Test func marginSoftmaxWithoutMarginIsCrossEntropy() {
    var rng = SeededGenerator(seed: 71)
    let loss = MarginSoftmaxLoss(classes: 3, dimension: 4, scale: 1, cosMargin: 0, angularMargin: 0, rng: &rng)
    let e = unitRows(2, 4, rng: &rng)
    let value = loss.compute(embeddings: Tensor(Shape(2, 4), values: e), labels: [2, 0], gradient: Tensor())
    var expected = 0.0
    let w = loss.proxies.value.array
    for (i, y) in [2, 0].enumerated() {
        var logits = [Double]()
        for k in 0..<3 {
            var dot = 0.0, nn = 0.0
            for j in 0..<4 { dot += Double(e[i * 4 + j] * w[k * 4 + j]); nn += Double(w[k * 4 + j] * w[k * 4 + j]) }
            logits.append(dot / nn.squareRoot())
        }
        expected += log(logits.map(exp).reduce(0, +)) - logits[y]
    }
    #expect(abs(Double(value) - expected / 2) < 1e-5)
}

@Test func phiIsClampedAndCheckable() throws {
    let loss = PairwiseBinnedLoss(bins: 2)
    #expect(loss.parameterDescriptions.map(\.name) == [
        "scale", "genuine_margin", "impostor_margin", "balance",
        "genuine_weight[0]", "genuine_weight[1]", "impostor_weight[0]", "impostor_weight[1]",
    ])
    loss.phi = [1000, -5, 0.2, 0.5, 1, .nan, -1, 2]
    let clamped: [Float] = [64, -1, 0.2, 0.5, 1, 1, 0, 2]
    #expect(loss.phi == clamped)
    loss.parameterValues.move(PairwiseBinnedLoss.balanceIndex, steps: -2)
    #expect(abs(loss.phi[3] - 0.4) < 1e-6)
    #expect(throws: TrainingError.self) { try loss.parameterValues.setChecked([2, 0.5, 0.5, 1.5, 1, 1, 1, 1]) }
    try loss.parameterValues.setChecked([2, 0.5, 0.5, 0.5, 1, 1, 1, 1])
    #expect(loss.phi[3] == 0.5)
}

@Test func compositeLossRoutesPhiAndSumsGradients() {
    var rng = SeededGenerator(seed: 91)
    let pairwise = PairwiseBinnedLoss(bins: 2, scale: 4, margin: 0.3, memoryCapacity: 4)
    let softmax = MarginSoftmaxLoss(classes: 3, dimension: 5, scale: 6, cosMargin: 0.2, rng: &rng)
    let loss = CompositeLoss([pairwise, softmax], weights: [0.7, 1.3])
    #expect(loss.parameterDescriptions.count == 2 + pairwise.phi.count + 3)
    #expect(loss.parameterDescriptions[2].name == "0.scale")
    #expect(loss.parameterDescriptions.last?.name == "1.angular_margin")
    var phi = loss.phi
    phi[loss.parameterValues.index(of: "1.cos_margin")!] = 0.3
    loss.phi = phi
    #expect(softmax.phi[1] == 0.3)
    loss.endStep(embeddings: Tensor(Shape(2, 5), values: unitRows(2, 5, rng: &rng)), labels: [0, 2])
    let e = embeddingsAwayFromBinEdges(n: 4, d: 5, bins: 2, memory: Array(pairwise.memory!.embeddings.buffer.prefix(10)), seed: 92)
    let result = checkLoss(loss, embeddings: e, shape: Shape(4, 5), labels: [0, 1, 1, 2])
    #expect(result.embeddings < 1e-2, "embeddings: \(result.embeddings)")
    #expect(result.weights.count == 1)
    for w in result.weights { #expect(w < 1e-2, "proxies: \(w)") }
    let state = loss.state
    #expect(state.floats.map(\.name) == ["0/memory/embeddings"])
}

@Test func binsMapSimilaritiesAndParameters() {
    let loss = PairwiseBinnedLoss(bins: 4)
    #expect([-1, -0.5001, -0.5, 0, 0.4999, 0.5, 1, 1.5, -2].map { loss.bin($0) } == [0, 0, 1, 2, 2, 3, 3, 3, 0])
    #expect(loss.similarityRange(ofBin: 1) == -0.5..<0)
    #expect(loss.similarityRange(ofBin: 3).contains(1))
    #expect(loss.bin(ofParameter: 3) == nil)
    #expect(loss.bin(ofParameter: 5)! == (1, true))
    #expect(loss.bin(ofParameter: loss.impostorWeightIndex(2))! == (2, false))
    #expect(loss.bin(ofParameter: 12) == nil)
}
