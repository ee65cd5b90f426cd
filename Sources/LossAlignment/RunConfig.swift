import Foundation
import ScoreMetrics

/// Everything needed to reproduce a training run; written to `RUN/config.json`.
public struct RunConfig: Sendable, Codable, Equatable {
    /// The validation target, e.g. `frr@far=1e-3` (SPEC spelling).
    public var target: String
    /// The samples file (alaverify-samples v1).
    public var data: String
    /// The data file's SHA-256 (checked on resume).
    public var dataChecksum: String
    /// Identity split fractions and seed.
    public var split: SplitConfig
    /// `cnn` or `mlp`.
    public var network: String
    /// CNN first-stage width / MLP hidden widths.
    public var width: Int
    public var hidden: [Int]
    /// Embedding size.
    public var embedding: Int
    /// Total optimizer steps per child.
    public var steps: Int
    /// Identities per batch (P) and samples per identity (K).
    public var identitiesPerBatch: Int
    public var samplesPerIdentity: Int
    /// AdamW learning rate, warm-up steps, weight decay.
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    /// Similarity bins of the pairwise loss and the cross-batch memory size.
    public var bins: Int
    public var memory: Int
    /// `ala` or `fixed`.
    public var lossControl: String
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
            target: "frr@far=1e-3", data: data, dataChecksum: "", split: SplitConfig(train: 0.5, validation: 0.3, test: 0.2, seed: 7),
            network: "cnn", width: 16, hidden: [512, 256], embedding: 64, steps: 600, identitiesPerBatch: 16,
            samplesPerIdentity: 8, learningRate: 2e-3, warmupSteps: 50, weightDecay: 1e-4, bins: 8, memory: 1024,
            lossControl: "ala", interval: 50, children: 2, seed: 1, validationSamplesPerIdentity: 16,
            testSamplesPerIdentity: 64, rewardBand: 2,
            controller: ControllerConfig(), initialParameters: [:], checkpointInterval: 100)
    }

    /// The target as a metric.
    public var metric: Metric { get throws { try Metric.parse(target) } }

    /// JSON text, keys sorted, for `config.json`.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads `config.json`.
    public static func read(_ data: Data) throws -> RunConfig { try JSONDecoder().decode(RunConfig.self, from: data) }
}
