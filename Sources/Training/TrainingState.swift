import AlaverifyBase
import ScoreMetrics

/// Everything needed to continue a run bit-identically, as plain arrays (for an HDF5 writer).
public struct TrainingState: Sendable, Equatable {
    /// Completed steps.
    public var step: Int
    /// The model's architecture string (a state from another architecture is refused).
    public var architecture: String
    /// The loss family (a state from another family is refused).
    public var lossFamily: String
    /// Model parameters (`model/<name>`), model buffers (`buffer/<name>`), and loss weights (`loss/<name>`).
    public var weights: [NamedArray]
    /// Optimizer moments and counters.
    public var optimizer: [NamedArray]
    /// Loss state arrays (cross-batch memory).
    public var lossFloats: [NamedArray]
    /// Loss integer arrays (memory labels and position).
    public var lossIntegers: [NamedIntegers]
    /// Names of the Phi components.
    public var phiNames: [String]
    /// Phi.
    public var phi: [Float]
    /// The trainer's generator state.
    public var generator: [UInt64]
    /// The batch source's state.
    public var source: [UInt64]

    /// Creates a state from its parts (used by checkpoint readers).
    public init(
        step: Int, architecture: String, lossFamily: String, weights: [NamedArray], optimizer: [NamedArray],
        lossFloats: [NamedArray], lossIntegers: [NamedIntegers], phiNames: [String], phi: [Float], generator: [UInt64],
        source: [UInt64]
    ) {
        self.step = step
        self.architecture = architecture
        self.lossFamily = lossFamily
        self.weights = weights
        self.optimizer = optimizer
        self.lossFloats = lossFloats
        self.lossIntegers = lossIntegers
        self.phiNames = phiNames
        self.phi = phi
        self.generator = generator
        self.source = source
    }
}

extension TrainingState {
    /// The mean of `states` (of one architecture and loss, at one step): weights and optimizer
    /// moments averaged element by element, in member order; everything else (loss state,
    /// parameters, generator, sampler) from `states[keeping]`.
    public static func mean(of states: [TrainingState], keeping: Int) throws(TrainingError) -> TrainingState {
        guard states.indices.contains(keeping) else { throw .invalidInput("no state \(keeping) among \(states.count)") }
        var merged = states[keeping]
        func average(_ arrays: [[NamedArray]]) throws(TrainingError) -> [NamedArray] {
            var out = arrays[0]
            let n = Float(arrays.count)
            for k in out.indices {
                var v = out[k].values
                for other in arrays.dropFirst() {
                    guard other.count == out.count, other[k].name == out[k].name, other[k].values.count == v.count else {
                        throw .stateMismatch("states to average differ at '\(out[k].name)'")
                    }
                    for i in v.indices { v[i] += other[k].values[i] }
                }
                for i in v.indices { v[i] /= n }
                out[k].values = v
            }
            return out
        }
        guard Set(states.map(\.step)).count == 1 else { throw .stateMismatch("states to average are at different steps") }
        merged.weights = try average(states.map(\.weights))
        merged.optimizer = try average(states.map(\.optimizer))
        return merged
    }
}

extension Trainer {
    private var namedWeights: [(String, Tensor)] {
        model.parameters.map { ("model/\($0.name)", $0.value) }
            + model.buffers.map { ("buffer/\($0.name)", $0.tensor) }
            + loss.trainableParameters.map { ("loss/\($0.name)", $0.value) }
    }

    /// A snapshot of the run.
    public func state() -> TrainingState {
        let s = loss.state
        return TrainingState(
            step: step, architecture: model.architecture, lossFamily: loss.family,
            weights: namedWeights.map { NamedArray(name: $0.0, shape: $0.1.shape.extents, values: $0.1.array) },
            optimizer: optimizer.state, lossFloats: s.floats, lossIntegers: s.integers,
            phiNames: loss.parameterDescriptions.map(\.name), phi: loss.phi, generator: [rng.state], source: source.state)
    }

    /// Continues from `state`. A state from another architecture or loss family, or with
    /// missing or mis-sized weights, is refused before anything changes; a damaged optimizer
    /// or loss section may leave the trainer partly restored (restore again or rebuild).
    public func restore(_ state: TrainingState) throws(TrainingError) {
        guard state.architecture == model.architecture else {
            throw .stateMismatch("checkpoint is for \(state.architecture), this model is \(model.architecture)")
        }
        guard state.lossFamily == loss.family, state.phiNames == loss.parameterDescriptions.map(\.name) else {
            throw .stateMismatch("checkpoint is for loss \(state.lossFamily), this run uses \(loss.family)")
        }
        guard state.generator.count == 1 else { throw .stateMismatch("generator state has \(state.generator.count) words") }
        let targets = namedWeights
        var sources: [NamedArray] = []
        for (name, t) in targets {
            guard let a = state.weights.first(where: { $0.name == name }) else { throw .stateMismatch("missing weights '\(name)'") }
            guard a.values.count == t.count else {
                throw .stateMismatch("'\(name)' has \(a.values.count) values, expected \(t.count)")
            }
            sources.append(a)
        }
        var values = loss.parameterValues
        try values.setChecked(state.phi)
        try optimizer.restore(state.optimizer)
        try loss.restore(floats: state.lossFloats, integers: state.lossIntegers)
        try source.restore(state.source)
        for ((_, t), a) in zip(targets, sources) {
            a.values.withUnsafeBufferPointer { t.pointer.update(from: $0.baseAddress!, count: t.count) }
        }
        loss.parameterValues = values
        rng = SeededGenerator(seed: state.generator[0])
        step = state.step
    }
}
