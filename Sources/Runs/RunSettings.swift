import AlaverifyBase

/// A setting of a run, by its `config.json` key. Problems name settings through a naming
/// function, so the library speaks of config keys and the command line of its flags.
public enum RunSetting: String, Sendable, CaseIterable {
    case target, split, steps, interval, checkpointInterval, children, learningRate, warmupSteps
    case identitiesPerBatch, samplesPerIdentity, width, embedding, bins, rewardBand
    case validationSamplesPerIdentity, testSamplesPerIdentity, initialParameters, lossControl, policy
    case batchSize, blocks, tailFraction, continueFrom
}

/// Settings that cannot work together or with the data (exit 64), e.g. a step count of zero or
/// a target the validation split cannot resolve.
public struct SettingError: AlaverifyError, Sendable {
    private let text: @Sendable (_ name: (RunSetting) -> String) -> String

    /// A problem whose message names settings with the function it is given.
    public init(_ text: @escaping @Sendable (_ name: (RunSetting) -> String) -> String) { self.text = text }

    /// The message with settings named by `name` (the CLI passes its flag names).
    public func message(naming name: (RunSetting) -> String) -> String { text(name) }

    /// The message with settings named by their config keys.
    public var description: String { text(\.rawValue) }
    public var exitStatus: ExitStatus { .usage }
}

extension RunConfig {
    /// Refuses settings that cannot work, before any data is read: the first problem found.
    /// Limits keep a typo from exhausting memory or running for days (a batch is one similarity
    /// matrix of (P x K)^2 pairs; CNN weights grow with the width squared).
    public func check() throws(SettingError) {
        let c = self
        func require(_ ok: Bool, _ text: @escaping @Sendable (_ name: (RunSetting) -> String) -> String) throws(SettingError) {
            if !ok { throw SettingError(text) }
        }
        try require(c.steps > 0) { "\($0(.steps)) must be positive" }
        try require(c.interval > 0 && c.interval <= c.steps) { "\($0(.interval)) must lie in 1...steps (\(c.steps)), got \(c.interval)" }
        try require(c.checkpointInterval > 0 && c.checkpointInterval % c.interval == 0) {
            "\($0(.checkpointInterval)) must be a positive multiple of \($0(.interval)) (\(c.interval))"
        }
        try require(c.children >= 1 && c.children <= 64) { "\($0(.children)) must lie in 1...64" }
        try require(!c.lossControl.isPopulation || c.children % 2 == 0 || (c.lossControl == .ala && c.children == 1)) {
            "\($0(.lossControl)) \(c.lossControl.rawValue) needs an even number of children (pairs), or one child steered by an ALA policy, got \($0(.children)) \(c.children)"
        }
        try require(c.learningRate > 0 && c.learningRate <= 1) { "\($0(.learningRate)) must lie in (0, 1], got \(c.learningRate)" }
        try require(c.warmupSteps >= 0 && c.warmupSteps <= c.steps) {
            "\($0(.warmupSteps)) must lie in 0...steps (\(c.steps)), got \(c.warmupSteps)"
        }
        try require(c.identitiesPerBatch >= 2 && c.samplesPerIdentity >= 2) { _ in "batches need at least 2 identities x 2 samples" }
        try require(c.identitiesPerBatch <= 4096 && c.samplesPerIdentity <= 4096 && c.identitiesPerBatch * c.samplesPerIdentity <= 4096) {
            "a batch may hold at most 4096 samples (\($0(.identitiesPerBatch)) x \($0(.samplesPerIdentity))), got \(c.identitiesPerBatch) x \(c.samplesPerIdentity)"
        }
        try require(c.width >= 1 && c.width <= 256) { "\($0(.width)) must lie in 1...256, got \(c.width)" }
        try require(c.embedding >= 2 && c.embedding <= 4096) { "\($0(.embedding)) must lie in 2...4096" }
        try require((c.validationSamplesPerIdentity ?? 2) >= 2) {
            "\($0(.validationSamplesPerIdentity)) must be at least 2 (genuine pairs need two samples of an identity), or 0 for all"
        }
        try require((c.testSamplesPerIdentity ?? 2) >= 2) {
            "\($0(.testSamplesPerIdentity)) must be at least 2 (genuine pairs need two samples of an identity), or 0 for all"
        }
        try require(c.rewardBand >= 1) { "\($0(.rewardBand)) must be >= 1" }
        try require(c.bins >= 1 && c.bins <= 64) { "\($0(.bins)) must lie in 1...64" }
        try require((c.batchSize ?? 8) >= 2 && (c.batchSize ?? 8) <= 4096) { "\($0(.batchSize)) must lie in 2...4096, got \(c.batchSize ?? 0)" }
        try require((c.blocks ?? 1) >= 1 && (c.blocks ?? 1) <= 8) { "\($0(.blocks)) must lie in 1...8, got \(c.blocks ?? 0)" }
        try require(c.tailFraction.map { $0 > 0 && $0 <= 1 } ?? true) { "\($0(.tailFraction)) must lie in (0, 1]" }
        try require(c.lossFamily.needsPairs || c.batchSampling == .shuffled) { _ in
            "a margin softmax trains on shuffled batches (P x K batches are for the pairwise loss)"
        }
        try require(!c.mergesByMean || (c.batchSampling == .shuffled ? c.rowsPerBatch : c.identitiesPerBatch) >= c.children) {
            "a population that continues from its mean gives each child a share of the batch: \($0(.children)) \(c.children) need a batch of at least as many \(c.batchSampling == .shuffled ? "rows" : "identities")"
        }
        try require(c.continueFrom == nil || c.children > 1) {
            "\($0(.continueFrom)) needs a population of 2 or more \($0(.children))"
        }
        try require(c.continueFrom != .best || c.lossControl.isPopulation) {
            "\($0(.continueFrom)) best needs \($0(.lossControl)) ala, search or random (fixed-loss children are independent seeds, or continue from their mean)"
        }
    }
}
