import CHDF5
import CZlib
import Foundation

/// Fast reads of whole-row ranges from chunked, deflate-compressed datasets.
///
/// HDF5 decompresses chunks one after another on the calling thread; for image sets inflate is
/// nearly all of the cost. This reader fetches the raw (still compressed) chunks with
/// `H5Dread_chunk` under the HDF5 lock, then undoes the filters itself on several threads:
/// Fletcher-32 (verified, as HDF5 does), deflate (zlib), shuffle. Chunks that lie wholly in
/// the selection are inflated straight into the output. Anything else — other filters, chunks
/// that do not span whole rows, unallocated chunks, a non-native byte order, partial edge chunks
/// stored unfiltered — is left to `H5Dread` (the plan is nil).
struct HDF5ChunkPlan: Sendable {
    /// A filter of the pipeline, in the order HDF5 applied them when writing.
    enum Filter: Sendable, Equatable {
        case shuffle(elementSize: Int)
        case deflate
        case fletcher32
    }

    /// Rows per chunk.
    let chunkRows: Int
    /// Bytes per row.
    let rowBytes: Int
    /// The filters in write order.
    let filters: [Filter]

    /// Bytes of one decoded chunk.
    var chunkBytes: Int { chunkRows * rowBytes }

    /// The plan for `dataset` read as `memType`, or nil when `H5Dread` must do the work (lock held).
    static func make(_ dataset: HDF5Dataset, memType: HDF5ElementType) -> HDF5ChunkPlan? {
        guard let chunk = dataset.chunkShape, dataset.rank >= 1, chunk.count == dataset.rank,
              chunk.dropFirst().elementsEqual(dataset.shape.dropFirst()), chunk[0] > 0,
              memType == dataset.elementType, memType.byteSize > 0, !memType.isString,
              let nativeType = memType.nativeTypeID,
              let rowElements = ShapeMath.elementCount(Array(dataset.shape.dropFirst())), rowElements > 0
        else { return nil }
        let id = dataset.id
        let fileType = H5Dget_type(id)
        guard fileType >= 0 else { _ = H5Eclear2(alv_h5e_default()); return nil }
        let native = H5Tequal(fileType, nativeType) > 0
        _ = H5Tclose(fileType)
        guard native else { return nil }
        let dcpl = H5Dget_create_plist(id)
        guard dcpl >= 0 else { _ = H5Eclear2(alv_h5e_default()); return nil }
        defer { _ = H5Pclose(dcpl) }
        var options: UInt32 = 0
        if H5Pget_chunk_opts(dcpl, &options) < 0 || options & UInt32(H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS) != 0 {
            _ = H5Eclear2(alv_h5e_default())
            return nil
        }
        let count = H5Pget_nfilters(dcpl)
        guard count >= 0 else { _ = H5Eclear2(alv_h5e_default()); return nil }
        var filters: [Filter] = []
        for index in 0..<UInt32(count) {
            var flags: UInt32 = 0
            var elements = 8
            var values = [UInt32](repeating: 0, count: 8)
            var config: UInt32 = 0
            let filter = H5Pget_filter2(dcpl, index, &flags, &elements, &values, 0, nil, &config)
            switch filter {
            case H5Z_filter_t(H5Z_FILTER_DEFLATE): filters.append(.deflate)
            case H5Z_filter_t(H5Z_FILTER_FLETCHER32): filters.append(.fletcher32)
            case H5Z_filter_t(H5Z_FILTER_SHUFFLE):
                guard elements >= 1, values[0] >= 1 else { return nil }
                filters.append(.shuffle(elementSize: Int(values[0])))
            default:
                _ = H5Eclear2(alv_h5e_default())
                return nil
            }
        }
        // Only worth it (and only tested) when the data are compressed.
        guard filters.contains(.deflate) else { return nil }
        return HDF5ChunkPlan(chunkRows: chunk[0], rowBytes: rowElements * memType.byteSize, filters: filters)
    }
}

extension HDF5Dataset {
    /// Threads used to decode chunks: `ALAVERIFY_DECODE_THREADS` when set (at least 1), else one per active core.
    static let decodeThreads: Int = {
        if let text = ProcessInfo.processInfo.environment["ALAVERIFY_DECODE_THREADS"], let n = Int(text) { return max(1, n) }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Reads rows `rows` into `output` (rows.count x row bytes) through the chunk plan.
    ///
    /// Returns false, having read nothing, when the dataset does not suit the direct path.
    func readRowsDirect(_ rows: Range<Int>, memType: HDF5ElementType, into output: UnsafeMutableRawBufferPointer) throws(DataError) -> Bool {
        HDF5Library.lock()
        let plan = HDF5ChunkPlan.make(self, memType: memType)
        HDF5Library.unlock()
        guard let plan, !rows.isEmpty else { return false }
        precondition(output.count == rows.count * plan.rowBytes, "output does not match the selection")
        let firstChunk = rows.lowerBound / plan.chunkRows
        let lastChunk = (rows.upperBound - 1) / plan.chunkRows
        let chunks = lastChunk - firstChunk + 1
        let workers = min(Self.decodeThreads, chunks)
        let failures = ChunkFailures()
        let site = self.site
        let rank = self.rank
        let id = self.id
        let output = UncheckedBuffer(output)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var buffers = ChunkBuffers()
            defer { buffers.release() }
            var chunk = firstChunk + worker
            while chunk <= lastChunk, !failures.stopped {
                let chunkStart = chunk * plan.chunkRows
                var offset = [hsize_t](repeating: 0, count: rank)
                offset[0] = hsize_t(chunkStart)
                // Raw chunk bytes and the mask of filters skipped for this chunk, under the lock.
                var mask: UInt32 = 0
                var status: Int32 = 0
                var stored: hsize_t = 0
                var detail = ""
                HDF5Library.lock()
                status = H5Dget_chunk_storage_size(id, offset, &stored)
                if status >= 0, stored > 0, stored <= hsize_t(Int32.max) {
                    buffers.reserve(raw: Int(stored), work: max(Int(stored), plan.chunkBytes))
                    status = H5Dread_chunk(id, HDF5Library.defaultPlist, offset, &mask, buffers.raw)
                }
                if status < 0 { detail = hdf5ErrorStackMessage() }
                HDF5Library.unlock()
                if status < 0 {
                    failures.record(chunk, site.error("reading chunk at row \(chunkStart) failed: \(detail)"))
                    return
                }
                if stored == 0 || stored > hsize_t(Int32.max) {
                    failures.record(chunk, nil)  // unallocated or absurd: let H5Dread handle the whole read
                    return
                }
                // The part of this chunk that the selection wants.
                let lo = max(rows.lowerBound, chunkStart), hi = min(rows.upperBound, chunkStart + plan.chunkRows)
                let destination = output.base + (lo - rows.lowerBound) * plan.rowBytes
                let whole = lo == chunkStart && hi == chunkStart + plan.chunkRows
                do throws(DataError) {
                    try plan.decode(
                        count: Int(stored), mask: mask, buffers: buffers, into: whole ? destination : buffers.scratch,
                        site: site, chunkStart: chunkStart)
                } catch {
                    failures.record(chunk, error)
                    return
                }
                if !whole {
                    destination.copyMemory(from: buffers.scratch + (lo - chunkStart) * plan.rowBytes, byteCount: (hi - lo) * plan.rowBytes)
                }
                chunk += workers
            }
        }
        switch failures.first {
        case nil: return true
        case .some(nil): return false
        case .some(let error?): throw error
        }
    }
}

extension HDF5ChunkPlan {
    /// Undoes the filters not skipped by `mask` of the raw chunk in `buffers.raw` (`count` bytes),
    /// leaving the `chunkBytes` decoded bytes at `output`.
    func decode(
        count: Int, mask: UInt32, buffers: ChunkBuffers, into output: UnsafeMutableRawPointer, site: HDF5Site, chunkStart: Int
    ) throws(DataError) {
        let expected = chunkBytes
        func fail(_ what: String) -> DataError { site.error("chunk at row \(chunkStart): \(what)") }
        // The steps to undo, last-applied first; a one-byte shuffle changes nothing.
        let steps = filters.enumerated().reversed().filter { index, filter in
            mask & (1 << UInt32(index)) == 0 && filter != .shuffle(elementSize: 1)
        }.map(\.element)
        var current = buffers.raw
        var length = count
        for (k, filter) in steps.enumerated() {
            let target = k == steps.count - 1 ? output : (current == buffers.workA ? buffers.workB : buffers.workA)
            switch filter {
            case .fletcher32:
                guard length >= 4 else { throw fail("too short for its Fletcher-32 checksum") }
                let b = current.assumingMemoryBound(to: UInt8.self)
                let stored = UInt32(b[length - 4]) | UInt32(b[length - 3]) << 8 | UInt32(b[length - 2]) << 16 | UInt32(b[length - 1]) << 24
                let sum = Self.fletcher32(UnsafeRawBufferPointer(start: current, count: length - 4))
                // HDF5 also accepts the byte-swapped form written by releases before 1.6.3.
                let swapped = (sum & 0x00FF_00FF) << 8 | (sum >> 8) & 0x00FF_00FF
                guard stored == sum || stored == swapped else { throw fail("data error detected by Fletcher-32 checksum") }
                length -= 4
                continue
            case .deflate:
                var produced = uLongf(expected)
                let code = uncompress(
                    target.assumingMemoryBound(to: Bytef.self), &produced, current.assumingMemoryBound(to: Bytef.self), uLong(length))
                guard code == Z_OK else {
                    throw fail(code == Z_BUF_ERROR ? "decompresses to more than \(expected) bytes" : "corrupt deflate data (zlib error \(code))")
                }
                length = Int(produced)
            case .shuffle(let size):
                guard length <= max(expected, count) else { throw fail("holds \(length) bytes, expected \(expected)") }
                Self.unshuffle(UnsafeRawBufferPointer(start: current, count: length), into: target, count: length, elementSize: size)
            }
            current = target
        }
        guard length == expected else { throw fail("holds \(length) bytes, expected \(expected)") }
        if current != output { output.copyMemory(from: current, byteCount: expected) }
    }

    /// HDF5's Fletcher-32 (`H5_checksum_fletcher32`): big-endian 16-bit words, an odd last byte as the high half.
    static func fletcher32(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var sum1: UInt32 = 0, sum2: UInt32 = 0
        var words = data.count / 2
        var i = 0
        while words > 0 {
            let block = min(words, 360)
            words -= block
            for _ in 0..<block {
                sum1 &+= UInt32(data[i]) << 8 | UInt32(data[i + 1])
                sum2 &+= sum1
                i += 2
            }
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
        }
        if data.count % 2 == 1 {
            sum1 &+= UInt32(data[i]) << 8
            sum2 &+= sum1
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
        }
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
        return sum2 << 16 | sum1
    }

    /// Reverses HDF5's byte shuffle: byte b of element e was stored at b * n + e; trailing bytes are copied.
    static func unshuffle(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawPointer, count: Int, elementSize: Int) {
        let n = count / elementSize
        let out = target.assumingMemoryBound(to: UInt8.self)
        for b in 0..<elementSize {
            for e in 0..<n { out[e * elementSize + b] = source[b * n + e] }
        }
        for k in (n * elementSize)..<count { out[k] = source[k] }
    }
}

/// The first failure by chunk index across decoding threads (nil inside: fall back to `H5Dread`).
private final class ChunkFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var chunk = Int.max
    private var error: DataError?? = nil

    /// True once any worker failed; the others stop at their next chunk.
    var stopped: Bool { lock.withLock { error != nil } }

    /// The recorded failure, if any.
    var first: DataError?? { lock.withLock { error } }

    func record(_ index: Int, _ failure: DataError?) {
        lock.withLock {
            if index < chunk { chunk = index; error = .some(failure) }
        }
    }
}

/// One decoding thread's buffers: the raw chunk, two work areas and the scratch chunk, grown as needed.
struct ChunkBuffers {
    private(set) var raw = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
    private(set) var workA = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
    private(set) var workB = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
    private(set) var scratch = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16)
    private var rawCapacity = 1
    private var workCapacity = 1

    /// Makes `raw` hold at least `raw` bytes and the work areas (and scratch) `work` bytes.
    mutating func reserve(raw rawBytes: Int, work workBytes: Int) {
        if rawBytes > rawCapacity {
            raw.deallocate()
            raw = .allocate(byteCount: rawBytes, alignment: 16)
            rawCapacity = rawBytes
        }
        if workBytes > workCapacity {
            for p in [workA, workB, scratch] { p.deallocate() }
            workA = .allocate(byteCount: workBytes, alignment: 16)
            workB = .allocate(byteCount: workBytes, alignment: 16)
            scratch = .allocate(byteCount: workBytes, alignment: 16)
            workCapacity = workBytes
        }
    }

    /// Frees every buffer.
    func release() {
        for p in [raw, workA, workB, scratch] { p.deallocate() }
    }
}

/// An output buffer shared by decoding threads that write disjoint parts of it.
private struct UncheckedBuffer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    init(_ buffer: UnsafeMutableRawBufferPointer) { base = buffer.baseAddress! }
}

extension HDF5Dataset {
    /// Rows `rows` through the direct chunk path, or nil when `H5Dread` should read them
    /// (the dataset does not suit it, or the selection is smaller than one chunk, where HDF5's
    /// chunk cache serves repeated small reads better).
    func readRowsDirect<T: HDF5Scalar>(_ rows: Range<Int>) throws(DataError) -> [T]? {
        guard let chunk = chunkShape?.first, rows.count >= chunk, rank >= 1 else { return nil }
        try require(type: T.hdf5Type)
        var start = [Int](repeating: 0, count: rank), count = shape
        start[0] = rows.lowerBound
        count[0] = rows.count
        try checkSelection(start: start, count: count)
        let n = try ShapeMath.checkAllocation(count, elementSize: MemoryLayout<T>.stride, site) / MemoryLayout<T>.stride
        var failure: DataError? = nil
        var used = false
        let result = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            do throws(DataError) {
                used = try readRowsDirect(rows, memType: T.hdf5Type, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = used ? n : 0
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return used ? result : nil
    }
}
