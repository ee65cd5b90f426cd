import AlaverifyBase
import Dispatch
import Foundation
import SampleData
import ScoreMetrics
import Training

/// A training run problem a user can act on (exit 64 for settings, 65 for data).
public enum RunError: AlaverifyError, Sendable {
    /// A setting that cannot work (bad target, unestimable target, incompatible policy...).
    case usage(String)
    /// Bad input data.
    case data(DataError)

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .data(let e): return e.description
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .usage: return .usage
        case .data: return .dataError
        }
    }
}

/// One validation of one child, as logged to `history.jsonl`.
public struct ValidationRecord: Sendable {
    public var target: Double
    public var reward: Double
    public var eer: Double?
    public var auc: Double?
    public var snapshot: ValidationSnapshot
}

/// A training run with a fixed loss or with ALA steering the loss parameters of one or more
/// child models, validated on an identity-disjoint split by the metric engine.
///
/// Files in the run directory: `config.json`, `history.jsonl`, `checkpoint.h5` (the latest
/// complete checkpoint of every child and the controller), `model.h5` (best on validation by the
/// target), `policy.h5` (ALA), `scores.h5` (all pairs of the test split, with identities).
public final class TrainingRun {
    public let config: RunConfig
    public let metric: Metric
    public let directory: URL
    let log: (String) -> Void
    /// The train split in memory; nil when its batches are streamed from the file.
    let train: ImageSet?
    /// The file rows and identities of the train split.
    let trainRows: [Int]
    let trainLabels: [Int32]
    /// The reader of streamed batches, shared by the children (nil in memory).
    let streamReader: ImageRowReader?
    /// Each child's streamed batch source (empty in memory).
    var streams: [StreamedPKSource] = []
    /// Streaming totals of the run's earlier part (restored from the checkpoint on resume).
    var earlierStreamStats = DataStreamStats()
    let validation: ImageSet
    let test: ImageSet
    let identityNames: [String]
    var trainers: [Trainer] = []
    var controller: ALAController?
    var best: (value: Double, child: Int, step: Int)?
    var history: FileHandle?
    var validationSeconds = 0.0
    var controllerSeconds = 0.0
    var trainingSeconds = 0.0
    /// Draw a progress bar in the periodic lines (a terminal is watching).
    public var showBar = false

    /// Prepares a run: reads the data, splits it, checks the target is estimable on the
    /// validation split and builds the children. Nothing is written before all checks pass.
    ///
    /// With `config.stream` only the train split's row indices and identities are kept; the
    /// validation and test splits (capped per identity) are read into memory either way.
    public init(config: RunConfig, directory: URL, log: @escaping (String) -> Void) throws(RunError) {
        self.config = config
        self.directory = directory
        self.log = log
        do { metric = try Metric.parse(config.target) } catch { throw .usage("--target: \(error.description)") }
        try Self.validate(config)
        let samples: SamplesFile
        do { samples = try SamplesFile(path: config.data) } catch { throw .data(error) }
        guard case .images(let h, let w, let channels) = samples.kind, channels == 1, samples.layout == .samples else {
            throw .data(DataError(file: config.data, location: "/samples/images",
                "training needs single-channel images [N, H, W]; found \(samples.kind)"))
        }
        guard h == 32 && w == 32 else {
            throw .data(DataError(file: config.data, location: "/samples/images",
                "the networks take 32x32 images, found \(h)x\(w); re-import with --resize 32x32"))
        }
        identityNames = samples.identityNames
        let split: IdentitySplit
        do {
            split = try IdentitySplit.byFractions(
                identityCount: samples.identityCount, train: config.split.train, validation: config.split.validation,
                test: config.split.test, seed: config.split.seed, file: config.data)
        } catch { throw .data(error) }
        for (part, name) in [(SplitPart.train, "train"), (.validation, "validation"), (.test, "test")] where split[part].count < 2 {
            throw .data(DataError(file: config.data, location: "split",
                "the \(name) split has \(split[part].count) identities; at least 2 are needed (the file has \(samples.identityCount))"))
        }
        func load(_ part: SplitPart, perIdentity: Int?) throws(RunError) -> ImageSet {
            var indices = split.samples(part, identities: samples.identities)
            if let cap = perIdentity {
                var rng = SeededGenerator(seed: config.seed, stream: 0x5A11)
                indices = samplesCappedPerIdentity(indices, identities: samples.identities, cap: cap, using: &rng)
            }
            do {
                let pixels = try samples.readImages(indices: indices)
                return try ImageSet(pixels: pixels, labels: indices.map { samples.identities[$0] }, height: h, width: w)
            } catch let error as DataError {
                throw .data(error)
            } catch {
                throw .data(DataError(file: config.data, "\(error)"))
            }
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        trainRows = split.samples(.train, identities: samples.identities)
        trainLabels = trainRows.map { samples.identities[$0] }
        train = config.streamsTrainingBatches ? nil : try load(.train, perIdentity: nil)
        do { streamReader = config.streamsTrainingBatches ? try ImageRowReader(samples, cacheBytes: Self.streamCacheBytes) : nil } catch {
            throw .data(error)
        }
        validation = try load(.validation, perIdentity: config.validationSamplesPerIdentity)
        test = try load(.test, perIdentity: config.testSamplesPerIdentity)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) * 1e-9
        if let train {
            // Batches are drawn from memory afterwards: this one read is the only data stall of the run.
            log(String(format: "read %d images of the three splits in %.2f s (batches then come from memory: no per-step I/O stall)",
                       train.count + validation.count + test.count, loadSeconds))
        } else {
            log(String(format: "read %d images of the validation and test splits in %.2f s; the train split (%d samples) is streamed: each batch is read from the file on a background thread, %d batches ahead, through a %d MiB cache of decoded chunks",
                       validation.count + test.count, loadSeconds, trainRows.count, Self.prefetchDepth, Self.streamCacheBytes >> 20))
        }
        try checkEstimable()
        for c in 0..<config.children { trainers.append(try makeTrainer(child: c)) }
        if config.lossControl == "ala" {
            let specs = Self.specs(trainers[0].loss.parameterDescriptions)
            controller = ALAController(
                specs: specs, initial: trainers[0].loss.phi.map(Double.init), children: config.children,
                config: config.controller, seed: config.seed)
        }
    }

    /// Batches the prefetch thread keeps ready ahead of each streamed child.
    static let prefetchDepth = 3
    /// Decoded chunks kept for streamed batches (32 MiB: 128 chunks of 256 32x32 images).
    static let streamCacheBytes = 32 << 20

    static func validate(_ c: RunConfig) throws(RunError) {
        func check(_ ok: Bool, _ message: String) throws(RunError) { if !ok { throw .usage(message) } }
        try check(["cnn", "mlp"].contains(c.network), "--network must be cnn or mlp, got \(c.network)")
        try check(["ala", "fixed"].contains(c.lossControl), "--loss-control must be ala or fixed, got \(c.lossControl)")
        try check(c.steps > 0, "--steps must be positive")
        try check(c.interval > 0 && c.interval <= c.steps, "--interval must lie in 1...steps (\(c.steps)), got \(c.interval)")
        try check(c.checkpointInterval > 0 && c.checkpointInterval % c.interval == 0,
                  "--checkpoint-interval must be a positive multiple of --interval (\(c.interval))")
        try check(c.children >= 1 && c.children <= 64, "--children must lie in 1...64")
        try check(c.learningRate > 0 && c.learningRate <= 1, "--learning-rate must lie in (0, 1], got \(c.learningRate)")
        try check(c.warmupSteps >= 0 && c.warmupSteps <= c.steps, "--warmup-steps must lie in 0...steps (\(c.steps)), got \(c.warmupSteps)")
        try check(c.identitiesPerBatch >= 2 && c.samplesPerIdentity >= 2, "batches need at least 2 identities x 2 samples")
        // Limits that keep a typo from exhausting memory or running for days (a batch is one
        // similarity matrix of (P x K)^2 pairs; CNN weights grow with the width squared).
        try check(c.identitiesPerBatch <= 4096 && c.samplesPerIdentity <= 4096 && c.identitiesPerBatch * c.samplesPerIdentity <= 4096,
                  "a batch may hold at most 4096 samples (--batch-identities x --batch-samples), got \(c.identitiesPerBatch) x \(c.samplesPerIdentity)")
        try check(c.width >= 1 && c.width <= 256, "--width must lie in 1...256, got \(c.width)")
        try check(c.embedding >= 2 && c.embedding <= 4096, "--embedding must lie in 2...4096")
        try check((c.validationSamplesPerIdentity ?? 2) >= 2,
                  "--validation-samples must be at least 2 (genuine pairs need two samples of an identity), or 0 for all")
        try check((c.testSamplesPerIdentity ?? 2) >= 2,
                  "--test-samples must be at least 2 (genuine pairs need two samples of an identity), or 0 for all")
        try check(c.rewardBand >= 1, "--reward-band must be >= 1")
        try check(c.bins >= 1 && c.bins <= 64, "--bins must lie in 1...64")
    }

    /// Refuses targets the validation split cannot resolve; warns when only identities are short.
    func checkEstimable() throws(RunError) {
        let n = validation.count
        let ids = Set(validation.labels).count
        let counts = Dictionary(grouping: validation.labels, by: { $0 }).mapValues(\.count)
        let genuine = counts.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        let impostor = n * (n - 1) / 2 - genuine
        let identityPairs = ids * (ids - 1) / 2
        switch metric {
        case .frrAtFAR(let a), .partialAUC(let a):
            if a * Double(impostor) < 3 {
                throw .usage(
                    "--target \(metric) is not estimable on the validation split: \(metric) needs a x impostor comparisons >= 3, but \(fmt(a)) x \(impostor) = \(fmt(a * Double(impostor))); use a larger validation split (--split train,validation,test, e.g. 0.4,0.4,0.2), more samples per identity (--validation-samples), or a target of at least \(fmt(3 / Double(impostor)))")
            }
            if a * Double(identityPairs) < 3 {
                log("warning: \(metric) is not estimable by identities on the validation split (\(fmt(a)) x \(identityPairs) impostor identity pairs < 3): the reward is dominated by a few look-alike identity pairs and will be noisy; reward band x\(fmt(config.rewardBand)) around the target")
            }
        case .farAtFRR(let b):
            if b * Double(genuine) < 3 {
                throw .usage("--target \(metric) is not estimable on the validation split: \(fmt(b)) x \(genuine) genuine comparisons < 3")
            }
        default: break
        }
    }

    func fmt(_ x: Double) -> String { String(format: "%.3g", x) }

    /// The controller's description of the loss parameters.
    static func specs(_ parameters: [LossParameter]) -> [ParameterSpec] {
        parameters.map { p in
            var kind = ParameterKind.other
            var bin: Int? = nil
            if p.name == "scale" { kind = .scale }
            if p.name.hasSuffix("margin") { kind = .margin }
            if p.name == "balance" { kind = .balance }
            if let open = p.name.firstIndex(of: "["), let b = Int(p.name[p.name.index(after: open)...].dropLast()) {
                bin = b
                kind = p.name.hasPrefix("genuine") ? .genuineBinWeight : .impostorBinWeight
            }
            return ParameterSpec(
                name: p.name, kind: kind, lower: Double(p.range.lowerBound), upper: Double(p.range.upperBound),
                step: Double(p.step), bin: bin)
        }
    }

    /// Builds the network of a config.
    public static func network(_ config: RunConfig, seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        if config.network == "mlp" {
            return try MLPConfiguration(hidden: config.hidden, embedding: config.embedding).build(seed: seed)
        }
        return try CNNConfiguration(width: config.width, embedding: config.embedding).build(seed: seed)
    }

    func makeTrainer(child c: Int) throws(RunError) -> Trainer {
        let seed = config.seed &+ UInt64(c) &* 1000
        do {
            let model = try Self.network(config, seed: seed)
            let loss = PairwiseBinnedLoss(bins: config.bins, memoryCapacity: config.memory)
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
            let source: any BatchSource
            if let train {
                source = try PKSampler(
                    data: train, identitiesPerBatch: config.identitiesPerBatch, samplesPerIdentity: config.samplesPerIdentity,
                    seed: seed &+ 1)
            } else if let streamReader {
                // Draws exactly what PKSampler draws over the same train split (same rows, same dense labels).
                let stream = try StreamedPKSource(
                    reader: streamReader, rows: trainRows, labels: trainLabels, identitiesPerBatch: config.identitiesPerBatch,
                    samplesPerIdentity: config.samplesPerIdentity, seed: seed &+ 1, depth: Self.prefetchDepth)
                streams.append(stream)
                source = stream
            } else {
                throw RunError.usage("internal: neither an in-memory nor a streamed train split")
            }
            let schedule = LearningRateSchedule(
                base: config.learningRate, warmupSteps: config.warmupSteps, totalSteps: config.steps,
                minimum: config.learningRate / 100)
            try schedule.validate()
            return try Trainer(
                model: model, loss: loss, optimizer: .adamW(weightDecay: config.weightDecay), schedule: schedule,
                source: source, seed: seed &+ 2)
        } catch let error as RunError {
            throw error
        } catch {
            throw .usage("\(error)")
        }
    }

    /// Embeds images and scores all pairs (i < j) without identities (validation).
    static func allPairSimilarities(_ model: EmbeddingNetwork, _ images: ImageSet) -> (genuine: [Float], impostor: [Float]) {
        let embeddings = images.pixels.withUnsafeBufferPointer { model.embed($0, count: images.count) }
        return Verification.allPairSimilarities(embeddings: embeddings, dimension: model.embeddingSize, labels: images.labels)
    }

    /// The reward-side value of the target (lower is better) on a sorted score set.
    func orientedValue(_ s: SortedScores<Float>, band: Double) -> Double {
        switch metric {
        case .frrAtFAR(let a):
            guard band > 1 else { return s.operatingPoint(metric).frr ?? 1 }
            let exponents = [-1.0, -0.5, 0, 0.5, 1]
            let values = exponents.map { e -> Double in
                let rate = min(max(a * pow(band, e), 1e-12), 0.999)
                return s.operatingPoint(.frrAtFAR(rate)).frr ?? 1
            }
            return values.reduce(0, +) / Double(values.count)
        case .farAtFRR: return s.operatingPoint(metric).far ?? 1
        case .eer: return s.equalErrorRate()?.value ?? 1
        case .rocAUC: return 1 - s.rocAUC()
        case .averagePrecision: return 1 - s.averagePrecision()
        case .partialAUC(let a): return 1 - s.partialAUC(maxFAR: a)
        }
    }

    /// Validates one child: the target, the reward value, neighbours and per-bin masses.
    func validate(child c: Int) throws -> ValidationRecord {
        let trainer = trainers[c]
        let set = Self.allPairSimilarities(trainer.model, validation)
        let bins = config.bins
        func masses(_ scores: [Float]) -> [Double] {
            var m = [Double](repeating: 0, count: bins)
            for s in scores {
                let b = min(max(Int(((s + 1) * 0.5 * Float(bins)).rounded(.down)), 0), bins - 1)
                m[b] += 1
            }
            return m.map { $0 / Double(max(scores.count, 1)) }
        }
        let genuineMass = masses(set.genuine), impostorMass = masses(set.impostor)
        // Validation needs no identities: without them the sort skips the payload and the
        // operating points skip identity-pair counting.
        let sorted = SortedScores(try ScoreSet(genuine: set.genuine, impostor: set.impostor))
        let target: Double
        switch metric {
        case .frrAtFAR, .farAtFRR: target = sorted.operatingPoint(metric).value ?? 1
        case .eer: target = sorted.equalErrorRate()?.value ?? 1
        case .rocAUC: target = sorted.rocAUC()
        case .averagePrecision: target = sorted.averagePrecision()
        case .partialAUC(let a): target = sorted.partialAUC(maxFAR: a)
        }
        let reward = orientedValue(sorted, band: config.rewardBand)
        let a: Double
        if case .frrAtFAR(let x) = metric { a = x } else { a = 1e-2 }
        let neighbours = [min(a / 10, 0.5), min(a * 10, 0.5)].map { sorted.operatingPoint(.frrAtFAR($0)).frr ?? 1 }
        return ValidationRecord(
            target: target, reward: reward, eer: sorted.equalErrorRate()?.value, auc: sorted.rocAUC(),
            snapshot: ValidationSnapshot(target: reward, neighbours: neighbours, genuineBinMass: genuineMass, impostorBinMass: impostorMass))
    }
}
