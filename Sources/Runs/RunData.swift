import AlaverifyBase
import Dispatch
import Foundation
import RunRecords
import SampleData
import ScoreMetrics
import Training

/// The data of a run: the identity-disjoint train, validation and test splits of its samples
/// file, the validation and test sets (capped per identity) in memory, the train split in memory
/// or streamed from the file batch by batch.
public final class RunData {
    /// The samples file.
    public let file: String
    /// The train split in memory; nil when its batches are streamed from the file.
    public let train: ImageSet?
    /// The file rows and identities of the train split.
    public let trainRows: [Int]
    public let trainLabels: [Int32]
    /// The validation set (every `interval` steps) and the test set (scored at the end).
    public let validation: ImageSet
    public let test: ImageSet
    /// The identities (indices into the file's `/identities`) of each split, and the file rows
    /// of the validation and test sets, in set order.
    public let split: IdentitySplit
    public let validationRows: [Int]
    public let testRows: [Int]
    /// The reader of streamed batches, shared by the children (nil in memory).
    let streamReader: ImageRowReader?
    /// Each child's streamed batch source (empty in memory).
    private(set) var streams: [StreamedBatchSource] = []
    /// Streaming totals of the run's earlier part (restored from the checkpoint on resume).
    var earlierStreamStats = DataStreamStats()

    /// Batches the prefetch thread keeps ready ahead of each streamed child.
    static let prefetchDepth = 3
    /// Decoded chunks kept for streamed batches (32 MiB: 128 chunks of 256 32x32 images).
    static let streamCacheBytes = 32 << 20

    /// Reads and splits the samples file of `config`. With `config.stream` only the train
    /// split's row indices and identities are kept.
    public init(config: RunConfig, log: (String) -> Void) throws(RunError) {
        file = config.data
        let samples: SamplesFile
        do { samples = try SamplesFile(path: config.data) } catch { throw .data(error) }
        guard case .images(let h, let w, let channels) = samples.kind, channels == 1, samples.layout == .samples else {
            throw .data(DataError(file: config.data, location: "/samples/images",
                "training needs single-channel images [N, H, W]; found \(samples.kind)"))
        }
        guard h == 32 && w == 32 else {
            throw .data(DataError(file: config.data, location: "/samples/images",
                "the networks take 32x32 images, found \(h)x\(w); re-import them resized to 32x32"))
        }
        do {
            split = try IdentitySplit.byFractions(
                identityCount: samples.identityCount, train: config.split.train, validation: config.split.validation,
                test: config.split.test, seed: config.split.seed, file: config.data)
        } catch { throw .data(error) }
        for (part, name) in [(SplitPart.train, "train"), (.validation, "validation"), (.test, "test")] where split[part].count < 2 {
            throw .data(DataError(file: config.data, location: "split",
                "the \(name) split has \(split[part].count) identities; at least 2 are needed (the file has \(samples.identityCount))"))
        }
        let split = self.split
        func rows(_ part: SplitPart, perIdentity: Int?) -> [Int] {
            var indices = split.samples(part, identities: samples.identities)
            if let cap = perIdentity { indices = RunData.capped(indices, identities: samples.identities, cap: cap, seed: config.seed) }
            return indices
        }
        func load(_ indices: [Int]) throws(RunError) -> ImageSet {
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
        train = config.streamsTrainingBatches ? nil : try load(trainRows)
        do { streamReader = config.streamsTrainingBatches ? try ImageRowReader(samples, cacheBytes: Self.streamCacheBytes) : nil } catch {
            throw .data(error)
        }
        validationRows = rows(.validation, perIdentity: config.validationSamplesPerIdentity)
        testRows = rows(.test, perIdentity: config.testSamplesPerIdentity)
        validation = try load(validationRows)
        test = try load(testRows)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) * 1e-9
        if let train {
            // Batches are drawn from memory afterwards: this one read is the only data stall of the run.
            log(String(format: "read %d images of the three splits in %.2f s (batches then come from memory: no per-step I/O stall)",
                       train.count + validation.count + test.count, loadSeconds))
        } else {
            log(String(format: "read %d images of the validation and test splits in %.2f s; the train split (%d samples) is streamed: each batch is read from the file on a background thread, %d batches ahead, through a %d MiB cache of decoded chunks",
                       validation.count + test.count, loadSeconds, trainRows.count, Self.prefetchDepth, Self.streamCacheBytes >> 20))
        }
    }

    /// The batch source of child `child` over the train split drawn with `seed` (P x K or
    /// shuffled rows): from memory, or streamed (the same batches, read from the file on a
    /// background thread). A population that continues from its mean gives each child its own
    /// share of the whole batch (`BatchShare`); otherwise a child draws its rows itself.
    func batchSource(_ config: RunConfig, seed: UInt64, child: Int = 0) throws -> any BatchSource {
        let shuffled = config.batchSampling == .shuffled
        // The index sampler of a whole batch (a population continuing from its mean) or a child's own.
        let rows = config.mergesByMean ? config.rowsPerBatch : config.childRowsPerBatch
        let identities = config.mergesByMean ? config.identitiesPerBatch : config.childIdentitiesPerBatch
        var sampler: any BatchIndexSampling = shuffled
            ? try ShuffledIndexSampler(classes: train?.classes ?? DenseLabels(trainLabels).classes, batchSize: rows, seed: seed)
            : try StreamedBatchSource.pk(trainLabels, identities, config.samplesPerIdentity, seed)
        if config.mergesByMean {
            sampler = try BatchShare(sampler, part: child, parts: config.children, group: shuffled ? 1 : config.samplesPerIdentity)
        }
        if let train {
            func inMemory(_ indices: some BatchIndexSampling) -> any BatchSource { IndexedBatches(data: train, indices: indices) }
            return inMemory(sampler)
        }
        guard let streamReader else { throw RunError.internalFailure("neither an in-memory nor a streamed train split") }
        // Draws exactly what the in-memory sampler draws over the same train split (same rows, same dense labels).
        let stream = try StreamedBatchSource(
            reader: streamReader, rows: trainRows, labels: trainLabels, sampler: sampler, depth: Self.prefetchDepth)
        streams.append(stream)
        return stream
    }

    /// `split.json`: the file, its identities by split and the rows of the validation and test sets.
    public func splitDocument(checksum: String) -> String {
        func list(_ v: [some BinaryInteger]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        return """
            {"data": \(JSONValue.string(file).serialized(indent: nil)), "data_sha256": "\(checksum)",
             "train": {"identities": \(list(split.train))},
             "validation": {"identities": \(list(split.validation)), "rows": \(list(validationRows))},
             "test": {"identities": \(list(split.test)), "rows": \(list(testRows))}}

            """
    }

    /// The run's choice of at most `cap` samples per identity among `indices` (its validation and
    /// test sets; `alaverify score` makes the same choice to reproduce them).
    public static func capped(_ indices: [Int], identities: [Int32], cap: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed, stream: 0x5A11)
        return samplesCappedPerIdentity(indices, identities: identities, cap: cap, using: &rng)
    }

    /// The number of training identities (classes of a margin softmax).
    public var trainClasses: Int { Set(trainLabels).count }

    /// The run's streaming totals so far, all children together (nil when the train split is in memory).
    public var streamStats: DataStreamStats? {
        streams.isEmpty ? nil : streams.reduce(earlierStreamStats) { $0 + $1.stats }
    }

    /// `train 60 identities / 3720 samples (streamed), validation 36 / 576, test 24 / 1536`.
    var summary: String {
        "train \(Set(trainLabels).count) identities / \(trainLabels.count) samples\(streams.isEmpty ? "" : " (streamed)"), validation \(Set(validation.labels).count) / \(validation.count), test \(Set(test.labels).count) / \(test.count)"
    }

    /// Refuses a target the validation split cannot resolve (rule of 3 on comparisons); warns when
    /// only identities are short.
    func checkEstimable(_ target: Metric, rewardBand: Double, log: (String) -> Void) throws(SettingError) {
        let n = validation.count
        let ids = Set(validation.labels).count
        let counts = Dictionary(grouping: validation.labels, by: { $0 }).mapValues(\.count)
        let genuine = counts.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        let impostor = n * (n - 1) / 2 - genuine
        let identityPairs = ids * (ids - 1) / 2
        @Sendable func fmt(_ x: Double) -> String { String(format: "%.3g", x) }
        switch target {
        case .frrAtFAR(let a), .partialAUC(let a):
            if a * Double(impostor) < 3 {
                throw SettingError { name in
                    "\(name(.target)) \(target) is not estimable on the validation split: \(target) needs a x impostor comparisons >= 3, but \(fmt(a)) x \(impostor) = \(fmt(a * Double(impostor))); use a larger validation split (\(name(.split)) train,validation,test, e.g. 0.4,0.4,0.2), more samples per identity (\(name(.validationSamplesPerIdentity))), or a target of at least \(fmt(3 / Double(impostor)))"
                }
            }
            if a * Double(identityPairs) < 3 {
                log("warning: \(target) is not estimable by identities on the validation split (\(fmt(a)) x \(identityPairs) impostor identity pairs < 3): the reward is dominated by a few look-alike identity pairs and will be noisy; reward band x\(fmt(rewardBand)) around the target")
            }
        case .farAtFRR(let b):
            if b * Double(genuine) < 3 {
                throw SettingError { name in
                    "\(name(.target)) \(target) is not estimable on the validation split: \(fmt(b)) x \(genuine) genuine comparisons < 3"
                }
            }
        default: break
        }
    }
}
