import Foundation
import LossAlignment
import RunRecords
import SampleData
import Training

/// The document a checkpoint stores next to the children's states (`/progress_json`).
struct RunProgress: Encodable {
    var step: Int
    /// The best validation cost, its child and step.
    var best: Double?
    var bestChild: Int?
    var bestStep: Int?
    /// The controller, of the type its run's `LossControl` names.
    var controller: (any LossController)?
    var trainingSeconds: Double
    var validationSeconds: Double
    var controllerSeconds: Double
    /// Streaming totals up to `step` (absent in memory and in checkpoints written before streaming).
    var data: DataStreamStats?

    enum CodingKeys: String, CodingKey {
        case step, best, bestChild, bestStep, controller, trainingSeconds, validationSeconds, controllerSeconds, data
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encodeIfPresent(best, forKey: .best)
        try c.encodeIfPresent(bestChild, forKey: .bestChild)
        try c.encodeIfPresent(bestStep, forKey: .bestStep)
        if let controller { try c.encode(controller, forKey: .controller) }
        try c.encode(trainingSeconds, forKey: .trainingSeconds)
        try c.encode(validationSeconds, forKey: .validationSeconds)
        try c.encode(controllerSeconds, forKey: .controllerSeconds)
        try c.encodeIfPresent(data, forKey: .data)
    }

    /// Everything but the controller, whose type the reader must name.
    private struct Fields: Decodable {
        var step: Int
        var best: Double?
        var bestChild: Int?
        var bestStep: Int?
        var trainingSeconds: Double
        var validationSeconds: Double
        var controllerSeconds: Double
        var data: DataStreamStats?
    }

    private struct ControllerField<C: Decodable>: Decodable {
        var controller: C?
    }

    /// Reads the document; the controller as a `controllerType` (nil: a run without one).
    static func decode(_ json: Data, controllerType: (any LossController.Type)?) throws -> RunProgress {
        let f = try JSONDecoder().decode(Fields.self, from: json)
        func controller<C: LossController>(_ type: C.Type) throws -> C? {
            try JSONDecoder().decode(ControllerField<C>.self, from: json).controller
        }
        return RunProgress(
            step: f.step, best: f.best, bestChild: f.bestChild, bestStep: f.bestStep,
            controller: try controllerType.flatMap { try controller($0) }, trainingSeconds: f.trainingSeconds,
            validationSeconds: f.validationSeconds, controllerSeconds: f.controllerSeconds, data: f.data)
    }
}

/// JSON with sorted keys: the same state gives the same text (Foundation's encoder otherwise
/// orders keys by hash, differently in every process).
func stableJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

extension TrainingRun {
    /// Writes `checkpoint.h5` (every child's state, the config and the progress) and, with a
    /// controller, `policy.h5`.
    func saveCheckpoint(step: Int) throws {
        let progress = RunProgress(
            step: step, best: state.best?.cost, bestChild: state.best?.child, bestStep: state.best?.step, controller: state.controller,
            trainingSeconds: state.trainingSeconds, validationSeconds: state.validationSeconds,
            controllerSeconds: state.controllerSeconds, data: data.streamStats)
        try RunFiles.write(
            path: directory.checkpoint, format: RunFiles.checkpointFormat, states: population.members.map { $0.state() },
            documents: ["config": try config.json(), "progress": try stableJSON(progress)])
        if let controller = state.controller {
            let json = try stableJSON(controller)
            try RunFiles.write(path: directory.policy, format: RunFiles.policyFormat, states: [], documents: ["controller": json])
        }
    }

    /// Continues from `checkpoint.h5`: restores every child, the controller, the best model's
    /// record, the timings and the streaming totals; returns the step reached.
    func resume() throws -> Int {
        let path = directory.checkpoint
        let contents: RunFiles.Contents
        do { contents = try RunFiles.read(path: path, formats: [RunFiles.checkpointFormat]) } catch { throw RunError.data(error) }
        guard contents.states.count == population.members.count, let json = contents.documents["progress"],
            let progress = try? RunProgress.decode(Data(json.utf8), controllerType: config.lossControl.controllerType)
        else { throw RunError.data(DataError(file: path, "the checkpoint does not match this run's children or has no progress record")) }
        for (trainer, saved) in zip(population.members, contents.states) {
            do { try trainer.restore(saved) } catch { throw RunError.data(DataError(file: path, error.description)) }
        }
        state.controller = progress.controller
        if let b = progress.best, let c = progress.bestChild, let s = progress.bestStep { state.best = (b, c, s) }
        state.trainingSeconds = progress.trainingSeconds
        state.validationSeconds = progress.validationSeconds
        state.controllerSeconds = progress.controllerSeconds
        data.earlierStreamStats = progress.data ?? DataStreamStats()
        log("resumed from \(path) at step \(progress.step)")
        return progress.step
    }
}
