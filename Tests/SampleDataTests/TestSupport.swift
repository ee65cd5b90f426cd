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
