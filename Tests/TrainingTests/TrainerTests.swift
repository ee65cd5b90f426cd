import AlaverifyBase
import Testing
import ScoreMetrics
@testable import Training

/// Synthetic glyph-like data: each identity has its own stroke pattern; samples are shifted by
/// up to one pixel and get pixel noise.
func syntheticImages(identities: Int, perIdentity: Int, size: Int = 32, seed: UInt64, firstLabel: Int32 = 0) throws -> ImageSet {
    var rng = SeededGenerator(seed: seed)
    var pixels: [UInt8] = []
    var labels: [Int32] = []
    for id in 0..<identities {
        var proto = [Float](repeating: 0, count: size * size)
        for _ in 0..<4 {
            let (r0, c0) = (rng.below(size), rng.below(size))
            let vertical = rng.below(2) == 0, width = 1 + rng.below(3)
            for t in 0..<(size / 2) {
                for w in 0..<width {
                    let (r, c) = vertical ? ((r0 + t) % size, (c0 + w) % size) : ((r0 + w) % size, (c0 + t) % size)
                    proto[r * size + c] = 255
                }
            }
        }
        for _ in 0..<perIdentity {
            let (dr, dc) = (rng.below(3) - 1, rng.below(3) - 1)
            for r in 0..<size {
                for c in 0..<size {
                    let v = proto[((r + dr + size) % size) * size + (c + dc + size) % size] + Float(rng.normal() * 40)
                    pixels.append(UInt8(min(max(v, 0), 255)))
                }
            }
            labels.append(firstLabel + Int32(id))
        }
    }
    return try ImageSet(pixels: pixels, labels: labels, height: size, width: size)
}

/// A configuration under which a trainer is built from scratch.
struct RunSetup: Sendable, CustomTestStringConvertible {
    let name: String
    let build: @Sendable (_ seed: UInt64) throws -> Trainer
    var testDescription: String { name }
}

let runSetups: [RunSetup] = [
    RunSetup(name: "cnn + adamw + pairwise with memory + dropout") { seed in
        let data = try syntheticImages(identities: 6, perIdentity: 5, size: 16, seed: 1)
        let model = try CNNConfiguration(sampleShape: Shape(1, 16, 16), width: 4, stages: 2, pointwiseChannels: 6,
                                         embedding: 8, dropout: 0.2).build(seed: seed)
        let source = try PKSampler(data: data, identitiesPerBatch: 3, samplesPerIdentity: 2, seed: seed &+ 1)
        return try Trainer(model: model, loss: PairwiseBinnedLoss(bins: 4, memoryCapacity: 10),
                           optimizer: .adamW(), schedule: LearningRateSchedule(base: 1e-2, warmupSteps: 2, totalSteps: 8),
                           source: source, seed: seed &+ 2)
    },
    RunSetup(name: "mlp (gelu) + nesterov sgd + margin softmax") { seed in
        let data = try syntheticImages(identities: 5, perIdentity: 4, size: 8, seed: 2)
        let model = try MLPConfiguration(sampleShape: Shape(1, 8, 8), hidden: [16, 12], embedding: 6, activation: .gelu,
                                         dropout: 0.1).build(seed: seed)
        var rng = SeededGenerator(seed: seed &+ 3)
        let loss = MarginSoftmaxLoss(classes: 5, dimension: 6, scale: 10, cosMargin: 0.2, angularMargin: 0.1, rng: &rng)
        let source = try PKSampler(data: data, identitiesPerBatch: 3, samplesPerIdentity: 3, seed: seed &+ 1)
        return try Trainer(model: model, loss: loss, optimizer: .sgd(momentum: 0.9, nesterov: true, weightDecay: 1e-3),
                           schedule: LearningRateSchedule(base: 0.05, warmupSteps: 1, totalSteps: 8), source: source, seed: seed &+ 2)
    },
    RunSetup(name: "projection head on features + heavy-ball sgd") { seed in
        var rng = SeededGenerator(seed: 9)
        let labels: [Int32] = (0..<24).map { Int32($0 % 4) + 100 }
        let features = randomValues(24 * 10, rng: &rng)
        let source = try FeaturePKSampler(features: features, labels: labels, dimension: 10, identitiesPerBatch: 2,
                                          samplesPerIdentity: 3, seed: seed &+ 1)
        let model = try ProjectionHeadConfiguration(features: 10, hidden: [8], embedding: 4).build(seed: seed)
        return try Trainer(model: model, loss: PairwiseBinnedLoss(bins: 3, scale: 5, margin: 0.3),
                           optimizer: .sgd(momentum: 0.8, nesterov: false, weightDecay: 0), schedule: LearningRateSchedule(base: 0.1),
                           source: source, seed: seed &+ 2)
    },
]

@Test("same seed gives bitwise-identical weights", arguments: runSetups)
func determinism(_ setup: RunSetup) throws {
    let a = try setup.build(7), b = try setup.build(7)
    try a.run(steps: 6)
    try b.run(steps: 6)
    #expect(a.state() == b.state())
    let c = try setup.build(8)
    try c.run(steps: 6)
    #expect(c.state().weights != a.state().weights, "another seed must give other weights")
}

@Test("N steps straight equal N/2 + restore + N/2", arguments: runSetups)
func resumeIsBitIdentical(_ setup: RunSetup) throws {
    let straight = try setup.build(7)
    try straight.run(steps: 8)
    let first = try setup.build(7)
    try first.run(steps: 4)
    let saved = first.state()
    let resumed = try setup.build(99)  // other initial weights and streams: all must come from the state
    try resumed.restore(saved)
    #expect(resumed.state() == saved)
    try resumed.run(steps: 4)
    let (s, r) = (straight.state(), resumed.state())
    #expect(r.step == 8)
    #expect(r.weights == s.weights)
    #expect(r.optimizer == s.optimizer)
    #expect(r == s)
}

@Test func restoreRefusesOtherArchitecture() throws {
    let cnn = try runSetups[0].build(1), mlp = try runSetups[1].build(1)
    #expect(throws: TrainingError.self) { try cnn.restore(mlp.state()) }
    var damaged = cnn.state()
    damaged.weights[0].values.removeLast()
    #expect(throws: TrainingError.self) { try cnn.restore(damaged) }
}

@Test func trainerRefusesMismatchedSamples() throws {
    let data = try syntheticImages(identities: 3, perIdentity: 2, size: 8, seed: 3)
    let model = try MLPConfiguration(sampleShape: Shape(1, 32, 32), hidden: [4], embedding: 2).build(seed: 1)
    let source = try PKSampler(data: data, identitiesPerBatch: 2, samplesPerIdentity: 2, seed: 1)
    #expect(throws: TrainingError.self) {
        try Trainer(model: model, loss: PairwiseBinnedLoss(), optimizer: .adamW(), schedule: LearningRateSchedule(base: 1e-3),
                    source: source, seed: 1)
    }
    #expect(throws: TrainingError.self) { try PKSampler(data: data, identitiesPerBatch: 4, samplesPerIdentity: 2, seed: 1) }
    #expect(throws: TrainingError.self) { try ImageSet(pixels: [0], labels: [1], height: 1, width: 1) }
    #expect(throws: TrainingError.self) { try ImageSet(pixels: [0, 0, 0], labels: [1, 2], height: 1, width: 1) }
}

@Test func pkSamplerDrawsPDistinctIdentitiesOfKSamples() throws {
    let data = try syntheticImages(identities: 5, perIdentity: 3, size: 4, seed: 4)
    var sampler = try PKSampler(data: data, identitiesPerBatch: 4, samplesPerIdentity: 2, seed: 5)
    var batch = Batch()
    for _ in 0..<20 {
        sampler.next(into: &batch)
        #expect(batch.inputs.shape == Shape(8, 1, 4, 4))
        #expect(Set(batch.labels).count == 4)
        for p in 0..<4 { #expect(batch.labels[2 * p] == batch.labels[2 * p + 1]) }
    }
}

@Test func earlyStopAfterPatience() throws {
    let trainer = try runSetups[2].build(3)
    var calls = 0
    let validation = ValidationCallback(every: 2, lowerIsBetter: true, patience: 2, validate: { _ in calls += 1; return 0.5 })
    let outcome = try trainer.run(steps: 20, callbacks: [validation])
    #expect(outcome.steps == 6)
    #expect(calls == 3)
    #expect(outcome.stopReason != nil)
    #expect(validation.best?.step == 2)
}

@Test func checkpointsAndProgressFromCallbacks() throws {
    let trainer = try runSetups[2].build(3)
    var saved: [Int] = []
    var progress: [Progress] = []
    let outcome = try trainer.run(steps: 7, callbacks: [
        CheckpointCallback(every: 3) { saved.append($0.step) },
        ProgressCallback(every: 2) { progress.append($0) },
    ])
    #expect(outcome == RunOutcome(steps: 7, stopReason: nil))
    #expect(saved == [3, 6, 7])
    #expect(progress.map(\.step) == [2, 4, 6, 7])
    #expect(progress.allSatisfy { $0.samplesPerSecond > 0 && $0.loss.isFinite })
}

@Test func phiChangesBetweenRunsTakeEffect() throws {
    let trainer = try runSetups[2].build(5)
    try trainer.run(steps: 2)
    let before = trainer.state()
    trainer.loss.parameterValues.move(PairwiseBinnedLoss.scaleIndex, steps: 4)
    #expect(trainer.loss.phi[0] == 7)
    try trainer.run(steps: 1)
    #expect(trainer.state().phi[0] == 7)
    let other = try runSetups[2].build(5)
    try other.restore(before)
    try other.run(steps: 1)
    #expect(other.state().weights != trainer.state().weights)
}

@Test func allPairsScoresSplitGenuineAndImpostor() throws {
    let e: [Float] = [1, 0, 0, 1, 1, 0, 0.6, 0.8]
    let set = try Verification.allPairsScores(embeddings: e, dimension: 2, labels: [1, 1, 2, 2])
    #expect(set.genuine == [0, 0.6])
    #expect(set.impostor == [1, 0.6, 0, 0.8])
    #expect(set.impostorIdentities?.left == [1, 1, 1, 1])
}

@Test func trainingBeatsUntrainedEmbedding() throws {
    let train = try syntheticImages(identities: 12, perIdentity: 8, size: 16, seed: 11)
    let test = try syntheticImages(identities: 8, perIdentity: 6, size: 16, seed: 12, firstLabel: 1000)
    let model = try CNNConfiguration(sampleShape: Shape(1, 16, 16), width: 8, stages: 2, embedding: 16).build(seed: 1)
    let untrained = try Verification.evaluate(model: model, images: test, metrics: [])
    let source = try PKSampler(data: train, identitiesPerBatch: 6, samplesPerIdentity: 4, seed: 2)
    let trainer = try Trainer(model: model, loss: PairwiseBinnedLoss(scale: 10, margin: 0.4), optimizer: .adamW(),
                              schedule: LearningRateSchedule(base: 3e-3, warmupSteps: 5, totalSteps: 80), source: source, seed: 3)
    var losses: [Float] = []
    try trainer.run(steps: 80, callbacks: [PeriodicCallback(every: 1) { losses.append($0.lastReport!.loss); return .proceed }])
    let trained = try Verification.evaluate(model: model, images: test, metrics: [])
    let early = losses.prefix(10).reduce(0, +) / 10, late = losses.suffix(10).reduce(0, +) / 10
    #expect(late < 0.8 * early, "loss \(early) -> \(late)")
    #expect(trained.rocAUC! > untrained.rocAUC! + 0.02, "AUC \(untrained.rocAUC!) -> \(trained.rocAUC!)")
}
