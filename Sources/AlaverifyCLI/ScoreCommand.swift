import AlaverifyBase
import ArgumentParser
import Foundation
import RunRecords
import Runs
import SampleData
import ScoreMetrics

/// `alaverify score`: embed samples with a trained model and write all-pair scores.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Embed the samples of a split with a trained model and write the scores of all pairs.",
        discussion: """
            The split is the model's own (its recorded fractions and seed applied to --data's \
            identities); --split all scores every sample. With --templates K, each identity's samples \
            are grouped (seeded) into templates of K, compared by the mean of their unit-norm \
            embeddings. Pairs are streamed to the file block by block. Output: HDF5 alaverify-scores \
            v1, or NumPy for a name ending in .npz (float32 scores, uint8 labels, int32 left_id and \
            right_id: numpy.load(F)['scores']), with comparison identities (enable the subject \
            bootstrap in metrics/report/gate). --threshold-from RUN/model.h5 then prints FAR and FRR \
            of the new scores at the thresholds train recorded on the run's validation split (the \
            thresholds you ship).
            """)

    @Option(help: "A run folder of alaverify train (its model.h5), a model.h5, or a checkpoint.h5 (with --child).")
    var model: String

    @Option(help: "The child model of a checkpoint.h5 to score (0-based).")
    var child: Int = 0

    @Option(help: "Samples file (default: the model's training data).")
    var data: String?

    @Option(help: "train, validation, test or all.")
    var split: String = "test"

    @Option(help: "Compare templates of K samples of one identity (mean embedding).")
    var templates: Int?

    @Option(help: "Score at most this many samples per identity (seeded choice; 0: all). Default for --split validation or test: the run's own sets (its caps and choice, as in scores.h5); else all.")
    var samplesPerIdentity: Int?

    @Option(help: "Seed of the template grouping and the per-identity sample choice.")
    var seed: UInt64 = 0

    @Option(help: "Output scores file: .h5 (HDF5 alaverify-scores v1) or .npz (NumPy).")
    var out: String

    @Option(help: "Score one shard of the pairs, i/n (1 <= i <= n), or auto (a Slurm array task, or a Kubernetes Indexed Job with --shards): writes OUT's shard summary OUT-stem.shard-i-of-n.h5 for 'metrics --merge'.")
    var shard: String?

    @Option(help: "The number of shards for --shard auto under a Kubernetes Indexed Job (its completions).")
    var shards: Int?

    @Option(help: ArgumentHelp(
        "After scoring, evaluate the new scores at the thresholds recorded in this model (RUN or RUN/model.h5, usually --model's own) or metrics JSON: FAR and FRR at the threshold you ship.",
        valueName: "file"))
    var thresholdFrom: String?

    func run() throws {
        guard ["train", "validation", "test", "all"].contains(split) else {
            throw UsageError("--split must be train, validation, test or all, got '\(split)'")
        }
        if let templates, templates < 1 { throw UsageError("--templates must be at least 1") }
        if (out as NSString).pathExtension.lowercased() == "npy" {
            throw UsageError("--out \(out): an .npy holds one array; name an .npz (NumPy arrays scores, labels, left_id, right_id) or an .h5 file")
        }
        let shardSpec = try resolvedShard()
        if shardSpec != nil, (out as NSString).pathExtension.lowercased() == "npz" {
            throw UsageError("--out \(out): a shard writes an HDF5 shard summary for 'metrics --merge'; name an .h5 file")
        }
        if shardSpec != nil, let thresholdFrom {
            throw UsageError("--threshold-from \(thresholdFrom): a shard holds part of the pairs; evaluate the unsharded scores file with 'metrics --threshold-from'")
        }
        try requireWritableOutput(shardSpec.map { $0.fileName(for: out) } ?? out, "--out")
        // Read the thresholds first: a model without them fails before any scoring.
        let thresholds = try thresholdFrom.map { try ThresholdOptions.recorded($0, system: nil) } ?? []
        if let thresholdFrom, let t = thresholds.first(where: { $0.polarity != .similarity }) {
            throw UsageError("\(thresholdFrom): its thresholds are for \(t.polarity.rawValue) scores; score writes similarity scores")
        }
        let trained = try TrainedModel(path: RunDirectory.isFolder(model) ? RunDirectory(model).model : model, child: child)
        let dataPath = data ?? trained.config.data
        let samples = try SamplesFile(path: dataPath)
        guard case .images(let h, let w, 1) = samples.kind, h == 32, w == 32 else {
            throw DataError(file: dataPath, location: "/samples/images", "the model takes 32x32 single-channel images, found \(samples.kind)")
        }
        var indices = Array(0..<samples.count)
        if split != "all" {
            let s = trained.config.split
            let parts = try IdentitySplit.byFractions(
                identityCount: samples.identityCount, train: s.train, validation: s.validation, test: s.test, seed: s.seed,
                file: dataPath)
            indices = parts.samples(SplitPart(rawValue: split)!, identities: samples.identities)
        }
        if let cap = samplesPerIdentity, cap != 0 {
            guard cap >= 1 else { throw UsageError("--samples-per-identity must be at least 1, or 0 for all") }
            var rng = SeededGenerator(seed: seed, stream: 0x5C0)
            indices = samplesCappedPerIdentity(indices, identities: samples.identities, cap: cap, using: &rng)
        } else if samplesPerIdentity == nil, split == "test" || split == "validation",
                  let cap = split == "test" ? trained.config.testSamplesPerIdentity : trained.config.validationSamplesPerIdentity {
            // The run's own validation or test set: the same cap and the same seeded choice (RunData).
            indices = RunData.capped(indices, identities: samples.identities, cap: cap, seed: trained.config.seed)
        }
        guard indices.count >= 2 else { throw DataError(file: dataPath, "the \(split) split has \(indices.count) samples") }
        var labels = indices.map { samples.identities[$0] }
        let groups = try templates.map { k throws in
            try Template.make(items: Array(0..<indices.count), identities: labels, size: k, seed: seed, file: dataPath)
        }
        // Both classes must exist before any work: a file without genuine (or impostor) scores
        // would only fail later, in metrics.
        let compared = groups?.map(\.identity) ?? labels
        let perIdentity = Dictionary(grouping: compared, by: { $0 }).mapValues(\.count)
        let unit = templates == nil ? "sample" : "template"
        guard perIdentity.count >= 2 else {
            throw DataError(file: dataPath, "the \(split) split gives \(unit)s of \(perIdentity.count) identity; impostor pairs need at least 2")
        }
        guard perIdentity.values.contains(where: { $0 >= 2 }) else {
            throw DataError(file: dataPath,
                "every identity gives one \(unit) here, so there is no genuine pair; use more --samples-per-identity or smaller --templates")
        }
        if let shardSpec {
            try scoreShard(shardSpec, trained, samples: samples, dataPath: dataPath, indices: indices, labels: labels, templates: groups)
            return
        }
        let pixels = try samples.readImages(indices: indices)
        var embeddings = trained.embed(pixels, count: indices.count)
        let dimension = trained.network.embeddingSize
        if let groups {
            embeddings = templateEmbeddings(embeddings, dimension: dimension, templates: groups)
            labels = groups.map(\.identity)
        }
        let interactive = isatty(2) != 0
        try writeAllPairScores(path: out, embeddings: embeddings, dimension: dimension, labels: labels) { done, total in
            if interactive {
                FileHandle.standardError.write(Data("\r\(done)/\(total) pairs".utf8))
                if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
            }
        }
        let what = templates.map { "\(labels.count) templates of \($0)" } ?? "\(labels.count) samples"
        print("wrote \(out): all pairs of \(what) (\(Set(labels).count) identities) from the \(split) split of \(dataPath)")
        if !thresholds.isEmpty {
            let full = try ScoreFiles.read(path: out).evaluate(
                EvaluationOptions(curveMetrics: false), thresholds: thresholds, cllr: false, calibration: nil)
            var named = NamedMetrics(name: out, source: out, metrics: full.metrics)
            named.thresholds = full.thresholds
            print(MetricsTable.fixedThresholdSection(named), terminator: "")
        }
    }
}
