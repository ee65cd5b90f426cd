import Dispatch

/// What a population's members did in one interval.
public struct IntervalReport: Sendable, Equatable {
    /// Steps every member has completed, this interval included.
    public var step: Int
    /// Steps in this interval.
    public var steps: Int
    /// Each member's mean loss over the interval (summed in step order as Float).
    public var meanLosses: [Float]
    /// Samples trained on in the interval, all members together.
    public var samples: Int
    /// Wall seconds the interval's training took.
    public var seconds: Double
    /// When the interval started (`DispatchTime` uptime, nanoseconds).
    public var startedAt: UInt64
}

/// Reacts to the end of each interval of a population run (validation, a loss controller,
/// checkpoints, logs); `.stop` ends the run after every callback of that interval has run.
public protocol PopulationCallback: AnyObject {
    /// Handles the end of an interval.
    func intervalEnded(_ report: IntervalReport, population: Population) throws -> TrainingAction
}

/// Why a population run stopped with an error.
public enum PopulationError: Error {
    /// A member's step threw (e.g. its batch source could not read a batch).
    case member(Int, any Error)
    /// A member's loss stopped being finite (`reason` says where).
    case diverged(member: Int, reason: String)
}

/// Several trainers (the children of a run) trained in lockstep: each interval every member
/// runs `interval` steps with `Trainer.run` — members in parallel, as parts of `Compute` — then
/// the callbacks see the interval's report. The loop itself does no I/O.
public final class Population {
    /// The trainers, in member order.
    public let members: [Trainer]

    /// A population of trainers that have completed the same number of steps.
    public init(_ members: [Trainer]) {
        precondition(!members.isEmpty && Set(members.map(\.step)).count == 1, "members must start at the same step")
        self.members = members
    }

    /// Steps every member has completed.
    public var step: Int { members[0].step }

    /// Trains until `endStep` in intervals of `interval` steps (the last may be shorter), calling
    /// the callbacks in order after each interval. Throws `PopulationError` when a member fails;
    /// the first failing member (by index) is reported, a thrown error before a divergence.
    @discardableResult
    public func run(until endStep: Int, interval: Int, callbacks: [any PopulationCallback]) throws -> RunOutcome {
        precondition(interval > 0)
        let first = step
        while step < endStep {
            let report = try trainInterval(min(interval, endStep - step))
            var reason: String?
            for c in callbacks {
                if case .stop(let r) = try c.intervalEnded(report, population: self), reason == nil { reason = r }
            }
            if let reason { return RunOutcome(steps: step - first, stopReason: reason) }
        }
        return RunOutcome(steps: step - first, stopReason: nil)
    }

    /// Runs `steps` steps of every member, in parallel.
    func trainInterval(_ steps: Int) throws -> IntervalReport {
        let n = members.count
        // Each member writes only its own slot; buffers avoid exclusivity traps across threads.
        let errors = UnsafeMutableBufferPointer<(any Error)?>.allocate(capacity: n)
        let outcomes = UnsafeMutableBufferPointer<RunOutcome?>.allocate(capacity: n)
        let losses = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        errors.initialize(repeating: nil)
        outcomes.initialize(repeating: nil)
        losses.initialize(repeating: 0)
        defer { errors.deallocate(); outcomes.deallocate(); losses.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        Compute.forEachPart(n) { [members] m in
            let mean = MeanLoss()
            do { outcomes[m] = try members[m].run(steps: steps, callbacks: [mean]) } catch { errors[m] = error; return }
            losses[m] = mean.total / Float(steps)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if let m = errors.firstIndex(where: { $0 != nil }) { throw PopulationError.member(m, errors[m]!) }
        if let m = outcomes.firstIndex(where: { $0?.stopReason != nil }) {
            throw PopulationError.diverged(member: m, reason: outcomes[m]!.stopReason!)
        }
        let samples = members.reduce(0) { $0 + ($1.lastReport?.samples ?? 0) } * steps
        return IntervalReport(
            step: step, steps: steps, meanLosses: Array(losses), samples: samples, seconds: seconds, startedAt: start)
    }
}

/// Sums a member's losses over one interval, in step order.
private final class MeanLoss: TrainingCallback {
    var total: Float = 0

    func handle(_ event: TrainingEvent, trainer: Trainer) throws -> TrainingAction {
        if case .stepEnded(let r) = event { total += r.loss }
        return .proceed
    }
}
