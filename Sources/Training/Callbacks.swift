import Foundation

/// Calls `body` every `interval` completed steps (and optionally at the end of a run).
public final class PeriodicCallback: TrainingCallback {
    /// Steps between calls.
    public let interval: Int
    /// Also call at `runEnded` when the last step was not a multiple of `interval`.
    public let atEnd: Bool
    private let body: (Trainer) throws -> TrainingAction

    /// Creates the callback.
    public init(every interval: Int, atEnd: Bool = false, _ body: @escaping (Trainer) throws -> TrainingAction) {
        precondition(interval > 0)
        self.interval = interval
        self.atEnd = atEnd
        self.body = body
    }

    public func handle(_ event: TrainingEvent, trainer: Trainer) throws -> TrainingAction {
        switch event {
        case .stepEnded(let r) where r.step % interval == 0: return try body(trainer)
        case .runEnded(let s) where atEnd && s % interval != 0: return try body(trainer)
        default: return .proceed
        }
    }
}

/// Progress figures for a progress bar or a plain log line.
public struct Progress: Sendable, Equatable {
    /// Completed steps.
    public var step: Int
    /// The run's last step.
    public var endStep: Int
    /// Mean loss since the previous report.
    public var loss: Float
    /// Samples per second since the previous report.
    public var samplesPerSecond: Double
    /// Estimated seconds to `endStep` at the current rate.
    public var eta: Double
    /// The current learning rate.
    public var learningRate: Float
}

extension Progress {
    /// A plain log line: `step 300/2000  loss 1.0138  7040 samples/s  lr 9.8e-04  eta 1m02s`.
    public var line: String {
        "step \(step)/\(endStep)  loss \(formatted(loss, 4))  \(Int(samplesPerSecond.rounded())) samples/s"
            + "  lr \(scientific(learningRate))  eta \(Progress.duration(eta))"
    }

    /// A one-line progress bar of `width` cells for a terminal (no control characters):
    /// `[#########...........]  45%  step 900/2000  loss 0.8952  7942 samples/s  eta 35s`.
    public func bar(width: Int = 30) -> String {
        let fraction = endStep > 0 ? min(max(Double(step) / Double(endStep), 0), 1) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(Int((fraction * 100).rounded(.down)))%  step \(step)/\(endStep)  loss \(formatted(loss, 4))"
            + "  \(Int(samplesPerSecond.rounded())) samples/s  eta \(Progress.duration(eta))"
    }

    /// `45s`, `3m05s`, `2h07m`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + (s % 60 < 10 ? "0" : "") + "\(s % 60)s" }
        return "\(s / 3600)h" + ((s % 3600) / 60 < 10 ? "0" : "") + "\((s % 3600) / 60)m"
    }
}

private func formatted(_ v: Float, _ digits: Int) -> String { String(format: "%.\(digits)f", Double(v)) }
private func scientific(_ v: Float) -> String { String(format: "%.1e", Double(v)) }

/// Aggregates steps into `Progress` every `interval` steps and hands it to `report` (which
/// draws a bar or prints a line; this type does no I/O).
public final class ProgressCallback: TrainingCallback {
    /// Steps between reports.
    public let interval: Int
    private let report: (Progress) -> Void
    private var endStep = 0
    private var lossSum = 0.0, steps = 0, samples = 0, seconds = 0.0

    /// Creates the callback.
    public init(every interval: Int, report: @escaping (Progress) -> Void) {
        precondition(interval > 0)
        self.interval = interval
        self.report = report
    }

    public func handle(_ event: TrainingEvent, trainer: Trainer) throws -> TrainingAction {
        switch event {
        case .runStarted(let end): endStep = end
        case .stepEnded(let r):
            lossSum += Double(r.loss); steps += 1; samples += r.samples; seconds += r.seconds
            if r.step % interval == 0 || r.step == endStep {
                let rate = seconds > 0 ? Double(samples) / seconds : 0
                let perStep = seconds / Double(max(steps, 1))
                report(Progress(step: r.step, endStep: endStep, loss: Float(lossSum / Double(max(steps, 1))),
                                samplesPerSecond: rate, eta: perStep * Double(endStep - r.step), learningRate: r.learningRate))
                lossSum = 0; steps = 0; samples = 0; seconds = 0
            }
        case .runEnded: break
        }
        return .proceed
    }
}

/// Validates every `interval` steps, remembers the best value, reports improvements (e.g. to
/// keep the best model) and stops after `patience` validations without improvement.
public final class ValidationCallback: TrainingCallback {
    /// Steps between validations.
    public let interval: Int
    /// Whether smaller values are better (FRR, EER) or larger (AUC).
    public let lowerIsBetter: Bool
    /// Validations without improvement before stopping (nil: never stop).
    public let patience: Int?
    /// `(step, value)` of every validation.
    public private(set) var history: [(step: Int, value: Double)] = []
    /// The best value and its step.
    public private(set) var best: (step: Int, value: Double)?
    private let validate: (Trainer) throws -> Double
    private let onImprovement: (Trainer, Double) throws -> Void
    private var sinceBest = 0

    /// Creates the callback; `validate` returns the target metric of the current model.
    public init(
        every interval: Int, lowerIsBetter: Bool, patience: Int? = nil, validate: @escaping (Trainer) throws -> Double,
        onImprovement: @escaping (Trainer, Double) throws -> Void = { _, _ in }
    ) {
        precondition(interval > 0)
        self.interval = interval
        self.lowerIsBetter = lowerIsBetter
        self.patience = patience
        self.validate = validate
        self.onImprovement = onImprovement
    }

    public func handle(_ event: TrainingEvent, trainer: Trainer) throws -> TrainingAction {
        guard case .stepEnded(let r) = event, r.step % interval == 0 else { return .proceed }
        let value = try validate(trainer)
        history.append((r.step, value))
        let improved = best.map { value.isFinite && (lowerIsBetter ? value < $0.value : value > $0.value) } ?? value.isFinite
        if improved {
            best = (r.step, value)
            sinceBest = 0
            try onImprovement(trainer, value)
        } else {
            sinceBest += 1
            if let p = patience, sinceBest >= p {
                return .stop("no improvement in \(p) validations (best \(best?.value ?? .nan) at step \(best?.step ?? 0))")
            }
        }
        return .proceed
    }
}

/// Hands the full `TrainingState` to `save` every `interval` steps (and at the end of a run).
public final class CheckpointCallback: TrainingCallback {
    /// Steps between checkpoints.
    public let interval: Int
    private let save: (TrainingState) throws -> Void
    private var lastSaved = -1

    /// Creates the callback; `save` writes the state (atomically) wherever it belongs.
    public init(every interval: Int, save: @escaping (TrainingState) throws -> Void) {
        precondition(interval > 0)
        self.interval = interval
        self.save = save
    }

    public func handle(_ event: TrainingEvent, trainer: Trainer) throws -> TrainingAction {
        switch event {
        case .stepEnded(let r) where r.step % interval == 0:
            try save(trainer.state())
            lastSaved = r.step
        case .runEnded(let s) where s != lastSaved:
            try save(trainer.state())
            lastSaved = s
        default: break
        }
        return .proceed
    }
}
