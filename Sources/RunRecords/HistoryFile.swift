import AlaverifyBase
import Foundation

/// A run's `history.jsonl` being written: one `HistoryRecord` per line (`TrainingHistory.line`),
/// appended as the validations come.
public final class HistoryFile {
    /// The file.
    public let path: String
    private let handle: FileHandle

    /// Opens the history of a run: a new run (`keepingUpTo` nil) starts it empty; a resumed run
    /// keeps the records of the steps its checkpoint covers (`keepingUpTo: step`) and drops the
    /// rest, so that it continues as if never interrupted.
    public init(path: String, keepingUpTo step: Int?) throws(AtomicWriteError) {
        self.path = path
        let fm = FileManager.default
        if let step {
            if let bytes = fm.contents(atPath: path) {
                try AtomicFile.write(TrainingHistory.truncated([UInt8](bytes), after: step), to: path)
            }
        } else {
            try? fm.removeItem(atPath: path)
        }
        if !fm.fileExists(atPath: path) { _ = fm.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw AtomicWriteError(path: path, reason: "cannot open for writing") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Appends one record as one line.
    public func append(_ record: HistoryRecord) throws {
        do { try handle.write(contentsOf: Data(try TrainingHistory.line(record).utf8)) } catch let error as EncodingError {
            throw error
        } catch {
            throw AtomicWriteError(path: path, reason: error.localizedDescription)
        }
    }
}
