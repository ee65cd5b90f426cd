import Foundation

/// Writes files so that readers see the old content or the new, never a partial file.
public enum AtomicFile {
    /// Writes `text` to a temporary file beside `path`, flushes it, and renames it over `path`
    /// with POSIX `rename(2)` (atomic replacement on one file system).
    ///
    /// (`FileManager.replaceItemAt` is not used: on Linux it removed an existing target and then
    /// failed.) Throws a one-line message naming the path.
    public static func write(_ text: String, to path: String) throws(AtomicWriteError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)").path
        guard let file = fopen(temporary, "wb") else {
            throw AtomicWriteError(path: path, reason: String(cString: strerror(errno)))
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let closed = fclose(file) == 0
        guard written == bytes.count, flushed, closed else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicWriteError(path: path, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicWriteError(path: path, reason: reason)
        }
    }
}

/// A file that could not be written.
public struct AtomicWriteError: Error, Sendable, CustomStringConvertible {
    /// The target path.
    public var path: String
    /// The system's reason.
    public var reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
}
