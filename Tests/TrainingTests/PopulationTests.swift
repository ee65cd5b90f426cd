import AlaverifyBase
import Testing
@testable import Training

/// Records every interval report it sees; stops at `stopAt` when given.
private final class Recorder: PopulationCallback {
    var reports: [IntervalReport] = []
    var stopAt: Int?
    init(stopAt: Int? = nil) { self.stopAt = stopAt }
    func intervalEnded(_ report: IntervalReport, population: Population) throws -> TrainingAction {
        reports.append(report)
        return report.step == stopAt ? .stop("asked") : .proceed
    }
}

@Suite("Population: trainers in lockstep")
struct PopulationTests {
    @Test("members train in intervals (the last one shorter) exactly as each would alone, with their mean losses")
    func lockstep() throws {
        let setup = runSetups[0]
        let population = Population([try setup.build(1), try setup.build(2)])
        let recorder = Recorder()
        let outcome = try population.run(until: 7, interval: 3, callbacks: [recorder])
        #expect(outcome == RunOutcome(steps: 7, stopReason: nil))
        #expect(recorder.reports.map(\.step) == [3, 6, 7] && recorder.reports.map(\.steps) == [3, 3, 1])
        #expect(recorder.reports.allSatisfy { $0.samples == 2 * 6 * $0.steps && $0.meanLosses.count == 2 })
        // The same seeds trained alone, step by step: same losses (summed in Float, in step order) and weights.
        for (m, seed) in [UInt64(1), 2].enumerated() {
            let alone = try setup.build(seed)
            var sums: [Float] = []
            for steps in [3, 3, 1] {
                var total: Float = 0
                for _ in 0..<steps { total += try alone.trainStep().loss }
                sums.append(total / Float(steps))
            }
            #expect(recorder.reports.map { $0.meanLosses[m] } == sums, "member \(m)")
            #expect(population.members[m].state() == alone.state(), "member \(m)")
        }
    }

    @Test("the mean of two trainers' states: every weight and optimizer moment is the average of the two, the rest is the kept member's, and it restores")
    func meanOfStates() throws {
        let setup = runSetups[0]
        let a = try setup.build(1), b = try setup.build(2)
        for _ in 0..<3 { _ = try a.trainStep(); _ = try b.trainStep() }
        let sa = a.state(), sb = b.state()
        let m = try TrainingState.mean(of: [sa, sb], keeping: 1)
        #expect(!sa.weights.isEmpty && !sa.optimizer.isEmpty)
        for (k, w) in m.weights.enumerated() {
            #expect(w.values == zip(sa.weights[k].values, sb.weights[k].values).map { ($0 + $1) / 2 }, "\(w.name)")
        }
        for (k, o) in m.optimizer.enumerated() {
            #expect(o.values == zip(sa.optimizer[k].values, sb.optimizer[k].values).map { ($0 + $1) / 2 }, "\(o.name)")
        }
        #expect(m.source == sb.source && m.generator == sb.generator && m.lossFloats == sb.lossFloats && m.phi == sb.phi)
        #expect(sa.weights != sb.weights, "the two members differ, so the mean is a third state")
        try a.restore(m)
        #expect(a.state() == m)
        _ = try a.trainStep()
        var later = b.state()
        later.step += 1
        #expect(throws: TrainingError.self) { _ = try TrainingState.mean(of: [sa, later], keeping: 0) }
        #expect(throws: TrainingError.self) { _ = try TrainingState.mean(of: [sa, sb], keeping: 2) }
    }

    @Test("a callback's stop ends the run after every callback of that interval ran")
    func stop() throws {
        let population = Population([try runSetups[0].build(3)])
        let first = Recorder(stopAt: 2), second = Recorder()
        let outcome = try population.run(until: 8, interval: 2, callbacks: [first, second])
        #expect(outcome == RunOutcome(steps: 2, stopReason: "asked"))
        #expect(first.reports.count == 1 && second.reports.count == 1 && population.step == 2)
        // Continuing resumes from the step reached.
        try population.run(until: 4, interval: 2, callbacks: [])
        #expect(population.step == 4)
    }

    @Test("a member whose loss is not finite stops the run with its index and the step")
    func divergence() throws {
        let data = try syntheticImages(identities: 3, perIdentity: 2, size: 8, seed: 1)
        let diverging = try Trainer(
            model: try MLPConfiguration(sampleShape: Shape(1, 8, 8), hidden: [4], embedding: 4).build(seed: 1), loss: NaNLoss(),
            optimizer: .adamW(), schedule: LearningRateSchedule(base: 1e-2, totalSteps: 8),
            source: try PKSampler(data: data, identitiesPerBatch: 3, samplesPerIdentity: 2, seed: 2), seed: 3)
        let population = Population([try runSetups[0].build(5), diverging])
        do {
            try population.run(until: 8, interval: 4, callbacks: [])
            Issue.record("the run did not stop")
        } catch PopulationError.diverged(let member, let reason) {
            #expect(member == 1 && reason == "loss is nan at step 1", "\(reason)")
        }
    }
}

/// A loss that is never finite.
private final class NaNLoss: VerificationLoss {
    let family = "nan"
    var parameterValues = LossParameterValues([])

    func compute(embeddings: Tensor, labels: [Int32], gradient: Tensor) -> Float {
        gradient.reshape(embeddings.shape)
        gradient.fill(0)
        return .nan
    }

    func restore(floats: [NamedArray], integers: [NamedIntegers]) throws(TrainingError) {}
}
