import Dispatch
import Foundation
import RunRecords
import SampleData
import Training

/// One batch as the prefetch thread hands it over.
struct StreamedBatch: Sendable {
    /// Pixels as Float, `[rows, H, W]` row-major, in batch order.
    var pixels: [Float]
    /// Dense labels, one per row.
    var labels: [Int32]
    /// The sampler's state after drawing this batch (what a checkpoint saves once it is consumed).
    var samplerState: [UInt64]
    /// Seconds spent reading the rows.
    var readSeconds: Double
}

/// Batches of a samples file's rows, drawn exactly as the in-memory samplers draw them (`PKSampler`
/// for P x K, `ShuffledSampler` for shuffled epochs: same index sampler, same rows, labels and
/// pixels) but read from the file per batch on a background thread, up to `depth` batches ahead
/// of the trainer.
///
/// Memory is bounded by `depth + 1` batches plus the reader's chunk cache, not by the file.
/// `state` is the sampler's state after the last batch the trainer *consumed*, never what the
/// prefetch thread has drawn ahead, so a checkpoint resumes exactly; `restore` drops the batches
/// drawn ahead and restarts the prefetch from the restored state on the next batch.
public final class StreamedBatchSource: BatchSource {
    /// Batches kept ready ahead of the trainer.
    public let depth: Int
    public let sampleShape: Shape
    /// The file named in errors.
    public let file: String
    private let fileRows: [Int]
    private let read: @Sendable ([Int]) throws(DataError) -> [UInt8]
    /// The sampler at the last consumed batch.
    private var sampler: any BatchIndexSampling
    private var prefetcher: BatchPrefetcher<StreamedBatch>?
    private var failure: DataError?
    private var earlierStall = 0.0
    private var consumed = DataStreamStats()

    /// Streams `rows` of `reader`'s file (the train split's file rows; `labels` their identities),
    /// in the batches `sampler` draws over the split's rows (with dense labels of `labels`).
    /// Children may share one reader.
    ///
    /// Every read also checks that the file's size and modification time are those it had here:
    /// a file replaced or truncated during the run is a `DataError`, not a silent mix of two data sets.
    public convenience init(
        reader: ImageRowReader, rows: [Int], labels: [Int32], sampler: any BatchIndexSampling, depth: Int = 3
    ) throws(RunError) {
        let samples = reader.file
        guard case .images(let h, let w, 1) = samples.kind, samples.layout == .samples else {
            throw .data(DataError(file: samples.path, location: "dataset \(samples.dataPath)", "streaming needs single-channel images [N, H, W], found \(samples.kind)"))
        }
        let path = samples.path
        let fingerprint = Self.fingerprint(path)
        try self.init(file: path, rows: rows, labels: labels, height: h, width: w, sampler: sampler, depth: depth) {
            (fileRows: [Int]) throws(DataError) -> [UInt8] in
            guard Self.fingerprint(path) == fingerprint else {
                throw DataError(file: path, "changed during the run (its size or modification time differs from when training started); the streamed batches would mix two data sets")
            }
            return try reader.readImages(indices: fileRows)
        }
    }

    /// Streams with `read`, which returns the uint8 pixels of the given file rows in order.
    init(
        file: String, rows: [Int], labels: [Int32], height: Int, width: Int, sampler: any BatchIndexSampling, depth: Int = 3,
        read: @escaping @Sendable ([Int]) throws(DataError) -> [UInt8]
    ) throws(RunError) {
        guard rows.count == labels.count else { throw .usage("\(rows.count) rows but \(labels.count) labels") }
        self.sampler = sampler
        self.file = file
        self.depth = max(1, depth)
        sampleShape = Shape(1, height, width)
        fileRows = rows
        self.read = read
    }

    /// P x K batches (`PKSampler`'s draws) of `rows` of `reader`'s file.
    public convenience init(
        reader: ImageRowReader, rows: [Int], labels: [Int32], identitiesPerBatch p: Int, samplesPerIdentity k: Int,
        seed: UInt64, depth: Int = 3
    ) throws(RunError) {
        try self.init(reader: reader, rows: rows, labels: labels, sampler: try Self.pk(labels, p, k, seed), depth: depth)
    }

    /// P x K batches read with `read`.
    convenience init(
        file: String, rows: [Int], labels: [Int32], height: Int, width: Int, identitiesPerBatch p: Int, samplesPerIdentity k: Int,
        seed: UInt64, depth: Int = 3, read: @escaping @Sendable ([Int]) throws(DataError) -> [UInt8]
    ) throws(RunError) {
        try self.init(file: file, rows: rows, labels: labels, height: height, width: width, sampler: try Self.pk(labels, p, k, seed),
                      depth: depth, read: read)
    }

    /// The P x K index sampler over rows with identities `labels` (dense classes as `ImageSet`'s).
    static func pk(_ labels: [Int32], _ p: Int, _ k: Int, _ seed: UInt64) throws(RunError) -> PKIndexSampler {
        do {
            let dense = try DenseLabels(labels)
            return try PKIndexSampler(
                classes: dense.classes, classCount: dense.identities.count, identitiesPerBatch: p, samplesPerIdentity: k, seed: seed)
        } catch { throw .usage(error.description) }
    }

    deinit { prefetcher?.cancel() }

    /// Totals over the batches consumed since this source was made.
    public var stats: DataStreamStats {
        var s = consumed
        s.stallSeconds = earlierStall + (prefetcher?.stallSeconds ?? 0)
        return s
    }

    /// The next batch from the prefetch thread (started on first use and after `restore`);
    /// throws the `DataError` of a failed read, then again on every later call.
    public func next(into batch: inout Batch) throws {
        if let failure { throw failure }
        if prefetcher == nil { start() }
        let ready: StreamedBatch
        do throws(DataError) {
            guard let batch = try prefetcher?.next() else {
                throw DataError(file: file, "the batch prefetcher stopped before training did")
            }
            ready = batch
        } catch {
            failure = error
            throw error
        }
        // sampleShape is [1, H, W]; a batch is [N, 1, H, W].
        batch.inputs.reshape(Shape(ready.labels.count, 1, sampleShape.c, sampleShape.h))
        ready.pixels.withUnsafeBufferPointer { batch.inputs.pointer.update(from: $0.baseAddress!, count: $0.count) }
        batch.labels.removeAll(keepingCapacity: true)
        batch.labels.append(contentsOf: ready.labels)
        try sampler.restore(ready.samplerState)
        consumed.batches += 1
        consumed.readSeconds += ready.readSeconds
    }

    public var state: [UInt64] { sampler.state }

    public func restore(_ state: [UInt64]) throws(TrainingError) {
        try sampler.restore(state)
        if let prefetcher {
            earlierStall += prefetcher.stallSeconds
            prefetcher.cancel()
        }
        prefetcher = nil
        failure = nil
    }

    /// Starts a prefetch thread with its own copy of the sampler at the consumed state (a
    /// cancelled thread may still finish one load on its old copy).
    private func start() {
        let drawer = Drawer(sampler: sampler, fileRows: fileRows, pixelsPerRow: sampleShape.count, file: file, read: read)
        prefetcher = BatchPrefetcher(count: Int.max, depth: depth) { (_: Int) throws(DataError) -> StreamedBatch in
            try drawer.load()
        }
    }

    /// A file's size and modification time, nil when it cannot be read.
    static func fingerprint(_ path: String) -> [String]? {
        guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return ["\(a[.size] ?? "")", "\(a[.modificationDate] ?? "")"]
    }

    /// The sampler and reader of one prefetch thread (used by that thread only).
    final class Drawer: @unchecked Sendable {
        var sampler: any BatchIndexSampling
        let fileRows: [Int]
        let pixelsPerRow: Int
        let file: String
        let read: @Sendable ([Int]) throws(DataError) -> [UInt8]
        private var rows: [Int] = []
        private var labels: [Int32] = []

        init(sampler: any BatchIndexSampling, fileRows: [Int], pixelsPerRow: Int, file: String,
             read: @escaping @Sendable ([Int]) throws(DataError) -> [UInt8]) {
            self.sampler = sampler
            self.fileRows = fileRows
            self.pixelsPerRow = pixelsPerRow
            self.file = file
            self.read = read
        }

        /// Draws the next batch and reads its rows.
        func load() throws(DataError) -> StreamedBatch {
            sampler.next(rows: &rows, labels: &labels)
            let start = DispatchTime.now().uptimeNanoseconds
            let pixels = try read(rows.map { fileRows[$0] })
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            guard pixels.count == rows.count * pixelsPerRow else {
                throw DataError(file: file, "read \(pixels.count) pixels for \(rows.count) rows of \(pixelsPerRow)")
            }
            return StreamedBatch(pixels: pixels.map(Float.init), labels: labels, samplerState: sampler.state, readSeconds: seconds)
        }
    }
}
