import Foundation
import LossAlignment
import ScoreMetrics
import Training

/// Everything needed to reproduce a training run; written to `RUN/config.json`.
///
/// Typed values (the target is a `Metric`, the network and the loss control are enums) encoded
/// as JSON strings, keys sorted: the file reads as it always has.
public struct RunConfig: Sendable, Codable, Equatable {
    /// The validation target and reward, e.g. `frr@far=1e-3`.
    public var target: Metric
    /// The samples file (alaverify-samples v1).
    public var data: String
    /// The data file's SHA-256 (checked on resume).
    public var dataChecksum: String
    /// Identity split fractions and seed.
    public var split: SplitConfig
    /// The embedding network.
    public var network: NetworkKind
    /// CNN first-stage width / MLP hidden widths.
    public var width: Int
    public var hidden: [Int]
    /// Embedding size.
    public var embedding: Int
    /// The loss family (nil, as in every config so far: `pairwise`).
    public var loss: LossFamily?
    /// Total optimizer steps per child.
    public var steps: Int
    /// Identities per batch (P) and samples per identity (K).
    public var identitiesPerBatch: Int
    public var samplesPerIdentity: Int
    /// AdamW learning rate, warm-up steps, weight decay.
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    /// Similarity bins of the pairwise loss (and of the controller's state) and the cross-batch memory size.
    public var bins: Int
    public var memory: Int
    /// What steers the loss parameters.
    public var lossControl: LossControl
    /// Training steps between validations (and controller steps).
    public var interval: Int
    /// Child models sharing one policy.
    public var children: Int
    /// The run's seed; child c uses streams of seed + c.
    public var seed: UInt64
    /// Validation samples per identity (nil: all), chosen with the seed.
    public var validationSamplesPerIdentity: Int?
    /// Test samples per identity scored into `scores.h5` at the end (nil: all), chosen with the seed.
    public var testSamplesPerIdentity: Int?
    /// Average the reward metric over a FAR band [a / band, a * band] (1 = the target alone).
    public var rewardBand: Double
    /// Controller settings.
    public var controller: ControllerConfig
    /// Initial loss parameters by name, overriding the loss's defaults (the fixed grid uses this).
    public var initialParameters: [String: Double]
    /// Steps between checkpoints (multiple of `interval`).
    public var checkpointInterval: Int
    /// true: the train split is not held in memory; batches are read from `data` on a background
    /// thread, drawn exactly as in memory (bit-identical weights). nil (as in configs written
    /// before streaming existed) or false: the train split is read into memory once.
    public var stream: Bool?

    /// Whether training batches are streamed from the file.
    public var streamsTrainingBatches: Bool { stream == true }

    /// The loss family the run trains with.
    public var lossFamily: LossFamily { loss ?? .pairwise }

    /// Identity split settings.
    public struct SplitConfig: Sendable, Codable, Equatable {
        public var train: Double
        public var validation: Double
        public var test: Double
        public var seed: UInt64
        public init(train: Double, validation: Double, test: Double, seed: UInt64) {
            self.train = train
            self.validation = validation
            self.test = test
            self.seed = seed
        }
    }

    /// The defaults for the bundled fixture (a run of a few minutes on 2 cores).
    public static func defaults(data: String) -> RunConfig {
        RunConfig(
            target: .frrAtFAR(1e-3), data: data, dataChecksum: "", split: SplitConfig(train: 0.5, validation: 0.3, test: 0.2, seed: 7),
            network: .cnn, width: 16, hidden: [512, 256], embedding: 64, loss: nil, steps: 600, identitiesPerBatch: 16,
            samplesPerIdentity: 8, learningRate: 2e-3, warmupSteps: 50, weightDecay: 1e-4, bins: 8, memory: 1024,
            lossControl: .ala, interval: 50, children: 2, seed: 1, validationSamplesPerIdentity: 16,
            testSamplesPerIdentity: 64, rewardBand: 2,
            controller: ControllerConfig(), initialParameters: [:], checkpointInterval: 100)
    }

    /// JSON text, keys sorted, for `config.json`.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads `config.json`.
    public static func read(_ data: Data) throws -> RunConfig { try JSONDecoder().decode(RunConfig.self, from: data) }
}

/// The embedding networks a run can train: a new one is a case here and a line in `build`.
public enum NetworkKind: String, Sendable, Codable, CaseIterable {
    /// The convolutional network (`CNNConfiguration`, width `RunConfig.width`).
    case cnn
    /// The multilayer perceptron (`MLPConfiguration`, widths `RunConfig.hidden`).
    case mlp

    /// The network of `config` with weights drawn from `seed`.
    public func build(_ config: RunConfig, seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        switch self {
        case .cnn: return try CNNConfiguration(width: config.width, embedding: config.embedding).build(seed: seed)
        case .mlp: return try MLPConfiguration(hidden: config.hidden, embedding: config.embedding).build(seed: seed)
        }
    }
}

/// The verification losses a run can train with: a new one is a case here and a line in `make`.
public enum LossFamily: String, Sendable, Codable, CaseIterable {
    /// `PairwiseBinnedLoss`: all pairs of a batch and a cross-batch memory, per-bin weights.
    case pairwise

    /// A fresh loss for `config` at its default parameters.
    public func make(_ config: RunConfig) -> any VerificationLoss {
        switch self {
        case .pairwise: return PairwiseBinnedLoss(bins: config.bins, memoryCapacity: config.memory)
        }
    }
}

/// What steers the loss parameters between validations: a new controller is a case here, a line
/// in `controllerType` and one in `TrainingRun.makeController`.
public enum LossControl: String, Sendable, Codable, CaseIterable {
    /// The ALA policy raises, keeps or lowers each parameter (`ALAController`).
    case ala
    /// The initial parameters throughout.
    case fixed

    /// The type of the controller a checkpoint stores (nil: none).
    public var controllerType: (any LossController.Type)? {
        switch self {
        case .ala: return ALAController.self
        case .fixed: return nil
        }
    }
}
