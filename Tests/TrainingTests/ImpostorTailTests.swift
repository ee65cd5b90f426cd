import AlaverifyBase
import Foundation
import Testing
import ScoreMetrics
@testable import Training

/// The mean of the k largest impostor similarities (batch pairs i < j, then batch x memory), in
/// Double by sorting: the definition, written independently of the radix selection.
func referenceTail(_ e: [Float], n: Int, d: Int, labels: [Int32], memory: [Float], memoryLabels: [Int32], fraction: Double) -> Double {
    var s: [Double] = []
    func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
    for i in 0..<n { for j in (i + 1)..<n where labels[i] != labels[j] { s.append(dot(e[(i * d)..<(i * d + d)], e[(j * d)..<(j * d + d)])) } }
    for i in 0..<n { for j in memoryLabels.indices where memoryLabels[j] != labels[i] {
        s.append(dot(e[(i * d)..<(i * d + d)], memory[(j * d)..<(j * d + d)]))
    } }
    let k = min(s.count, max(1, Int((fraction * Double(s.count)).rounded(.up))))
    return s.sorted(by: >).prefix(k).reduce(0, +) / Double(k)
}

@Test("the radix selection finds the k-th largest key, with ties, for every k", arguments: [1, 2, 7, 100])
func tailSelection(_ seed: Int) {
    var rng = SeededGenerator(seed: UInt64(seed))
    let tail = ImpostorTail(fraction: 0.1, memoryCapacity: 4)
    let values = (0..<300).map { _ in Float(Int(rng.next() % 40) - 20) / 7 }  // many ties, negatives, -0 excluded
    let keys = values.map(ImpostorTail.key)
    let sorted = values.sorted(by: >)
    for k in [1, 2, 17, 150, 299, 300] {
        #expect(tail.kthLargestKeyForTesting(keys, k: k) == ImpostorTail.key(sorted[k - 1]), "k = \(k)")
    }
    #expect(ImpostorTail.key(-0.5) < ImpostorTail.key(-0.25) && ImpostorTail.key(-0.25) < ImpostorTail.key(0.1))
}

@Test("the tail is the mean of the top impostor similarities of batch and memory", arguments: [0.01, 0.1, 0.5, 1.0])
func tailValue(_ fraction: Double) {
    var rng = SeededGenerator(seed: 11)
    let (n, d, m) = (12, 5, 20)
    let e = unitRows(n, d, rng: &rng), mem = unitRows(m, d, rng: &rng)
    let labels: [Int32] = (0..<n).map { Int32($0 / 3) }, memLabels: [Int32] = (0..<m).map { Int32($0 % 6) }
    let tail = ImpostorTail(fraction: fraction, memoryCapacity: 32)
    tail.memory.enqueue(Tensor(Shape(m, d), values: mem), labels: memLabels)
    let g = Tensor(Shape(n, d))
    let value = tail.compute(embeddings: Tensor(Shape(n, d), values: e), labels: labels, weight: 0, gradient: g)
    let expected = referenceTail(e, n: n, d: d, labels: labels, memory: mem, memoryLabels: memLabels, fraction: fraction)
    #expect(abs(Double(value) - expected) < 1e-6)
    var impostors = 0
    for i in 0..<n {
        for j in (i + 1)..<n where labels[i] != labels[j] { impostors += 1 }
        for j in 0..<m where memLabels[j] != labels[i] { impostors += 1 }
    }
    #expect(impostors == 54 + 198)  // 4 identities x 3 in the batch; memory labels 0...5 with 4, 4, 3, 3, 3, 3 rows
    #expect(tail.lastPairs == impostors)
    #expect(tail.lastCount == Int((fraction * Double(impostors)).rounded(.up)))
    #expect(g.array.allSatisfy { $0 == 0 }, "weight 0 adds no gradient")
}

@Test("margin softmax with an impostor tail: gradient by finite differences", arguments: [1 as Float, 8])
func marginSoftmaxTailGradient(_ weight: Float) {
    var rng = SeededGenerator(seed: 12)
    let (n, d) = (8, 6)
    let tail = ImpostorTail(fraction: 0.2, memoryCapacity: 16)
    tail.memory.enqueue(Tensor(Shape(10, d), values: unitRows(10, d, rng: &rng)), labels: (0..<10).map { Int32($0 % 4) })
    let loss = MarginSoftmaxLoss(classes: 4, dimension: d, tail: tail, tailWeight: weight, rng: &rng)
    #expect(loss.family == "margin-softmax+tail(q=0.2,M=16)")
    #expect(loss.parameterDescriptions.map(\.name) == ["scale", "cos_margin", "angular_margin", "tail_weight"])
    let labels: [Int32] = (0..<n).map { Int32($0 % 4) }
    let r = checkLoss(loss, embeddings: unitRows(n, d, rng: &rng), shape: Shape(n, d), labels: labels, eps: 1e-3)
    #expect(r.embeddings < 1e-2, "embedding gradient: relative error \(r.embeddings)")
    for e in r.weights { #expect(e < 1e-2, "proxy gradient: relative error \(e)") }
}

@Test("the tail's memory is checkpointed with the loss and restored")
func tailState() throws {
    var rng = SeededGenerator(seed: 13)
    let make = { (rng: inout SeededGenerator) in
        MarginSoftmaxLoss(classes: 3, dimension: 4, tail: ImpostorTail(fraction: 0.1, memoryCapacity: 8), rng: &rng)
    }
    let a = make(&rng), b = make(&rng)
    a.endStep(embeddings: Tensor(Shape(5, 4), values: unitRows(5, 4, rng: &rng)), labels: [0, 1, 2, 0, 1])
    let s = a.state
    try b.restore(floats: s.floats, integers: s.integers)
    #expect(b.tail!.memory.count == 5 && b.tail!.memory.embeddings.array.prefix(20) == a.tail!.memory.embeddings.array.prefix(20))
}
