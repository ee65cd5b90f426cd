import Foundation

/// Writes files so that readers see the old content or the new, never a partial file: the one
/// place where alaverify's outputs are moved into place.
public enum AtomicFile {
    /// Writes `text` as UTF-8 (see `write(_:to:)` for bytes).
    public static func write(_ text: String, to path: String) throws(AtomicWriteError) {
        try write(Array(text.utf8), to: path)
    }

    /// Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`
    /// with POSIX `rename(2)` (atomic replacement on one file system). Devices, sockets and pipes
    /// (`/dev/stdout`, a FIFO) are written directly.
    ///
    /// (`FileManager.replaceItemAt` is not used: on Linux it removed an existing target and then
    /// failed.) Throws a one-line message naming the path.
    public static func write(_ bytes: [UInt8], to path: String) throws(AtomicWriteError) {
        if isStream(path) {
            guard let handle = FileHandle(forWritingAtPath: path) else { throw AtomicWriteError(path: path, reason: "cannot open") }
            handle.write(Data(bytes))
            try? handle.close()
            return
        }
        let temporary = temporaryPath(for: path)
        guard let file = fopen(temporary, "wb") else {
            throw AtomicWriteError(path: path, reason: String(cString: strerror(errno)))
        }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let closed = fclose(file) == 0
        guard written == bytes.count, flushed, closed else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicWriteError(path: path, reason: reason)
        }
        try commit(temporary, to: path, synced: true)
    }

    /// The temporary name beside `path` that `write` uses: `.<name>.tmp-<pid>`.
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)").path
    }

    /// Moves a finished temporary file over `path`: fsyncs it first (unless `synced`), so that after
    /// a crash `path` holds the old file or the complete new one, never a torn write. On failure
    /// the temporary file is removed.
    public static func commit(_ temporary: String, to path: String, synced: Bool = false) throws(AtomicWriteError) {
        if !synced {
            let fd = open(temporary, O_RDONLY)
            if fd >= 0 {
                _ = fsync(fd)
                _ = close(fd)
            }
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicWriteError(path: path, reason: reason)
        }
    }

    /// True for a character device, socket or FIFO: written in place, not replaced.
    static func isStream(_ path: String) -> Bool {
        guard let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType else { return false }
        return type == .typeCharacterSpecial || type == .typeSocket || type.rawValue == "NSFileTypeFIFO"
    }
}

/// A file that could not be written (exit 64: the output location is the problem).
public struct AtomicWriteError: AlaverifyError, Sendable, Equatable {
    /// The target path.
    public var path: String
    /// The system's reason.
    public var reason: String

    /// Creates an error for `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): cannot write: \(reason)" }
    public var exitStatus: ExitStatus { .usage }
}
