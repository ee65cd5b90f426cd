/// Steers the loss parameters of a run's child models between validations: the run hands it each
/// child's validation snapshot and current parameters, and it changes the parameters for the next
/// steps. Codable so that a checkpoint can store it and a resumed run continue it exactly.
///
/// `ALAController` is the one there is; a new controller (e.g. population-based) conforms and is
/// chosen by the run's `LossControl`.
public protocol LossController: Sendable, Codable {
    /// The loss parameters it steers, in the loss's order.
    var specs: [ParameterSpec] { get }

    /// One controller step after a validation of every child.
    /// - Parameters:
    ///   - snapshots: one per child, taken after the last steps.
    ///   - phi: each child's current loss parameters; updated in place.
    ///   - progress: training progress t/T in [0, 1].
    /// - Returns: what happened, for the run's history.
    mutating func step(snapshots: [ValidationSnapshot], phi: inout [[Double]], progress: Double) -> ControllerStep
}

extension ALAController: LossController {}
