import AlaverifyBase
import Foundation
import ScoreMetrics

/// Which optimizer the trainer builds over the model's and the loss's weights.
public enum OptimizerChoice: Sendable, Equatable {
    /// SGD with (Nesterov) momentum and L2 weight decay.
    case sgd(momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 5e-4)
    /// AdamW with decoupled weight decay.
    case adamW(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01)

    func make(_ parameters: [Parameter]) -> any Optimizer {
        switch self {
        case let .sgd(m, n, wd): return SGD(parameters: parameters, momentum: m, nesterov: n, weightDecay: wd)
        case let .adamW(b1, b2, eps, wd): return AdamW(parameters: parameters, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd)
        }
    }
}

/// What one training step did.
public struct StepReport: Sendable, Equatable {
    /// Steps completed, this one included.
    public var step: Int
    /// The loss of the batch before the update.
    public var loss: Float
    /// The learning rate used.
    public var learningRate: Float
    /// Samples in the batch.
    public var samples: Int
    /// Wall time of the step in seconds.
    public var seconds: Double
}

/// Events a training run emits to its callbacks.
public enum TrainingEvent: Sendable {
    /// Before the first step of `run`, with the step at which the run will end.
    case runStarted(endStep: Int)
    /// After each optimizer step.
    case stepEnded(StepReport)
    /// After the last step (also after an early stop).
    case runEnded(step: Int)
}

/// A callback's verdict.
public enum TrainingAction: Sendable, Equatable {
    /// Keep training.
    case proceed
    /// Stop after this step, with a reason.
    case stop(String)
}

/// Reacts to training events (progress, validation, checkpoints, early stop).
public protocol TrainingCallback: AnyObject {
    /// Handles one event; `.stop` ends the run after the current step.
    func handle(_ event: TrainingEvent, trainer: Trainer) throws -> TrainingAction
}

/// How a `run` ended.
public struct RunOutcome: Sendable, Equatable {
    /// Steps performed by this run.
    public var steps: Int
    /// The reason of an early stop, nil when all steps ran.
    public var stopReason: String?
}

/// The training loop: a model, a verification loss whose Phi may change between steps, an
/// optimizer, a schedule and a batch source. Free of I/O; everything else hangs off callbacks.
///
/// A controller (ALA) drives it by alternating `run(steps:)` with reads and writes of
/// `loss.phi` (or `loss.parameterValues.move(_:steps:)`).
public final class Trainer {
    /// The embedding network.
    public let model: EmbeddingNetwork
    /// The loss (its `phi` is the controller's handle).
    public let loss: any VerificationLoss
    /// The optimizer over `model.parameters + loss.trainableParameters`.
    public let optimizer: any Optimizer
    /// The learning-rate schedule, indexed by `step`.
    public var schedule: LearningRateSchedule
    /// Where batches come from.
    public var source: any BatchSource
    /// Completed steps.
    public internal(set) var step = 0
    /// The generator for dropout and any other random choice in a step.
    public internal(set) var rng: SeededGenerator
    /// The last step's report.
    public private(set) var lastReport: StepReport?
    private var batch = Batch()
    private let lossGradient = Tensor()

    /// Creates a trainer; fails when the schedule is out of range or the source's samples do not
    /// fit the model.
    public init(
        model: EmbeddingNetwork, loss: any VerificationLoss, optimizer: OptimizerChoice, schedule: LearningRateSchedule,
        source: any BatchSource, seed: UInt64
    ) throws(TrainingError) {
        try schedule.validate()
        guard source.sampleShape == model.sampleShape else {
            throw .invalidInput("samples of shape \(source.sampleShape) do not fit \(model.architecture), which expects \(model.sampleShape)")
        }
        self.model = model
        self.loss = loss
        self.optimizer = optimizer.make(model.parameters + loss.trainableParameters)
        self.schedule = schedule
        self.source = source
        rng = SeededGenerator(seed: seed, stream: 1)
    }

    /// Performs one step: batch, forward, loss, backward, update. Allocates nothing in steady state.
    ///
    /// Rethrows the batch source's error (a streamed batch that could not be read); the step is
    /// then not taken.
    @discardableResult
    public func trainStep() throws -> StepReport {
        let start = DispatchTime.now().uptimeNanoseconds
        try source.next(into: &batch)
        optimizer.zeroGradients()
        var context = ForwardContext(training: true, rng: rng)
        let embeddings = model.forward(batch.inputs, &context)
        rng = context.rng
        let value = loss.compute(embeddings: embeddings, labels: batch.labels, gradient: lossGradient)
        model.backward(lossGradient)
        let lr = schedule.rate(at: step)
        optimizer.step(learningRate: lr)
        loss.endStep(embeddings: embeddings, labels: batch.labels)
        step += 1
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let report = StepReport(step: step, loss: value, learningRate: lr, samples: batch.labels.count, seconds: seconds)
        lastReport = report
        return report
    }

    /// Runs `steps` steps, emitting events to `callbacks` in order; stops early when one asks.
    @discardableResult
    public func run(steps: Int, callbacks: [any TrainingCallback] = []) throws -> RunOutcome {
        let first = step
        var reason: String?
        for c in callbacks where reason == nil {
            if case .stop(let r) = try c.handle(.runStarted(endStep: step + steps), trainer: self) { reason = r }
        }
        while reason == nil && step - first < steps {
            let report = try trainStep()
            guard report.loss.isFinite else {
                reason = "loss is \(report.loss) at step \(report.step)"
                break
            }
            for c in callbacks {
                if case .stop(let r) = try c.handle(.stepEnded(report), trainer: self), reason == nil { reason = r }
            }
        }
        for c in callbacks { _ = try c.handle(.runEnded(step: step), trainer: self) }
        return RunOutcome(steps: step - first, stopReason: reason)
    }
}
