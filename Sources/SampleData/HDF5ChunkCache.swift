import CHDF5
import Foundation

/// Single rows of a chunked, deflate-compressed dataset through a bounded cache of decoded chunks
/// (least recently used out), every buffer allocated once.
///
/// Random rows cost one inflate per chunk not in the cache, and memory stays at the cache's size
/// however many rows are read, unlike per-call reads whose varying temporary buffers let the
/// heap grow. Not thread-safe: its owner serializes calls (HDF5 calls take the library lock).
final class HDF5ChunkCache {
    let dataset: HDF5Dataset
    let plan: HDF5ChunkPlan
    /// Decoded chunks the cache holds.
    let slots: Int
    /// Chunks inflated so far (cache misses).
    private(set) var inflated = 0
    private let storage: UnsafeMutableRawPointer
    private var slotOfChunk: [Int: Int] = [:]
    private var chunkInSlot: [Int]
    private var lastUse: [UInt64]
    private var clock: UInt64 = 0
    private var buffers = ChunkBuffers()

    /// A cache of about `bytes` (at least one chunk) for `dataset` read as `memType`, nil when the
    /// dataset does not suit the direct chunk path.
    init?(_ dataset: HDF5Dataset, memType: HDF5ElementType, bytes: Int) {
        HDF5Library.lock()
        let plan = HDF5ChunkPlan.make(dataset, memType: memType)
        HDF5Library.unlock()
        guard let plan else { return nil }
        self.dataset = dataset
        self.plan = plan
        slots = max(1, bytes / plan.chunkBytes)
        storage = .allocate(byteCount: slots * plan.chunkBytes, alignment: 16)
        chunkInSlot = [Int](repeating: -1, count: slots)
        lastUse = [UInt64](repeating: 0, count: slots)
    }

    deinit {
        storage.deallocate()
        buffers.release()
    }

    /// The decoded bytes of row `row`, valid until the next call; nil when its chunk is not
    /// allocated in the file (the caller reads it through `H5Dread`, which applies the fill value).
    func row(_ row: Int) throws(DataError) -> UnsafeRawPointer? {
        let chunk = row / plan.chunkRows
        clock += 1
        let slot: Int
        if let cached = slotOfChunk[chunk] {
            slot = cached
        } else {
            slot = lastUse.indices.min { lastUse[$0] < lastUse[$1] }!
            if chunkInSlot[slot] >= 0 { slotOfChunk[chunkInSlot[slot]] = nil }
            chunkInSlot[slot] = -1
            guard try load(chunk, into: storage + slot * plan.chunkBytes) else { return nil }
            chunkInSlot[slot] = chunk
            slotOfChunk[chunk] = slot
            inflated += 1
        }
        lastUse[slot] = clock
        return UnsafeRawPointer(storage + slot * plan.chunkBytes + (row - chunk * plan.chunkRows) * plan.rowBytes)
    }

    /// Reads and decodes chunk `chunk` into `output`; false when the chunk is not allocated.
    private func load(_ chunk: Int, into output: UnsafeMutableRawPointer) throws(DataError) -> Bool {
        let chunkStart = chunk * plan.chunkRows
        var offset = [hsize_t](repeating: 0, count: dataset.rank)
        offset[0] = hsize_t(chunkStart)
        var mask: UInt32 = 0
        var stored: hsize_t = 0
        var detail = ""
        HDF5Library.lock()
        var status = H5Dget_chunk_storage_size(dataset.id, offset, &stored)
        if status >= 0, stored > 0, stored <= hsize_t(Int32.max) {
            buffers.reserve(raw: Int(stored), work: max(Int(stored), plan.chunkBytes))
            status = H5Dread_chunk(dataset.id, HDF5Library.defaultPlist, offset, &mask, buffers.raw)
        }
        if status < 0 { detail = hdf5ErrorStackMessage() }
        HDF5Library.unlock()
        if status < 0 { throw dataset.site.error("reading chunk at row \(chunkStart) failed: \(detail)") }
        if stored == 0 || stored > hsize_t(Int32.max) { return false }
        try plan.decode(count: Int(stored), mask: mask, buffers: buffers, into: output, site: dataset.site, chunkStart: chunkStart)
        return true
    }
}

/// Reads images at arbitrary indices for streamed training batches: sorted by row, through a
/// bounded cache of decoded chunks shared by every caller (calls are serialized).
///
/// Memory is the cache (about `cacheBytes`) plus the output; datasets the direct chunk path
/// cannot read (uncompressed, other filters) fall back to chunk-bounded `H5Dread`s.
public final class ImageRowReader: @unchecked Sendable {
    /// The samples file read.
    public let file: SamplesFile
    private let cache: HDF5ChunkCache?
    private let lock = NSLock()

    /// A reader of `file`'s images with a cache of about `cacheBytes` of decoded chunks.
    public init(_ file: SamplesFile, cacheBytes: Int = 32 << 20) throws(DataError) {
        guard case .images = file.kind else { throw file.data.site.error("holds features, not images") }
        self.file = file
        cache = HDF5ChunkCache(file.data, memType: .uint8, bytes: cacheBytes)
    }

    /// Chunks inflated so far (0 when the dataset is read through `H5Dread`).
    public var inflatedChunks: Int { lock.withLock { cache?.inflated ?? 0 } }

    /// The decoded chunks the cache holds (0 without a cache).
    public var cacheSlots: Int { cache?.slots ?? 0 }

    /// The images at `indices` (any order, repeats allowed), in that order.
    public func readImages(indices: [Int]) throws(DataError) -> [UInt8] {
        guard let cache else { return try file.readImagesChunkwise(indices: indices) }
        let rowCount = file.data.shape[0]
        if let bad = indices.first(where: { $0 < 0 || $0 >= rowCount }) {
            throw file.data.site.error("sample index \(bad) is outside 0..<\(rowCount)")
        }
        let width = file.rowElements
        var output = [UInt8](repeating: 0, count: indices.count * width)
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        lock.lock()
        defer { lock.unlock() }
        for o in order {
            let destination = o * width
            if let source = try cache.row(indices[o]) {
                output.withUnsafeMutableBytes { ($0.baseAddress! + destination).copyMemory(from: source, byteCount: width) }
            } else {
                let row: [UInt8] = try file.data.readRows(indices[o]..<(indices[o] + 1))
                output.replaceSubrange(destination..<(destination + width), with: row)
            }
        }
        return output
    }
}
