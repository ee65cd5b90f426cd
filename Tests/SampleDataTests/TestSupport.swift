import Foundation
import Testing
@testable import SampleData

/// A fresh temporary directory removed when the value is dropped.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/alaverify-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the directory.
    func file(_ name: String) -> String { path + "/" + name }
}

/// The repository's fixtures folder (next to Package.swift).
let fixturesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("fixtures").path
}()

/// Runs `body` and returns the DataError it throws, or nil when it does not throw one.
func dataError(_ body: () throws -> Void) -> DataError? {
    do { try body() } catch let error as DataError { return error } catch { return nil }
    return nil
}

/// The value of `body` or the DataError it throws.
func attempt<T>(_ body: () throws(DataError) -> T) -> Result<T, DataError> {
    do { return .success(try body()) } catch { return .failure(error) }
}

/// A deliberately broken HDF5 file: what `build` writes, and the one DataError (dataset and
/// message) reading it must give.
struct BadFileCase: CustomTestStringConvertible, Sendable {
    let id: String
    let location: String?
    let message: String
    let build: @Sendable (HDF5Writer) throws -> Void
    var testDescription: String { id }
}

/// Writes `name` in `dir` with `build` and returns its path.
func makeHDF5File(_ dir: TemporaryDirectory, _ name: String, _ build: (HDF5Writer) throws -> Void) throws -> String {
    let path = dir.file(name)
    let writer = try HDF5Writer(path: path)
    try build(writer)
    try writer.close()
    return path
}

/// The root attributes of an alaverify file: `format` and `format_version` 1.
func writeFormatHeader(_ w: HDF5Writer, _ format: String) throws {
    try w.setAttribute("format", format)
    try w.setAttribute("format_version", Int64(1))
}
