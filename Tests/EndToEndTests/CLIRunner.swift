import Foundation
import TestSupport
import Testing

/// Runs the built `alaverify` binary and captures its output.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The binary: $ALAVERIFY_BIN, else next to the test bundle, else .build/debug.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["ALAVERIFY_BIN"] { return path }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDir, bundleDir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("alaverify").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot.appendingPathComponent(".build/debug/alaverify").path
    }()

    /// The repository root.
    static let packageRoot = repositoryRoot

    /// Runs `alaverify args...` in `directory` (default: the package root), with `environment`
    /// added to this process's environment.
    static func run(_ args: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> CLIResult {
        try execute(binary, args, in: directory ?? packageRoot, environment: environment)
    }

    /// Runs `executable args...` in `directory` with `environment` added, capturing its output.
    static func execute(_ executable: String, _ args: [String], in directory: URL, environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.currentDirectoryURL = directory
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes fully before waiting so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("alaverify-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to `name` inside `directory` and returns the path.
@discardableResult
func write(_ text: String, _ name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}
