import AlaverifyBase
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
    /// The loss family (nil, as in configs written before there was a choice: `pairwise`).
    public var loss: LossFamily?
    /// Residual blocks per ResNet stage (nil: 1).
    public var blocks: Int?
    /// How batches are drawn (nil: P x K for the pairwise loss, shuffled epochs otherwise).
    public var sampling: BatchSampling?
    /// Rows per shuffled batch (nil: P x K).
    public var batchSize: Int?
    /// The impostor-tail term's share of impostor pairs (nil: no tail term).
    public var tailFraction: Double?
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
    /// What a population continues from after each round (nil, as in configs written before
    /// there was a choice: the best child).
    public var continueFrom: PopulationMerge?

    /// Whether training batches are streamed from the file.
    public var streamsTrainingBatches: Bool { stream == true }

    /// The loss family the run trains with.
    public var lossFamily: LossFamily { loss ?? .pairwise }

    /// How the run draws its batches.
    public var batchSampling: BatchSampling { sampling ?? (lossFamily.needsPairs ? .pk : .shuffled) }

    /// Rows per batch.
    public var rowsPerBatch: Int { batchSampling == .shuffled ? (batchSize ?? identitiesPerBatch * samplesPerIdentity) : identitiesPerBatch * samplesPerIdentity }

    /// Children share a controlled population's batch (each child trains on `1/children` of it:
    /// the same rows for every child, or each its own share when the population continues
    /// from its mean): a population costs as many samples per step as one child of a fixed-loss run.
    var batchShare: Int { lossControl.isPopulation || mergesByMean ? max(1, children) : 1 }

    /// Whether a population's children continue from their mean after each round (each trained
    /// on its own share of every batch), rather than from the best child. With a fixed loss
    /// (`--loss-control fixed --children N --continue-from mean`) the children are such a
    /// population at the initial loss parameters: what averaging alone does (local SGD).
    public var mergesByMean: Bool {
        (lossControl.isPopulation || lossControl == .fixed) && children > 1 && (continueFrom ?? .best) == .mean
    }

    /// What a new population run continues from when the command line does not say.
    public static let defaultMerge = PopulationMerge.mean

    /// Rows of one child's shuffled batch.
    public var childRowsPerBatch: Int { max(2, rowsPerBatch / batchShare) }

    /// Identities of one child's P x K batch.
    public var childIdentitiesPerBatch: Int { max(2, identitiesPerBatch / batchShare) }

    /// `16x8` (P x K) or `256 shuffled` per child.
    public var batchDescription: String {
        let rows = batchSampling == .pk ? "\(childIdentitiesPerBatch)x\(samplesPerIdentity)" : "\(childRowsPerBatch) shuffled"
        return mergesByMean ? "\(rows) (each child its share of \(rowsPerBatch), continuing from the mean)" : rows
    }

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
            network: .cnn, width: 16, hidden: [512, 256], embedding: 64, loss: nil, blocks: nil, sampling: nil, batchSize: nil,
            tailFraction: nil, steps: 600, identitiesPerBatch: 16,
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
    /// The residual network (`ResNetConfiguration`, width `RunConfig.width`, `RunConfig.blocks` per stage).
    case resnet

    /// The network of `config` with weights drawn from `seed`.
    public func build(_ config: RunConfig, seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        switch self {
        case .cnn: return try CNNConfiguration(width: config.width, embedding: config.embedding).build(seed: seed)
        case .mlp: return try MLPConfiguration(hidden: config.hidden, embedding: config.embedding).build(seed: seed)
        case .resnet:
            return try ResNetConfiguration(width: config.width, blocksPerStage: config.blocks ?? 1, embedding: config.embedding)
                .build(seed: seed)
        }
    }
}

/// The verification losses a run can train with: a new one is a case here and a line in `make`.
public enum LossFamily: String, Sendable, Codable, CaseIterable {
    /// `PairwiseBinnedLoss`: all pairs of a batch and a cross-batch memory, per-bin weights.
    case pairwise
    /// `MarginSoftmaxLoss` over the training identities with a cosine margin (s 30, m 0.35).
    case cosface
    /// `MarginSoftmaxLoss` with an angular margin (s 30, m 0.5).
    case arcface

    /// Whether a batch must hold several samples of an identity (P x K batches).
    public var needsPairs: Bool { self == .pairwise }

    /// A fresh loss for `config` at its default parameters, over `classes` training identities
    /// (class proxies drawn from `seed`); with `config.tailFraction`, the impostor-tail term.
    public func make(_ config: RunConfig, classes: Int, seed: UInt64) -> any VerificationLoss {
        var rng = SeededGenerator(seed: seed, stream: 0x1055)
        let tail = config.tailFraction.map { ImpostorTail(fraction: $0, memoryCapacity: config.memory) }
        switch self {
        case .pairwise: return PairwiseBinnedLoss(bins: config.bins, memoryCapacity: config.memory)
        case .cosface:
            return MarginSoftmaxLoss(classes: classes, dimension: config.embedding, scale: 30, cosMargin: 0.35, angularMargin: 0,
                                     tail: tail, rng: &rng)
        case .arcface:
            return MarginSoftmaxLoss(classes: classes, dimension: config.embedding, scale: 30, cosMargin: 0, angularMargin: 0.5,
                                     tail: tail, rng: &rng)
        }
    }
}

/// How a run draws training batches.
public enum BatchSampling: String, Sendable, Codable, CaseIterable {
    /// P identities x K samples (`PKSampler`): every batch holds genuine pairs.
    case pk
    /// Shuffled epochs of `RunConfig.batchSize` rows (`ShuffledSampler`), for losses over classes.
    case shuffled
}

/// What a population's children continue from after a round.
public enum PopulationMerge: String, Sendable, Codable, CaseIterable {
    /// The best child's state (weights, optimizer, loss state); the children of a round train
    /// on the same rows, a share of the batch each.
    case best
    /// The mean of the children's weights and optimizer moments, the loss parameters of the best
    /// child; each child trains on its own share of every batch, so the run trains on every row
    /// of every batch.
    case mean
}

/// What steers the loss parameters between validations: a new controller is a case here, a line
/// in `controllerType` and one in `TrainingRun.makeController`.
public enum LossControl: String, Sendable, Codable, CaseIterable {
    /// ALA: a learned policy chooses mirrored parameter moves for a population of children that
    /// share each round's start and batches; the run continues from the best (`ALAController`).
    case ala
    /// The same population with stateless, learned action probabilities (a population search).
    case search
    /// The same population with uniformly random moves (the control for what learning adds).
    case random
    /// The initial parameters throughout.
    case fixed

    /// How the controller draws its actions (nil: no controller).
    public var policy: ControlPolicy? {
        switch self {
        case .ala: return .learned
        case .search: return .search
        case .random: return .random
        case .fixed: return nil
        }
    }

    /// Whether the children are a controlled population (identical at each round's start).
    public var isPopulation: Bool { policy != nil }

    /// The type of the controller a checkpoint stores (nil: none).
    public var controllerType: (any LossController.Type)? { isPopulation ? ALAController.self : nil }
}
