import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics

/// What every shard of one evaluation shares: the model, the data, which items are compared and
/// how the pairs are cut. Shards merge only when these are equal.
public struct ShardRun: Codable, Sendable, Equatable {
    /// A file an evaluation read, by path (as given) and content.
    public struct Source: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// How the compared items were chosen from the samples file.
    public struct Selection: Codable, Sendable, Equatable {
        public var split: String
        public var samplesPerIdentity: Int?
        public var templates: Int?
        public var seed: UInt64
        public init(split: String, samplesPerIdentity: Int?, templates: Int?, seed: UInt64) {
            self.split = split
            self.samplesPerIdentity = samplesPerIdentity
            self.templates = templates
            self.seed = seed
        }
        enum CodingKeys: String, CodingKey {
            case split, seed, templates
            case samplesPerIdentity = "samples_per_identity"
        }
    }

    public var model: Source
    public var child: Int
    public var data: Source
    public var selection: Selection
    /// Items compared (samples or templates) and their embedding size.
    public var items: Int
    public var dimension: Int
    /// Items per tile of the pair matrix.
    public var tile: Int
    /// SHA-256 of the items' identity labels (int32, little-endian).
    public var labelsSHA256: String
    /// The number of shards.
    public var shards: Int
    /// The scores file the shards stand for (`score --out`): the merged metrics' source.
    public var output: String
    /// The alaverify version that scored.
    public var version: String

    public init(
        model: Source, child: Int, data: Source, selection: Selection, items: Int, dimension: Int, tile: Int,
        labelsSHA256: String, shards: Int, output: String, version: String
    ) {
        self.model = model
        self.child = child
        self.data = data
        self.selection = selection
        self.items = items
        self.dimension = dimension
        self.tile = tile
        self.labelsSHA256 = labelsSHA256
        self.shards = shards
        self.output = output
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case model, child, data, selection, items, dimension, tile, shards, output, version
        case labelsSHA256 = "labels_sha256"
    }

    /// The first field (in merge-check order) in which two runs differ, with both values.
    public func difference(from other: ShardRun) -> String? {
        if model.sha256 != other.model.sha256 || child != other.child { return "another model (\(model.path) vs \(other.model.path))" }
        if data.sha256 != other.data.sha256 { return "other data (\(data.path) vs \(other.data.path))" }
        if selection != other.selection || items != other.items || labelsSHA256 != other.labelsSHA256 {
            return "other items compared (split, caps, templates or seed differ)"
        }
        if shards != other.shards { return "another shard count (\(shards) vs \(other.shards))" }
        if dimension != other.dimension || tile != other.tile || version != other.version {
            return "another scorer (embedding size, tile or alaverify version differ)"
        }
        return nil
    }
}

/// One shard's record: what it is, what it saw, and its counts.
public struct ShardManifest: Codable, Sendable, Equatable {
    public var schema = ShardFile.schema
    public var shard: Int
    public var run: ShardRun
    public var blocks: Int
    public var pairs: Int
    public var genuine: Int
    public var impostor: Int
    public var genuineFailed: Int
    public var impostorFailed: Int
    public var impostorNegativeInfinities: Int
    public var impostorPositiveInfinities: Int

    public init(
        shard: Int, run: ShardRun, blocks: Int, pairs: Int, genuine: Int, impostor: Int, genuineFailed: Int,
        impostorFailed: Int, impostorNegativeInfinities: Int, impostorPositiveInfinities: Int
    ) {
        self.shard = shard
        self.run = run
        self.blocks = blocks
        self.pairs = pairs
        self.genuine = genuine
        self.impostor = impostor
        self.genuineFailed = genuineFailed
        self.impostorFailed = impostorFailed
        self.impostorNegativeInfinities = impostorNegativeInfinities
        self.impostorPositiveInfinities = impostorPositiveInfinities
    }

    enum CodingKeys: String, CodingKey {
        case schema, shard, run, blocks, pairs, genuine, impostor
        case genuineFailed = "genuine_failed", impostorFailed = "impostor_failed"
        case impostorNegativeInfinities = "impostor_negative_infinities"
        case impostorPositiveInfinities = "impostor_positive_infinities"
    }
}

/// A shard's summary: exact genuine scores, the impostor radix histogram, the identity labels of
/// all items and the embeddings of the tiles it owns (what a merge needs to count the impostor
/// scores again where the bins are too coarse, without the model or the data).
public struct ShardSummary: Sendable {
    public var manifest: ShardManifest
    /// Identity label of every item.
    public var labels: [Int32]
    /// Tiles whose embeddings are stored, ascending.
    public var tiles: [Int32]
    /// Their embeddings, tile after tile, `dimension` floats per item.
    public var embeddings: [Float]
    /// Genuine comparisons of this shard: score and the two items (i < j).
    public var genuineScores: [Float]
    public var genuineLeft: [Int32]
    public var genuineRight: [Int32]
    /// Impostor scores of this shard, binned.
    public var impostor: RadixHistogram

    public init(
        manifest: ShardManifest, labels: [Int32], tiles: [Int32], embeddings: [Float], genuineScores: [Float],
        genuineLeft: [Int32], genuineRight: [Int32], impostor: RadixHistogram
    ) {
        self.manifest = manifest
        self.labels = labels
        self.tiles = tiles
        self.embeddings = embeddings
        self.genuineScores = genuineScores
        self.genuineLeft = genuineLeft
        self.genuineRight = genuineRight
        self.impostor = impostor
    }
}

/// The `alaverify-shard` v1 HDF5 file.
public enum ShardFile {
    public static let format = "alaverify-shard"
    public static let formatVersion: Int64 = 1
    public static let schema = "alaverify.shard/1"

    /// Writes a summary (temporary name, renamed into place when complete).
    public static func write(_ s: ShardSummary, to path: String) throws(DataError) {
        let manifest = try manifestText(s.manifest, path: path)
        let writer = try HDF5Writer(path: path)
        try writer.setAttribute("format", format)
        try writer.setAttribute("format_version", formatVersion)
        try writer.setAttribute("payload_sha256", payloadDigest(manifest, s))
        try writer.writeStrings("/manifest_json", [manifest])
        try writer.write("/labels", s.labels)
        try writer.write("/embedding/tiles", s.tiles)
        try writer.write("/embedding/values", s.embeddings, shape: [s.embeddings.count / max(1, s.manifest.run.dimension), s.manifest.run.dimension])
        try writer.write("/genuine/score", s.genuineScores)
        try writer.write("/genuine/left", s.genuineLeft)
        try writer.write("/genuine/right", s.genuineRight)
        try writer.write("/impostor/histogram", s.impostor.counts)
        try writer.close()
    }

    /// Reads a summary and checks it: format, manifest, dataset sizes and the payload checksum
    /// (a truncated, damaged or edited file is refused, naming the file).
    public static func read(_ path: String) throws(DataError) -> ShardSummary {
        let file = try HDF5File(path: path)
        guard try file.stringAttribute("format") == format else {
            throw DataError(file: path, "not an alaverify shard summary (root attribute format is not '\(format)')")
        }
        guard let version = try file.integerAttribute("format_version"), version == formatVersion else {
            throw DataError(file: path, "unsupported shard format version (this alaverify reads \(formatVersion))")
        }
        let texts = try file.dataset("/manifest_json").readStrings()
        guard texts.count == 1, let data = texts[0].data(using: .utf8),
              let value = try? JSONValue.parse(data),
              let manifest = try? JSONValueDecoder().decode(ShardManifest.self, from: value), manifest.schema == schema
        else { throw DataError(file: path, location: "dataset /manifest_json", "not a \(schema) manifest") }
        let histogram: [UInt64] = try file.dataset("/impostor/histogram").read()
        guard histogram.count == RadixHistogram.binCount else {
            throw DataError(file: path, location: "dataset /impostor/histogram", "expected \(RadixHistogram.binCount) bins, found \(histogram.count)")
        }
        let s = ShardSummary(
            manifest: manifest, labels: try file.dataset("/labels").read(), tiles: try file.dataset("/embedding/tiles").read(),
            embeddings: try file.dataset("/embedding/values").read(), genuineScores: try file.dataset("/genuine/score").read(),
            genuineLeft: try file.dataset("/genuine/left").read(), genuineRight: try file.dataset("/genuine/right").read(),
            impostor: RadixHistogram(
                counts: histogram, failures: manifest.impostorFailed, negativeInfinities: manifest.impostorNegativeInfinities,
                positiveInfinities: manifest.impostorPositiveInfinities))
        guard try file.stringAttribute("payload_sha256") == payloadDigest(texts[0], s) else {
            throw DataError(file: path, "its contents do not match its checksum (payload_sha256): the file was edited or damaged")
        }
        let run = manifest.run
        let genuineRecorded = s.genuineScores.count
        let tileItems = s.tiles.reduce(0) { $0 + max(0, min(run.tile, run.items - Int($1) * run.tile)) }
        guard s.labels.count == run.items, s.embeddings.count == tileItems * run.dimension,
              s.genuineLeft.count == genuineRecorded, s.genuineRight.count == genuineRecorded,
              genuineRecorded == manifest.genuine, s.impostor.total + manifest.impostorFailed == manifest.impostor,
              manifest.genuine + manifest.impostor == manifest.pairs
        else { throw DataError(file: path, "its datasets disagree with its manifest (counts or sizes)") }
        return s
    }

    static func manifestText(_ manifest: ShardManifest, path: String) throws(DataError) -> String {
        do { return try JSONValueEncoder().encode(manifest).serialized(indent: nil) } catch {
            throw DataError(file: path, "cannot encode the manifest: \(error)")
        }
    }

    /// SHA-256 of the manifest text and every dataset's bytes, in a fixed order.
    static func payloadDigest(_ manifest: String, _ s: ShardSummary) -> String {
        var h = SHA256()
        h.update(Array(manifest.utf8))
        func add<T>(_ values: [T]) { values.withUnsafeBytes { h.update($0) } }
        add(s.labels)
        add(s.tiles)
        add(s.embeddings)
        add(s.genuineScores)
        add(s.genuineLeft)
        add(s.genuineRight)
        add(s.impostor.counts)
        return h.hexDigest()
    }
}
