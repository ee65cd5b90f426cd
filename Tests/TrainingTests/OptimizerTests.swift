import AlaverifyBase
import Foundation
import Testing
import ScoreMetrics
@testable import Training

/// Runs 3 steps of `optimizer` on one parameter of 19 values (two 8-lane blocks and a tail)
/// with fixed gradients and returns the values.
func threeSteps(_ make: ([Parameter]) -> any Optimizer, decays: Bool) -> (start: [Float], grads: [[Float]], end: [Float]) {
    var rng = SeededGenerator(seed: 81)
    let p = Parameter(name: "w", shape: Shape(19), decays: decays)
    let start = randomValues(19, rng: &rng)
    for i in 0..<19 { p.value[i] = start[i] }
    let grads = (0..<3).map { _ in randomValues(19, rng: &rng) }
    let opt = make([p])
    for g in grads {
        for i in 0..<19 { p.gradient[i] = g[i] }
        opt.step(learningRate: 0.1)
    }
    return (start, grads, p.value.array)
}

@Test("SGD matches the PyTorch update rule", arguments: [true, false])
func sgdReference(nesterov: Bool) {
    let r = threeSteps({ SGD(parameters: $0, momentum: 0.9, nesterov: nesterov, weightDecay: 0.01) }, decays: true)
    for i in 0..<19 {
        var w = Double(r.start[i]), v = 0.0
        for g in r.grads {
            let gi = Double(g[i]) + 0.01 * w
            v = 0.9 * v + gi
            w -= 0.1 * (nesterov ? gi + 0.9 * v : v)
        }
        #expect(abs(w - Double(r.end[i])) < 1e-5, "element \(i)")
    }
}

@Test("AdamW matches the decoupled update rule", arguments: [true, false])
func adamWReference(decays: Bool) {
    let r = threeSteps({ AdamW(parameters: $0, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1) }, decays: decays)
    for i in 0..<19 {
        var w = Double(r.start[i]), m = 0.0, v = 0.0
        for (t, g) in r.grads.enumerated() {
            let gi = Double(g[i])
            m = 0.9 * m + 0.1 * gi
            v = 0.99 * v + 0.01 * gi * gi
            let mh = m / (1 - pow(0.9, Double(t + 1))), vh = v / (1 - pow(0.99, Double(t + 1)))
            w = w * (1 - 0.1 * (decays ? 0.1 : 0)) - 0.1 * mh / (vh.squareRoot() + 1e-8)
        }
        #expect(abs(w - Double(r.end[i])) < 1e-5, "element \(i)")
    }
}

@Test func warmupThenCosine() {
    let s = LearningRateSchedule(base: 1, warmupSteps: 4, totalSteps: 14, minimum: 0.1)
    #expect(s.rate(at: 0) == 0.25)
    #expect(s.rate(at: 3) == 1)
    #expect(s.rate(at: 4) == 1)
    #expect(abs(s.rate(at: 9) - 0.55) < 1e-6)
    #expect(abs(s.rate(at: 14) - 0.1) < 1e-6)
    #expect(abs(s.rate(at: 100) - 0.1) < 1e-6)
    #expect(LearningRateSchedule(base: 0.3).rate(at: 1000) == 0.3)
}

@Test("schedules out of range are refused", arguments: [
    LearningRateSchedule(base: 0), LearningRateSchedule(base: -1), LearningRateSchedule(base: .nan),
    LearningRateSchedule(base: 100), LearningRateSchedule(base: 0.1, minimum: 0.2),
    LearningRateSchedule(base: 0.1, warmupSteps: 10, totalSteps: 5), LearningRateSchedule(base: 0.1, warmupSteps: -1),
])
func invalidSchedule(_ s: LearningRateSchedule) {
    #expect(throws: TrainingError.self) { try s.validate() }
}

@Test func progressLineAndBar() {
    let p = Progress(step: 900, endStep: 2000, loss: 0.89524, samplesPerSecond: 7942.4, eta: 125, learningRate: 9.8e-4)
    #expect(p.line == "step 900/2000  loss 0.8952  7942 samples/s  lr 9.8e-04  eta 2m05s")
    #expect(p.bar(width: 20) == "[#########...........] 45%  step 900/2000  loss 0.8952  7942 samples/s  eta 2m05s")
    #expect(Progress.duration(7260) == "2h01m")
    #expect(Progress.duration(.nan) == "?")
}
