import AlaverifyBase
import Foundation
import LossAlignment
import RunRecords
import SampleData
import ScoreMetrics
import Training

/// A training run problem (exit 64 for settings, 65 for data, 70 for a failure of the program).
public enum RunError: AlaverifyError, Sendable {
    /// A setting that cannot work (an incompatible policy, a loss that diverged...).
    case usage(String)
    /// Bad input data.
    case data(DataError)
    /// Something that should not happen (a bug or an environment failure).
    case internalFailure(String)

    public var description: String {
        switch self {
        case .usage(let m), .internalFailure(let m): return m
        case .data(let e): return e.description
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .usage: return .usage
        case .data: return .dataError
        case .internalFailure: return .internalError
        }
    }
}

/// What a finished run reports.
public struct RunSummary: Sendable {
    /// Best validation cost of the target (`Metric.cost`) and where it was reached.
    public var bestValidation: Double
    public var bestChild: Int
    public var bestStep: Int
    /// Test-split metrics of the best model.
    public var test: SystemMetrics
    /// Seconds spent training, validating and in the controller.
    public var trainingSeconds: Double
    public var validationSeconds: Double
    public var controllerSeconds: Double
    /// Streaming totals of the train split (nil when it was held in memory).
    public var data: DataStreamStats?
}

/// A training run: child models trained in lockstep with a fixed loss or with a controller (ALA)
/// steering their loss parameters, validated on an identity-disjoint split by the metric engine;
/// at the end the best model scores the test split.
///
/// Its parts: the data (`RunData`), the children (a `Population` of trainers), the reward and
/// selection rule (`TargetEvaluator`), the controller, the folder (`RunDirectory`) and the
/// callbacks that validate, steer, keep the best model, log and checkpoint after each interval
/// (`RunCallbacks.swift`); the training loop itself does no I/O.
public final class TrainingRun {
    /// The run's settings (`config.json`).
    public let config: RunConfig
    /// Where the run's files go.
    public let directory: RunDirectory
    let data: RunData
    let evaluator: TargetEvaluator
    let population: Population
    let state: RunState
    let log: (String) -> Void
    /// Draw a progress bar in the periodic lines (a terminal is watching).
    public var showBar = false

    /// Prepares a run: checks the settings, reads and splits the data, checks that the target is
    /// estimable on the validation split and builds the children and the controller. Nothing is
    /// written before all checks pass.
    public init(config: RunConfig, directory: RunDirectory, log: @escaping (String) -> Void) throws {
        try config.check()
        self.config = config
        self.directory = directory
        self.log = log
        let data = try RunData(config: config, log: log)
        try data.checkEstimable(config.target, rewardBand: config.rewardBand, log: log)
        self.data = data
        evaluator = TargetEvaluator(config)
        let trainers = try (0..<config.children).map { c in try Self.makeTrainer(config, data: data, child: c) }
        population = Population(trainers)
        state = RunState(controller: Self.makeController(config, loss: trainers[0].loss))
    }

    /// The trainer of child `c`: its network, loss (with `config.initialParameters`), optimizer,
    /// schedule and batch source, seeded from the run's seed.
    static func makeTrainer(_ config: RunConfig, data: RunData, child c: Int) throws -> Trainer {
        // A controlled population's children start identical (the same weights, sampler and
        // generator), so that a round compares loss parameters alone; fixed-loss children are
        // seeds, unless they continue from their mean.
        let seed = config.seed &+ (config.lossControl.isPopulation || config.mergesByMean ? 0 : UInt64(c) &* 1000)
        do {
            let model = try config.network.build(config, seed: seed)
            let loss = config.lossFamily.make(config, classes: data.trainClasses, seed: seed)
            var phi = loss.phi
            for (name, value) in config.initialParameters {
                guard let k = loss.parameterValues.index(of: name) else {
                    throw RunError.usage("unknown loss parameter '\(name)'; the loss has \(loss.parameterDescriptions.map(\.name).joined(separator: ", "))")
                }
                phi[k] = Float(value)
            }
            var values = loss.parameterValues
            try values.setChecked(phi)
            loss.parameterValues = values
            let source = try data.batchSource(config, seed: seed &+ 1, child: c)
            let schedule = LearningRateSchedule(
                base: config.learningRate, warmupSteps: config.warmupSteps, totalSteps: config.steps,
                minimum: config.learningRate / 100)
            return try Trainer(
                model: model, loss: loss, optimizer: .adamW(weightDecay: config.weightDecay), schedule: schedule,
                source: source, seed: seed &+ 2)
        } catch let error as TrainingError {
            // The network, the loss parameters or the schedule do not accept the settings.
            throw RunError.usage(error.description)
        }
    }

    /// The controller `config.lossControl` asks for, steering `loss`'s parameters (nil: fixed loss).
    static func makeController(_ config: RunConfig, loss: any VerificationLoss) -> (any LossController)? {
        guard let policy = config.lossControl.policy else { return nil }
        var settings = config.controller
        settings.policy = policy
        let all = specs(loss.parameterDescriptions)
        let targetFAR: Double?
        if case .frrAtFAR(let a) = config.target { targetFAR = a } else { targetFAR = nil }
        return ALAController(
            specs: all, steered: steered(all), initial: loss.phi.map(Double.init), children: config.children,
            targetFAR: targetFAR, config: settings, seed: config.seed)
    }

    /// The parameters loss control steers: the scale, the margins that are in use (a margin softmax
    /// keeps its other margin at 0), the balance and the tail weight; not the per-bin weights.
    static func steered(_ specs: [ParameterSpec]) -> [Int] {
        let marginSoftmax = specs.contains { $0.name == "cos_margin" }
        return specs.indices.filter { j in
            switch specs[j].kind {
            case .scale, .balance, .tail: return true
            case .margin: return !marginSoftmax || specs[j].name == "cos_margin"
            default: return false
            }
        }
    }

    /// The controller's description of the loss parameters.
    static func specs(_ parameters: [LossParameter]) -> [ParameterSpec] {
        parameters.map { p in
            var kind = ParameterKind.other
            var bin: Int? = nil
            if p.name == "scale" { kind = .scale }
            if p.name.hasSuffix("margin") { kind = .margin }
            if p.name == "balance" { kind = .balance }
            if p.name == "tail_weight" { kind = .tail }
            if let open = p.name.firstIndex(of: "["), let b = Int(p.name[p.name.index(after: open)...].dropLast()) {
                bin = b
                kind = p.name.hasPrefix("genuine") ? .genuineBinWeight : .impostorBinWeight
            }
            return ParameterSpec(
                name: p.name, kind: kind, lower: Double(p.range.lowerBound), upper: Double(p.range.upperBound),
                step: Double(p.step), bin: bin)
        }
    }

    /// Loads a saved policy into the controller; refuses a policy of another loss family.
    public func warmStart(policy path: String) throws {
        guard var controller = state.controller as? ALAController else {
            throw SettingError { "\($0(.policy)) needs \($0(.lossControl)) ala" }
        }
        let contents: RunFiles.Contents
        do { contents = try RunFiles.read(path: path, formats: ["alaverify-policy"]) } catch { throw RunError.data(error) }
        guard let json = contents.documents["controller"],
            let saved = try? JSONDecoder().decode(ALAController.self, from: Data(json.utf8))
        else { throw RunError.data(DataError(file: path, location: "/controller_json", "no readable policy")) }
        guard saved.specs.map(\.name) == controller.specs.map(\.name) else {
            throw RunError.usage("\(path): the policy was trained for loss parameters [\(saved.specs.map(\.name).joined(separator: ", "))], this run's loss has [\(controller.specs.map(\.name).joined(separator: ", "))]")
        }
        do { try controller.loadPolicy(saved.policy) } catch { throw RunError.usage("\(path): \(error.description)") }
        state.controller = controller
        log("warm start: policy from \(path)")
    }

    /// Runs (or continues, from `checkpoint.h5`) training to `config.steps`, then scores the test
    /// split with the best model. With `stopAfter`, it returns nil after that many steps
    /// (checkpoint written), as if interrupted.
    public func run(resume resuming: Bool, stopAfter: Int? = nil) throws -> RunSummary? {
        do { try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true) } catch {
            throw RunError.usage("\(directory.path): cannot write: \(error.localizedDescription)")
        }
        if !resuming {
            try AtomicFile.write(try config.json(), to: directory.config)
            try AtomicFile.write(data.splitDocument(checksum: config.dataChecksum), to: directory.split)
        }
        let resumedStep = resuming ? try resume() : nil
        if resumedStep == nil { beginControl() }
        let history = try HistoryFile(path: directory.history, keepingUpTo: resumedStep)
        log("training \(config.children) \(config.network.rawValue.uppercased()) child model(s), \(["ala": "ALA", "search": "population-search", "random": "random-move", "fixed": "fixed"][config.lossControl.rawValue]!) loss, target \(config.target), \(config.steps) steps of \(config.batchDescription), \(config.lossFamily) loss; \(data.summary)")
        log("compute: \(Compute.summary); results do not depend on the thread count")
        let outcome: RunOutcome
        do {
            outcome = try population.run(until: config.steps, interval: config.interval, callbacks: callbacks(history: history, stopAfter: stopAfter))
        } catch let error as PopulationError {
            switch error {
            case .member(_, let e as DataError): throw RunError.data(e)
            case .member(_, let e): throw RunError.data(DataError(file: config.data, "reading a training batch: \(e)"))
            case .diverged(let c, let reason):
                throw SettingError { "training diverged: child \(c): \(reason); lower \($0(.learningRate))" }
            }
        }
        if outcome.stopReason != nil { return nil }
        return try finish()
    }
}
