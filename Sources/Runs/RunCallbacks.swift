import Dispatch
import Foundation
import LossAlignment
import RunRecords
import Training

/// What a run has done so far (what its checkpoint keeps), and what the callbacks of the current
/// interval hand on to each other.
final class RunState {
    /// The controller steering the loss parameters (nil: a fixed loss).
    var controller: (any LossController)?
    /// The best validation so far: its cost (`TargetEvaluator.cost`), child and step.
    var best: (cost: Double, child: Int, step: Int)?
    /// Seconds spent training, validating and in the controller, this run and its earlier parts.
    var trainingSeconds = 0.0, validationSeconds = 0.0, controllerSeconds = 0.0
    /// This interval: each child's validation, the loss parameters its steps trained with, and
    /// the controller's step.
    var validations: [ChildValidation] = []
    var trainedPhi: [[Float]] = []
    var controllerStep: ControllerStep?

    init(controller: (any LossController)?) { self.controller = controller }

    /// The child index recorded for the children's mean kept as the best model (`keepFinalMean`).
    static let meanChild = -1
}

extension TrainingRun {
    /// The callbacks of an interval, in order: account the training time, validate, keep the best
    /// model, steer the loss, record the history, log, checkpoint, and stop when asked.
    func callbacks(history: HistoryFile, stopAfter: Int?) -> [any PopulationCallback] {
        var list: [any PopulationCallback] = [
            IntervalCallback { [state] report, _ in state.trainingSeconds += report.seconds },
            IntervalCallback { [state, evaluator, data, config] _, population in
                try Self.validate(population, evaluator, data.validation, state, halves: config.lossControl.isPopulation)
            },
            // The best model is kept before the controller moves the children on (a population
            // that continues from its mean replaces every child, the validated ones included).
            IntervalCallback { report, population in try self.keepBest(report.step, population) },
            IntervalCallback { [state, config] report, population in
                try Self.steer(population, state, progress: Double(report.step) / Double(config.steps), byMean: config.mergesByMean)
            },
            IntervalCallback { report, population in
                if self.config.mergesByMean && report.step == self.config.steps { try self.keepFinalMean(report.step, population) }
            },
            IntervalCallback { report, population in try self.record(report, population, history) },
            IntervalCallback { report, _ in self.logProgress(report) },
            IntervalCallback { report, _ in
                if report.step % self.config.checkpointInterval == 0 || report.step == self.config.steps {
                    try self.saveCheckpoint(step: report.step)
                }
            },
        ]
        if let stopAfter {
            list.append(StopAfter(step: stopAfter, end: config.steps))
        }
        return list
    }

    /// Validates every child (children in parallel) into `state.validations`.
    static func validate(_ population: Population, _ evaluator: TargetEvaluator, _ images: ImageSet, _ state: RunState,
                         halves: Bool) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let n = population.members.count
        let results = UnsafeMutableBufferPointer<Result<ChildValidation, any Error>?>.allocate(capacity: n)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        Compute.forEachPart(n) { c in results[c] = Result { try evaluator.validate(population.members[c].model, on: images, halves: halves) } }
        state.validationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        state.validations = try results.map { result throws in
            do { return try result!.get() } catch { throw RunError.internalFailure("validation failed: \(error)") }
        }
    }

    /// Records the parameters the last steps trained with, then lets the controller (if any)
    /// judge the round and choose each child's parameters for the next one; every child then
    /// continues from the round's best child (its weights, optimizer, loss state and sampler),
    /// or with `byMean` from the children's mean (`continueFromMean`).
    static func steer(_ population: Population, _ state: RunState, progress: Double, byMean: Bool) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let trainers = population.members
        state.trainedPhi = trainers.map { $0.loss.phi }
        state.controllerStep = nil
        if var controller = state.controller {
            var phi = trainers.map { $0.loss.phi.map(Double.init) }
            let step = controller.step(snapshots: state.validations.map(\.snapshot), phi: &phi, progress: progress)
            if let best = step.best { try byMean ? continueFromMean(best, population) : continueFrom(best, population) }
            for (trainer, p) in zip(trainers, phi) { trainer.loss.phi = p.map(Float.init) }
            state.controllerStep = step
            state.controller = controller
        } else if byMean {
            // A fixed loss: the children continue from their mean (the loss state of the best).
            let costs = state.validations.map(\.snapshot.target)
            try continueFromMean(costs.indices.min { costs[$0] < costs[$1] }!, population)
        }
        state.controllerSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// Copies child `best`'s whole state into every other child.
    static func continueFrom(_ best: Int, _ population: Population) throws {
        let snapshot = population.members[best].state()
        for (c, trainer) in population.members.enumerated() where c != best {
            do { try trainer.restore(snapshot) } catch { throw RunError.internalFailure("continuing child \(c) from child \(best): \(error)") }
        }
    }

    /// Continues every child from the mean of the children's weights and optimizer moments
    /// (`TrainingState.mean`: the loss state, generator and sampler of child `best`); each child
    /// keeps the loss parameters the controller just gave it.
    static func continueFromMean(_ best: Int, _ population: Population) throws {
        let states = population.members.map { $0.state() }
        let merged: TrainingState
        do { merged = try TrainingState.mean(of: states, keeping: best) } catch { throw RunError.internalFailure("averaging the children: \(error)") }
        for (c, trainer) in population.members.enumerated() {
            var s = merged
            s.phi = states[c].phi
            do { try trainer.restore(s) } catch { throw RunError.internalFailure("continuing child \(c) from the mean: \(error)") }
        }
    }

    /// The controller's first round: each child's parameters before any training.
    func beginControl() {
        guard var controller = state.controller else { return }
        var phi = population.members.map { $0.loss.phi.map(Double.init) }
        state.controllerStep = controller.begin(phi: &phi, progress: 0)
        for (trainer, p) in zip(population.members, phi) { trainer.loss.phi = p.map(Float.init) }
        state.controller = controller
    }

    /// Keeps a child's model as `model.h5` whenever its validation cost is the lowest so far
    /// (strictly: a tie keeps the earlier model).
    func keepBest(_ step: Int, _ population: Population) throws {
        for (c, v) in state.validations.enumerated() {
            let cost = evaluator.cost(v.result)
            guard state.best.map({ cost < $0.cost }) ?? true else { continue }
            state.best = (cost, c, step)
            try RunFiles.write(
                path: directory.model, format: RunFiles.modelFormat, states: [population.members[c].state()],
                documents: [
                    "config": try config.json(),
                    "thresholds": v.thresholds,
                ])
        }
    }

    /// The children's mean after the last round (every child holds it) is validated once and kept
    /// as `model.h5` when it is better than every validated child: the run's own end point,
    /// which no round validated. Its child is recorded as `RunState.meanChild`.
    func keepFinalMean(_ step: Int, _ population: Population) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let v: ChildValidation
        do { v = try evaluator.validate(population.members[0].model, on: data.validation) } catch {
            throw RunError.internalFailure("validating the children's mean: \(error)")
        }
        state.validationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let cost = evaluator.cost(v.result)
        let better = state.best.map { cost < $0.cost } ?? true
        log("the children's mean at step \(step): val \(config.target) \(String(format: "%.4f", v.result.value))\(better ? ", the best so far: kept as model.h5" : "")")
        guard better else { return }
        state.best = (cost, RunState.meanChild, step)
        try RunFiles.write(
            path: directory.model, format: RunFiles.modelFormat, states: [population.members[0].state()],
            documents: ["config": try config.json(), "thresholds": v.thresholds])
    }

    /// Appends one history record per child. `loss_parameters` are the values chosen at this
    /// step (used for the next steps); `trained_loss_parameters` those the last steps trained
    /// with, which produced this validation.
    func record(_ report: IntervalReport, _ population: Population, _ history: HistoryFile) throws {
        let cs = state.controllerStep
        let stream = data.streamStats
        for (c, v) in state.validations.enumerated() {
            let loss = population.members[c].loss
            let names = loss.parameterDescriptions.map(\.name)
            try history.append(HistoryRecord(
                step: report.step, child: c, loss: Double(report.meanLosses[c]), validation: v.result,
                lossParameters: NamedValues(names: names, values: loss.phi.map(Double.init)),
                trainedLossParameters: NamedValues(names: names, values: state.trainedPhi[c].map(Double.init)),
                actions: cs.map { $0.actions[c].map { $0 - 1 } }, reward: cs?.rewards[c], baseline: cs?.baseline,
                policyEntropy: cs?.entropy, continuedFrom: cs?.best, validationHalves: v.snapshot.halves.isEmpty ? nil : v.snapshot.halves,
                data: stream))
        }
    }

    /// One line per interval: progress, throughput, ETA, each child's loss and validation value.
    func logProgress(_ report: IntervalReport) {
        let step = report.step, steps = config.steps
        let children = state.validations.enumerated().map { c, v in
            "child \(c): loss \(String(format: "%.4f", report.meanLosses[c])) val \(config.target) \(String(format: "%.4f", v.result.value))"
        }.joined(separator: "; ")
        var extra = state.controllerStep.map { String(format: "  policy entropy %.3f", $0.entropy) } ?? ""
        let intervalSeconds = Double(DispatchTime.now().uptimeNanoseconds - report.startedAt) * 1e-9
        let samplesPerSecond = Double(report.samples) / max(report.seconds, 1e-9)
        let eta = intervalSeconds / Double(report.steps) * Double(steps - step)
        let filled = Int(Double(step) / Double(steps) * 20)
        let bar = showBar ? "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "] " : ""
        if let stream = data.streamStats {
            extra += String(format: "  data: stall %.2f s (%.1f%%)", stream.stallSeconds, 100 * stream.stallSeconds / max(state.trainingSeconds, 1e-9))
        }
        log("\(bar)step \(step)/\(steps)  \(Int(samplesPerSecond)) samples/s  eta \(Self.duration(eta))  \(children)\(extra)")
    }

    /// `45s`, `3m05s`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

/// A population callback made of a closure that returns nothing (it proceeds, or throws).
final class IntervalCallback: PopulationCallback {
    private let body: (IntervalReport, Population) throws -> Void
    init(_ body: @escaping (IntervalReport, Population) throws -> Void) { self.body = body }

    func intervalEnded(_ report: IntervalReport, population: Population) throws -> TrainingAction {
        try body(report, population)
        return .proceed
    }
}

/// Stops a run after `step` steps as if interrupted (`--stop-after`), unless that is its end.
final class StopAfter: PopulationCallback {
    let step: Int, end: Int
    init(step: Int, end: Int) {
        self.step = step
        self.end = end
    }

    func intervalEnded(_ report: IntervalReport, population: Population) throws -> TrainingAction {
        report.step >= step && report.step < end ? .stop("stopped after step \(report.step) as asked") : .proceed
    }
}
