/// Steers the loss parameters of a run's children between validations: the run hands it each
/// child's validation snapshot and current parameters, and it sets the parameters of the next
/// round. Codable so that a checkpoint can store it and a resumed run continue it exactly.
///
/// `ALAController` is the one there is (population-based: every round the run continues every
/// child from the round's best, `ControllerStep.best`).
public protocol LossController: Sendable, Codable {
    /// The loss parameters, in the loss's order.
    var specs: [ParameterSpec] { get }

    /// The first round's parameters, before any validation.
    mutating func begin(phi: inout [[Double]], progress: Double) -> ControllerStep

    /// One round after a validation of every child.
    /// - Parameters:
    ///   - snapshots: one per child, taken after the round's steps.
    ///   - phi: each child's loss parameters; set to the next round's.
    ///   - progress: training progress t/T in [0, 1].
    /// - Returns: what happened (with the child to continue from), for the run's history.
    mutating func step(snapshots: [ValidationSnapshot], phi: inout [[Double]], progress: Double) -> ControllerStep
}

extension ALAController: LossController {}
