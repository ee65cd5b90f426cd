import Foundation

/// Structural check of a file's global heap collections before HDF5 reads variable-length data.
///
/// HDF5 1.10 parses global heap collections (where variable-length strings live) without a
/// checksum and loops forever on some damaged ones (an object of size 0), or reads past the
/// collection. This walks every collection the way HDF5 does and rejects those that would.
enum HDF5GlobalHeapGuard {
    /// Files larger than this are not scanned (the scan maps the whole file).
    static let scanLimit = 1 << 34

    /// Throws a `DataError` for the first damaged global heap collection in the file at `path`.
    /// - Complexity: O(file size), one `memchr` pass over the memory-mapped file.
    static func validate(path: String) throws(DataError) {
        let site = HDF5Site(file: path)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw site.error("cannot open the file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw site.error("cannot read the file size") }
        let size = Int(info.st_size)
        guard size >= 16, size <= scanLimit else { return }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return }
        defer { munmap(mapped, size) }
        let bytes = UnsafeRawBufferPointer(start: mapped, count: size)
        let lengthSize = lengthFieldSize(bytes)
        var offset = 0
        while offset < size {
            guard let found = memchr(mapped + offset, 0x47, size - offset) else { break }  // "G"
            let start = UnsafeRawPointer(mapped).distance(to: UnsafeRawPointer(found))
            offset = start + 1
            guard start + 4 <= size, bytes[start + 1] == 0x43, bytes[start + 2] == 0x4F, bytes[start + 3] == 0x4C else { continue }
            // Version 1 and three reserved zero bytes: anything else is not a collection header.
            guard start + 8 + lengthSize <= size, bytes[start + 4] == 1,
                  bytes[start + 5] == 0, bytes[start + 6] == 0, bytes[start + 7] == 0 else { continue }
            if let problem = collectionProblem(bytes, at: start, lengthSize: lengthSize) {
                throw site.error("damaged global heap at byte \(start): \(problem)")
            }
        }
    }

    /// The superblock's "size of lengths" (8 unless the superblock says otherwise).
    private static func lengthFieldSize(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count > 14 else { return 8 }
        let version = bytes[8]
        let value = version <= 1 ? bytes[14] : bytes[10]
        return [2, 4, 8].contains(Int(value)) ? Int(value) : 8
    }

    private static func readLength(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in (0..<width).reversed() { value = value << 8 | UInt64(bytes[at + i]) }
        return value
    }

    /// Why HDF5 could not safely parse the collection at `start`, or nil when it can.
    static func collectionProblem(_ bytes: UnsafeRawBufferPointer, at start: Int, lengthSize: Int) -> String? {
        let header = 8 + lengthSize
        let objectHeader = 8 + lengthSize
        let declared = readLength(bytes, start + 8, lengthSize)
        guard declared >= UInt64(header), declared <= UInt64(bytes.count - start) else {
            return "collection size \(declared) does not fit in the file"
        }
        let end = start + Int(declared)
        var p = start + header
        while p < end {
            if p + objectHeader > end { break }  // trailing free space, as HDF5 reads it
            let index = Int(bytes[p]) | Int(bytes[p + 1]) << 8
            let objectSize = readLength(bytes, p + 8, lengthSize)
            guard objectSize <= UInt64(end - p) else { return "object \(index) of size \(objectSize) overruns the collection" }
            let need: Int
            if index > 0 {
                need = objectHeader + (Int(objectSize) + 7) & ~7
            } else {
                need = Int(objectSize)
            }
            guard need > 0 else { return "free-space object of size 0" }
            guard need <= end - p else { return "object \(index) of size \(objectSize) overruns the collection" }
            p += need
        }
        return nil
    }
}
