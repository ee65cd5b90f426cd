import CZlib
import Foundation

/// Reads the members of a ZIP archive (NumPy's `.npz`): stored or deflated members, ZIP64 sizes
/// and offsets, found through the central directory; each member's CRC-32 is checked.
struct ZipReader {
    /// One member, as the central directory describes it.
    struct Member {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
    }

    let path: String
    let data: Data
    /// The members in central-directory order.
    private(set) var members: [Member] = []

    /// Maps the archive and reads its central directory.
    init(path: String) throws(DataError) {
        self.path = path
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError(file: path, "cannot be read")
        }
        members = try withRawBytes(data) { raw throws(DataError) in try readDirectory(raw) }
    }

    private func fail(_ message: String) -> DataError { DataError(file: path, message) }

    private func readDirectory(_ b: UnsafeRawBufferPointer) throws(DataError) -> [Member] {
        // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
        guard b.count >= 22 else { throw fail("not a ZIP archive (.npz): too short, or truncated") }
        var eocd = -1
        var k = b.count - 22
        while k >= max(0, b.count - 22 - 65_535) {
            if u32(b, k) == 0x0605_4B50 { eocd = k; break }
            k -= 1
        }
        guard eocd >= 0 else { throw fail("not a ZIP archive (.npz), or truncated: no end of central directory") }
        var count = Int(u16(b, eocd + 10))
        var directorySize = Int(u32(b, eocd + 12))
        var directoryOffset = Int(u32(b, eocd + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the record points at the ZIP64 end record.
            guard eocd >= 20, u32(b, eocd - 20) == 0x0706_4B50 else { throw fail("ZIP64 archive without its locator (truncated?)") }
            let record = Int(clamping: u64(b, eocd - 12))
            guard record >= 0, record <= b.count - 56, u32(b, record) == 0x0606_4B50 else { throw fail("damaged ZIP64 end of central directory") }
            count = Int(clamping: u64(b, record + 32))
            directorySize = Int(clamping: u64(b, record + 40))
            directoryOffset = Int(clamping: u64(b, record + 48))
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= b.count - directorySize else {
            throw fail("truncated ZIP archive: the central directory lies beyond the end of the file")
        }
        var members = [Member]()
        var at = directoryOffset
        for _ in 0..<count {
            guard at <= b.count - 46, u32(b, at) == 0x0201_4B50 else { throw fail("damaged ZIP central directory") }
            let nameLength = Int(u16(b, at + 28)), extraLength = Int(u16(b, at + 30)), commentLength = Int(u16(b, at + 32))
            guard at + 46 + nameLength + extraLength + commentLength <= b.count else { throw fail("damaged ZIP central directory") }
            var m = Member(
                name: String(decoding: UnsafeRawBufferPointer(rebasing: b[(at + 46)..<(at + 46 + nameLength)]), as: UTF8.self),
                method: u16(b, at + 10), flags: u16(b, at + 8), crc: u32(b, at + 16),
                compressedSize: Int(u32(b, at + 20)), size: Int(u32(b, at + 24)), localHeaderOffset: Int(u32(b, at + 42)))
            // ZIP64 extra field (id 1): the 8-byte values of the fields that read 0xFFFFFFFF, in this order.
            var e = at + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(b, e), size = Int(u16(b, e + 2))
                if id == 1 {
                    var f = e + 4
                    for path in [\Member.size, \Member.compressedSize, \Member.localHeaderOffset] where m[keyPath: path] == 0xFFFF_FFFF && f + 8 <= e + 4 + size {
                        m[keyPath: path] = Int(clamping: u64(b, f))
                        f += 8
                    }
                }
                e += 4 + size
            }
            members.append(m)
            at += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    /// The uncompressed bytes of `member`, checked against its CRC-32.
    func contents(_ member: Member) throws(DataError) -> [UInt8] {
        let place = DataError(file: path, location: member.name, "")
        func fail(_ message: String) -> DataError { DataError(file: place.file, location: place.location, message) }
        guard member.flags & 1 == 0 else { throw fail("encrypted ZIP members are not supported") }
        guard member.method == 0 || member.method == 8 else {
            throw fail("ZIP compression method \(member.method) is not supported (stored or deflate, as numpy.savez and savez_compressed write)")
        }
        return try withRawBytes(data) { b throws(DataError) -> [UInt8] in
            let h = member.localHeaderOffset
            guard h >= 0, h <= b.count - 30, u32(b, h) == 0x0403_4B50 else { throw fail("damaged or truncated archive: no local header") }
            let start = h + 30 + Int(u16(b, h + 26)) + Int(u16(b, h + 28))
            guard member.compressedSize >= 0, start <= b.count - member.compressedSize else {
                throw fail("truncated archive: the member ends beyond the end of the file")
            }
            let stored = UnsafeRawBufferPointer(rebasing: b[start..<(start + member.compressedSize)])
            let bytes = member.method == 0 ? Array(stored) : try inflate(stored, size: member.size, fail: fail)
            guard bytes.count == member.size else { throw fail("the member holds \(bytes.count) bytes, the directory says \(member.size)") }
            guard ZipCRC.update(0, bytes) == member.crc else { throw fail("CRC-32 mismatch: the archive is damaged") }
            return bytes
        }
    }

    /// Inflates a raw deflate stream of a known output size.
    private func inflate(_ input: UnsafeRawBufferPointer, size: Int, fail: (String) -> DataError) throws(DataError) -> [UInt8] {
        guard size < 1 << 32, input.count < 1 << 32 else { throw fail("deflated members of 4 GiB or more are not supported; save with numpy.savez") }
        var output = [UInt8](repeating: 0, count: size)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("cannot start zlib")
        }
        defer { inflateEnd(&stream) }
        let status: Int32 = output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(size)
            var status = Z_OK
            while status == Z_OK { status = CZlib.inflate(&stream, Z_FINISH) }
            return status
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw fail("damaged deflate data (zlib status \(status))")
        }
        return output
    }
}

/// CRC-32 as ZIP uses it (zlib's).
enum ZipCRC {
    static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = uLong(crc)
        var at = 0
        while at < bytes.count {
            let n = min(bytes.count - at, 1 << 30)
            c = crc32(c, bytes.baseAddress!.advanced(by: at).assumingMemoryBound(to: Bytef.self), uInt(n))
            at += n
        }
        return UInt32(c)
    }
}

/// Writes a ZIP archive of stored (uncompressed) members whose sizes are known up front, so that
/// each member's bytes can be written at its place in any interleaving (a score file's columns
/// grow together, block by block). Local headers (with the CRC-32s) and the central directory are
/// written by `close()`, which renames the finished file into place; dropping an unclosed writer
/// deletes it. ZIP64 records are used when the archive reaches 4 GiB.
final class ZipWriter {
    struct Entry {
        var name: String
        var size: Int
        var headerOffset: Int
        var written = 0
        var crc: UInt32 = 0
    }

    let path: String
    let temporaryPath: String
    private(set) var entries: [Entry] = []
    private let zip64: Bool
    private let fd: Int32
    private var closed = false

    /// Creates the archive with members `names` of `sizes` bytes (written under a temporary name).
    init(path: String, members: [(name: String, size: Int)], forceZip64: Bool = false) throws(DataError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryPath = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        var offset = 0
        var total = 0
        for (name, size) in members { total += ZipWriter.localHeaderSize(name, zip64: true) + size + 46 + 28 + name.utf8.count }
        zip64 = forceZip64 || total + 98 >= 0xFFFF_FFFF
        for (name, size) in members {
            entries.append(Entry(name: name, size: size, headerOffset: offset))
            offset += ZipWriter.localHeaderSize(name, zip64: zip64) + size
        }
        fd = open(temporaryPath, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        guard fd >= 0 else { throw DataError(file: path, "cannot write: \(String(cString: strerror(errno)))") }
    }

    deinit {
        if !closed {
            _ = Foundation.close(fd)
            unlink(temporaryPath)
        }
    }

    static func localHeaderSize(_ name: String, zip64: Bool) -> Int { 30 + name.utf8.count + (zip64 ? 20 : 0) }

    private func dataOffset(_ k: Int) -> Int { entries[k].headerOffset + ZipWriter.localHeaderSize(entries[k].name, zip64: zip64) }

    /// Appends `bytes` to member `k` (members are filled front to back, each on its own).
    func append(_ k: Int, _ bytes: UnsafeRawBufferPointer) throws(DataError) {
        guard entries[k].written + bytes.count <= entries[k].size else {
            throw DataError(file: path, location: entries[k].name, "more bytes than announced (internal error)")
        }
        try write(bytes, at: dataOffset(k) + entries[k].written)
        entries[k].crc = ZipCRC.update(entries[k].crc, bytes)
        entries[k].written += bytes.count
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(DataError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            guard n > 0 else { throw DataError(file: path, "cannot write: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// Writes the headers and the directory, then moves the archive into place.
    func close() throws(DataError) {
        for e in entries where e.written != e.size {
            throw DataError(file: path, location: e.name, "\(e.written) of \(e.size) bytes written (internal error)")
        }
        var directory = [UInt8]()
        for e in entries {
            var local = ZipBytes()
            local.u32(0x0403_4B50); local.u16(zip64 ? 45 : 20); local.u16(0); local.u16(0)
            // A fixed date (1980-01-01 00:00) so that equal scores give equal bytes.
            local.u16(0); local.u16(0x21); local.u32(e.crc)
            local.u32(zip64 ? 0xFFFF_FFFF : UInt32(e.size)); local.u32(zip64 ? 0xFFFF_FFFF : UInt32(e.size))
            local.u16(UInt16(e.name.utf8.count)); local.u16(zip64 ? 20 : 0); local.bytes += Array(e.name.utf8)
            if zip64 { local.u16(1); local.u16(16); local.u64(UInt64(e.size)); local.u64(UInt64(e.size)) }
            try withRawBytes(local.bytes) { b throws(DataError) in try write(b, at: e.headerOffset) }
            var central = ZipBytes()
            central.u32(0x0201_4B50); central.u16(zip64 ? 45 : 20); central.u16(zip64 ? 45 : 20); central.u16(0); central.u16(0)
            central.u16(0); central.u16(0x21); central.u32(e.crc)
            central.u32(zip64 ? 0xFFFF_FFFF : UInt32(e.size)); central.u32(zip64 ? 0xFFFF_FFFF : UInt32(e.size))
            central.u16(UInt16(e.name.utf8.count)); central.u16(zip64 ? 28 : 0); central.u16(0); central.u16(0); central.u16(0)
            central.u32(0); central.u32(zip64 ? 0xFFFF_FFFF : UInt32(e.headerOffset)); central.bytes += Array(e.name.utf8)
            if zip64 { central.u16(1); central.u16(24); central.u64(UInt64(e.size)); central.u64(UInt64(e.size)); central.u64(UInt64(e.headerOffset)) }
            directory += central.bytes
        }
        let directoryOffset = entries.last.map { dataOffset(entries.count - 1) + $0.size } ?? 0
        var end = ZipBytes()
        if zip64 {
            let record = directoryOffset + directory.count
            end.u32(0x0606_4B50); end.u64(44); end.u16(45); end.u16(45); end.u32(0); end.u32(0)
            end.u64(UInt64(entries.count)); end.u64(UInt64(entries.count)); end.u64(UInt64(directory.count)); end.u64(UInt64(directoryOffset))
            end.u32(0x0706_4B50); end.u32(0); end.u64(UInt64(record)); end.u32(1)
        }
        end.u32(0x0605_4B50); end.u16(0); end.u16(0)
        end.u16(zip64 ? 0xFFFF : UInt16(entries.count)); end.u16(zip64 ? 0xFFFF : UInt16(entries.count))
        end.u32(zip64 ? 0xFFFF_FFFF : UInt32(directory.count)); end.u32(zip64 ? 0xFFFF_FFFF : UInt32(directoryOffset)); end.u16(0)
        let tail = directory + end.bytes
        try withRawBytes(tail) { b throws(DataError) in try write(b, at: directoryOffset) }
        let synced = fsync(fd) == 0
        let closedOK = Foundation.close(fd) == 0
        closed = true
        guard synced, closedOK, rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw DataError(file: path, "cannot write: \(reason)")
        }
    }
}

/// Little-endian field writer for ZIP records.
private struct ZipBytes {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for k in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(k))) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for k in 0..<8 { bytes.append(UInt8((v >> (8 * UInt64(k))) & 0xFF)) } }
}

private func u16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
private func u32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 { UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16 }
private func u64(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }

/// Runs `body` on the raw bytes of `array`, keeping its typed error (`withUnsafeBytes` rethrows untyped).
func withRawBytes<T, R>(_ array: [T], _ body: (UnsafeRawBufferPointer) throws(DataError) -> R) throws(DataError) -> R {
    let result: Result<R, DataError> = array.withUnsafeBytes { b in
        do throws(DataError) { return .success(try body(b)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Runs `body` on the bytes of `data`, keeping its typed error.
func withRawBytes<R>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(DataError) -> R) throws(DataError) -> R {
    let result: Result<R, DataError> = data.withUnsafeBytes { b in
        do throws(DataError) { return .success(try body(b)) } catch { return .failure(error) }
    }
    return try result.get()
}
