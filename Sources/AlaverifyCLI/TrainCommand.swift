import AlaverifyBase
import ArgumentParser
import Foundation
import LossAlignment
import Protocols
import RunRecords
import Runs
import SampleData
import ScoreMetrics

/// `alaverify train`: a verification model whose loss is steered toward the target by ALA.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an embedding model; ALA steers the loss parameters toward the target operating point.",
        discussion: """
            With no --data/--protocol it trains on the bundled fixture (fixtures/fonts-mini.h5, run from \
            the repository root). Identities are split (seeded) into disjoint train/validation/test \
            parts; on image data the defaults are a ResNet with a CosFace head, the split gives \
            validation and test the identities the target needs, and about two epochs are trained. \
            With --loss-control ala (the default) a population of children (--children, default 2) \
            starts every round (--interval steps) from the same state, each with the loss \
            parameters the ALA policy drew for it; all are validated on the same pairs and the \
            policy learns from how they rank. The children share each batch (each trains on its \
            own share) and every child continues from their mean, with the best child's loss \
            parameters (--continue-from): a population trains on the samples one fixed-loss run does. \
            The run directory gets config.json, split.json, history.jsonl, checkpoint.h5, model.h5, \
            policy.h5 (loss control) and scores.h5 (all test-split pairs, for `alaverify report`).

            Examples:
              alaverify train --data cjk.h5 --target frr@far=1e-4 --out runs/ala
              alaverify train --data cjk.h5 --loss-control fixed --out runs/fixed
              alaverify train --data other.h5 --policy runs/ala/policy.h5 --children 1   # a learned policy steers one run
              alaverify train --network cnn --loss pairwise --target frr@far=1e-3 --steps 3000 --out runs/a
              alaverify train --out runs/ala --resume
              alaverify train --data big.h5 --stream --out runs/big   # batches read from the file
            """)

    @Option(help: "Validation target and reward: frr@far=X, far@frr=X, eer, roc_auc, average_precision, pauc@far=X (default frr@far=1e-4 when the data has identities enough to resolve it, else frr@far=1e-3).",
            transform: { text in
                // The parse error says what is wrong (unknown name, rate outside (0, 1)), not only that it is.
                do { return try Metric.parse(text) } catch { throw ValidationError(String(describing: error)) }
            })
    var target: Metric?

    @Option(help: "Samples file (alaverify-samples v1). Default: the bundled fixture.")
    var data: String?

    @Option(help: "Protocol file: its data and split are used.")
    var `protocol`: String?

    @Option(help: "Run directory (default: runs/<loss-control>-seed<seed>).")
    var out: String?

    @Option(help: "ala: a learned policy steers a population's loss parameters; search: the same population with stateless learned moves; random: with uniformly random moves (a control); fixed: the default loss throughout.")
    var lossControl: LossControl?

    @Option(help: "Seed of everything random in the run.")
    var seed: UInt64?

    @Option(help: "Children per round (an even number for ala/search/random, or 1 with --policy; default 2; fixed: independent seeds, default 1), trained in parallel.")
    var children: Int?

    @Option(help: ArgumentHelp(
        "Network: resnet (default), cnn or mlp.",
        discussion: "resnet: a stem and stages of basic residual blocks at w, 2w, 4w channels (--width, default 32; --blocks per stage, default 1), a 128-d embedding; about 0.3M weights. cnn and mlp are the small networks of the pairwise loss."))
    var network: NetworkKind?

    @Option(help: ArgumentHelp(
        "Loss family: cosface (default with resnet), arcface or pairwise (default with cnn and mlp).",
        discussion: "cosface/arcface: a margin softmax over the training identities (scale 30, cosine margin 0.35 / angular margin 0.5) on shuffled batches (--batch-size); its parameters scale, cos_margin, angular_margin (and tail_weight with --tail-fraction) are what loss control steers. pairwise: a binned pairwise loss on P x K batches."))
    var loss: LossFamily?

    @Option(help: "Rows per shuffled batch of a margin softmax (default 256, fewer on tiny data).")
    var batchSize: Int?

    @Option(help: "ResNet residual blocks per stage (1...8).")
    var blocks: Int?

    @Option(help: "Margin softmax: add an impostor-tail term averaging this share of the hardest impostor pairs of a batch and its memory (0: none; default with loss control: 10 x the target FAR, its weight starting at 0).")
    var tailFraction: Double?

    @Option(help: ArgumentHelp(
        "What a population continues from after each round: mean (default) or best.",
        discussion: "mean: every child trains on its own share of each batch and the run continues from the mean of the children's weights and optimizer moments with the best child's loss parameters: the run trains on every row, as a fixed-loss run does. best: the children train on the same share and the run continues from the best child (half the rows per step with 2 children). With --loss-control fixed and --children N, mean makes the children such a population at the fixed loss (what averaging alone does; without it fixed-loss children are independent seeds)."))
    var continueFrom: PopulationMerge?

    @Option(help: "Training steps per child.")
    var steps: Int?

    @Option(help: "Steps between validations / controller actions (K).")
    var interval: Int?

    @Option(help: "Identities per batch (P; P x K at most 4096).")
    var batchIdentities: Int?

    @Option(help: "Samples per identity in a batch (K; P x K at most 4096).")
    var batchSamples: Int?

    @Option(help: "AdamW learning rate.")
    var learningRate: Float?

    @Option(help: "Learning-rate warm-up steps (default 50, or steps/10 when --steps is below 50).")
    var warmupSteps: Int?

    @Option(help: "Embedding size.")
    var embedding: Int?

    @Option(help: "Channels of the first stage of the CNN or ResNet (1...256).")
    var width: Int?

    @Option(help: "Similarity bins per class of the pairwise loss (its genuine and impostor bin weights).")
    var bins: Int?

    @Option(help: "Validation samples per identity (0 = all).")
    var validationSamples: Int?

    @Option(help: "Test samples per identity scored into scores.h5 at the end (0 = all; all pairs grow quadratically).")
    var testSamples: Int?

    @Option(help: "Identity split fractions train,validation,test (e.g. 0.5,0.3,0.2).")
    var split: String?

    @Option(help: "Average the reward over FARs in [a/band, a*band] (1 = the target alone).")
    var rewardBand: Double?




    @Option(help: "ALA: Adam learning rate of the policy.")
    var policyLearningRate: Double?

    @Option(name: .customLong("set"), help: "Initial loss parameter, name=value (repeatable), e.g. impostor_margin=0.3.")
    var parameters: [String] = []

    @Option(help: "Warm-start the ALA policy from a policy.h5 of an earlier run.")
    var policy: String?

    @Option(help: "Steps between checkpoints (a multiple of --interval).")
    var checkpointInterval: Int?

    @Option(help: "Stop after this many steps as if interrupted (the checkpoint stays); continue with --resume.")
    var stopAfter: Int?

    @Flag(help: ArgumentHelp(
        "Stream the train split: read each batch from the file on a background thread, a few batches ahead, instead of holding the split in memory.",
        discussion: "Same batches, same weights as in memory; memory is bounded by the batches in flight (3 per child) and a 32 MiB cache of decoded chunks, not by the file. The validation and test splits (capped per identity) are still read into memory. Recorded in config.json, so --resume keeps it; --stream with --resume streams the rest of an in-memory run."))
    var stream = false

    @Flag(help: "Continue the run in --out from its checkpoint.h5 with the settings in its config.json (flags that would change them are refused; --stream may be added).")
    var resume = false

    @Flag(help: "Overwrite a non-empty --out directory.")
    var force = false

    func run() throws {
        let directory = out ?? "runs/\(lossControl ?? .ala)-seed\(seed ?? 1)"
        let run = RunDirectory(URL(fileURLWithPath: directory).path)
        var config: RunConfig
        if resume {
            // The run's configuration is config.json; a flag that would change it is refused
            // rather than silently ignored (--stream may switch the rest of a run to streaming).
            let given: [(String, Bool)] = [
                ("--data", data != nil), ("--protocol", `protocol` != nil), ("--children", children != nil),
                ("--steps", steps != nil), ("--interval", interval != nil), ("--batch-identities", batchIdentities != nil),
                ("--batch-samples", batchSamples != nil), ("--learning-rate", learningRate != nil),
                ("--warmup-steps", warmupSteps != nil), ("--embedding", embedding != nil), ("--width", width != nil),
                ("--bins", bins != nil), ("--validation-samples", validationSamples != nil), ("--test-samples", testSamples != nil),
                ("--split", split != nil), ("--reward-band", rewardBand != nil),
                ("--policy-learning-rate", policyLearningRate != nil), ("--set", !parameters.isEmpty), ("--policy", policy != nil),
                ("--checkpoint-interval", checkpointInterval != nil), ("--network", network != nil), ("--loss", loss != nil),
                ("--batch-size", batchSize != nil), ("--blocks", blocks != nil), ("--tail-fraction", tailFraction != nil),
                ("--loss-control", lossControl != nil), ("--target", target != nil), ("--seed", seed != nil),
                ("--continue-from", continueFrom != nil),
            ]
            let changing = given.filter(\.1).map(\.0)
            if !changing.isEmpty {
                throw UsageError("--resume continues the run as recorded in \(directory)/config.json; \(changing.joined(separator: ", ")) cannot change it (start a new run with another --out)")
            }
            guard let bytes = FileManager.default.contents(atPath: run.config) else {
                throw UsageError("\(run.config): no such file; --resume needs the directory of an earlier run")
            }
            do { config = try RunConfig.read(bytes) } catch { throw DataError(file: run.config, "unreadable run config: \(error)") }
            if !config.dataChecksum.isEmpty, let now = SHA256.hex(fileAt: config.data), now != config.dataChecksum {
                throw DataError(file: config.data, "the data changed since the run started (its SHA-256 differs from \(run.config)); resuming would mix two data sets")
            }
            // Streamed and in-memory batches are the same, so the rest of a run may switch to streaming.
            if stream { config.stream = true }
        } else {
            if !run.isEmpty, !force {
                throw UsageError("\(directory): the run directory is not empty; use --resume to continue it or --force to overwrite")
            }
            config = try makeConfig()
        }
        let summary: RunSummary?
        do {
            let training = try TrainingRun(config: config, directory: run) { line in print(line); fflush(stdout) }
            training.showBar = isatty(1) != 0
            if let policy, !resume { try training.warmStart(policy: policy) }
            summary = try training.run(resume: resume, stopAfter: stopAfter)
        } catch let error as SettingError {
            throw UsageError(error.message(naming: Self.flag))
        }
        guard let finished = summary else {
            print("stopped after step \(stopAfter ?? 0) as asked; continue with: alaverify train --out \(directory) --resume")
            return
        }
        let kept = finished.bestChild < 0 ? "the children's mean" : "best child \(finished.bestChild)"
        let named = NamedMetrics(name: "test split (\(kept), step \(finished.bestStep))",
                                 source: run.scores, metrics: finished.test)
        print("")
        print(MetricsTable.render(named), terminator: "")
        print(String(format: "time: %.0f s training, %.0f s validation, %.2f s policy (controller overhead %.1f%% of training)",
                     finished.trainingSeconds, finished.validationSeconds, finished.controllerSeconds,
                     100 * (finished.validationSeconds + finished.controllerSeconds) / max(finished.trainingSeconds, 1e-9)))
        if let data = finished.data {
            print(String(format: "data: streamed %d batches, stall %.2f s (%.1f%% of training), reads %.1f s on the prefetch thread",
                         data.batches, data.stallSeconds, 100 * data.stallSeconds / max(finished.trainingSeconds, 1e-9),
                         data.readSeconds))
        }
        print("run directory: \(directory) (model.h5, scores.h5, history.jsonl\(config.lossControl.isPopulation ? ", policy.h5" : ""))")
    }

    /// The flag that sets a run setting, for messages about it.
    static func flag(_ setting: RunSetting) -> String {
        switch setting {
        case .identitiesPerBatch: return "--batch-identities"
        case .samplesPerIdentity: return "--batch-samples"
        case .validationSamplesPerIdentity: return "--validation-samples"
        case .testSamplesPerIdentity: return "--test-samples"
        case .initialParameters: return "--set"
        default:
            // checkpointInterval -> --checkpoint-interval
            return "--" + setting.rawValue.reduce(into: "") { out, c in out += c.isUppercase ? "-" + c.lowercased() : String(c) }
        }
    }

    func makeConfig() throws -> RunConfig {
        var dataPath = data
        var splitConfig = RunConfig.SplitConfig(train: 0.5, validation: 0.3, test: 0.2, seed: 7)
        if let protocolPath = `protocol` {
            let p: EvaluationProtocol
            p = try EvaluationProtocol.load(path: protocolPath)
            if dataPath == nil {
                guard let protocolData = p.data else {
                    throw UsageError("\(protocolPath) has no 'data' key (its systems are score files); training needs a samples file: add data: F.h5 to the protocol or pass --data F.h5")
                }
                dataPath = protocolData
            }
            if let s = p.split { splitConfig = .init(train: s.train, validation: s.validation, test: s.test, seed: s.seed) }
        }
        if dataPath == nil {
            let fixture = "fixtures/fonts-mini.h5"
            guard FileManager.default.fileExists(atPath: fixture) else {
                throw UsageError("no --data given and the bundled fixture \(fixture) is not here; run from the repository root or pass --data F.h5")
            }
            dataPath = fixture
        }
        let chosenNetwork = network ?? .resnet
        let chosenLoss = loss ?? (chosenNetwork == .resnet ? .cosface : .pairwise)
        var config: RunConfig
        if chosenLoss.needsPairs {
            config = RunConfig.defaults(data: dataPath!)
            config.split = splitConfig
            config.network = chosenNetwork
            if loss != nil { config.loss = chosenLoss }
        } else {
            // Defaults scaled to the data: split by the identities the target needs, steps by epochs.
            let file = try SamplesFile(path: dataPath!)
            let shape = DataShape(identities: file.identityCount, samples: file.count)
            config = RunConfig.marginDefaults(data: dataPath!, shape: shape, network: chosenNetwork, loss: chosenLoss,
                                              target: target ?? RunConfig.defaultTarget(shape))
            if `protocol` != nil { config.split = splitConfig }
        }
        config.target = target ?? (chosenLoss.needsPairs ? .frrAtFAR(1e-3) : config.target)
        config.lossControl = lossControl ?? .ala
        config.seed = seed ?? 1
        if stream { config.stream = true }
        if let children { config.children = children }
        if config.lossControl == .fixed && children == nil { config.children = 1 }
        if let continueFrom {
            guard config.children > 1, config.lossControl.isPopulation || continueFrom == .mean else {
                throw UsageError("--continue-from chooses what a population of children continues from: it needs 2 or more --children, and best needs --loss-control ala, search or random")
            }
            config.continueFrom = continueFrom
        } else if config.lossControl.isPopulation && config.children > 1 {
            config.continueFrom = RunConfig.defaultMerge
        }
        // Checked before the interval arithmetic below (a zero would divide by zero).
        for (flag, value) in [("--steps", steps), ("--interval", interval), ("--checkpoint-interval", checkpointInterval)] {
            if let value, value < 1 { throw UsageError("\(flag) must be positive, got \(value)") }
        }
        if let steps {
            config.steps = steps
            // Margin-softmax runs validate about 20 times whatever their length.
            if !chosenLoss.needsPairs { config.interval = RunConfig.validationInterval(steps: steps) }
        }
        if let interval { config.interval = interval }
        if interval == nil || steps != nil { config.interval = min(config.interval, config.steps) }
        config.checkpointInterval = checkpointInterval
            ?? max(config.interval, (config.checkpointInterval / config.interval) * config.interval)
        if let batchIdentities { config.identitiesPerBatch = batchIdentities }
        if let batchSamples { config.samplesPerIdentity = batchSamples }
        if let learningRate { config.learningRate = learningRate }
        if let warmupSteps {
            config.warmupSteps = warmupSteps
        } else if config.warmupSteps > config.steps {
            config.warmupSteps = config.steps / 10
        }
        if let embedding { config.embedding = embedding }
        if let width { config.width = width }
        if let blocks { config.blocks = blocks }
        if let batchSize {
            guard !chosenLoss.needsPairs else {
                throw UsageError("--batch-size sets shuffled batches of a margin softmax; the pairwise loss takes P x K batches (--batch-identities, --batch-samples)")
            }
            config.batchSize = batchSize
        }
        if tailFraction == nil, !chosenLoss.needsPairs, config.lossControl.isPopulation {
            // Loss control can also steer the impostor-tail term (its weight starts at 0: the plain recipe).
            config.tailFraction = RunConfig.tailFraction(for: config.target)
        }
        if let tailFraction {
            guard !chosenLoss.needsPairs else { throw UsageError("--tail-fraction adds a term to a margin softmax (--loss cosface or arcface)") }
            guard tailFraction >= 0 && tailFraction <= 1 else { throw UsageError("--tail-fraction must lie in [0, 1], got \(tailFraction)") }
            config.tailFraction = tailFraction == 0 ? nil : tailFraction
        }
        if let bins { config.bins = bins }
        if let validationSamples { config.validationSamplesPerIdentity = validationSamples == 0 ? nil : validationSamples }
        if let rewardBand { config.rewardBand = rewardBand }
        if let policyLearningRate {
            guard policyLearningRate > 0 && policyLearningRate <= 1 else { throw UsageError("--policy-learning-rate must lie in (0, 1]") }
            config.controller.learningRate = policyLearningRate
        }
        if let testSamples { config.testSamplesPerIdentity = testSamples == 0 ? nil : testSamples }
        if let split {
            let parts = split.split(separator: ",").compactMap { Double($0) }
            guard parts.count == 3 else { throw UsageError("--split takes three fractions train,validation,test, got '\(split)'") }
            config.split = .init(train: parts[0], validation: parts[1], test: parts[2], seed: config.split.seed)
        }
        for assignment in parameters {
            let kv = assignment.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let value = Double(kv[1]) else { throw UsageError("--set takes name=value, got '\(assignment)'") }
            config.initialParameters[String(kv[0])] = value
        }
        guard let checksum = SHA256.hex(fileAt: config.data) else {
            throw DataError(file: config.data, FileManager.default.fileExists(atPath: config.data) ? "cannot be read" : "no such file")
        }
        config.dataChecksum = checksum
        return config
    }
}
