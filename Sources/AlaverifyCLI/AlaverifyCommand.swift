import AlaverifyBase
import ArgumentParser
import Foundation
import SampleData
import ScoreMetrics
import Training

/// The `alaverify` root command.
public struct AlaverifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "alaverify",
        abstract: "Biometric verification: exact operating-point metrics, DET reports, CI gates, ALA training.",
        discussion: """
            Exit codes: 0 success or gate passed, 1 gate failed, 64 usage error (bad flag or target), \
            65 bad input data, 70 internal error.
            """,
        version: alaverifyVersion,
        subcommands: [
            TrainCommand.self, ScoreCommand.self, MetricsCommand.self, ReportCommand.self, GateCommand.self,
            InspectCommand.self, DatasetCommand.self, ExportCommand.self, SlurmCommand.self,
        ])

    public init() {}

    /// Parses the process arguments, runs the command and exits with SPEC's exit codes.
    ///
    /// Every failure prints exactly one line to stderr: `alaverify: <file>: <where>: <problem>`.
    /// The exit status is the error's own (`AlaverifyError.exitStatus`); ArgumentParser's errors
    /// are usage errors (64), help and version exit 0, and any other error is unexpected (70).
    /// The thread count of parallel work is set here, once for the process, from the environment.
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        Compute.threads = Compute.defaultThreads()
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(ExitStatus.success.rawValue)
        } catch let error as any AlaverifyError {
            // A failed gate has printed its table; it needs no error line.
            if error.exitStatus == .gateFailed { Foundation.exit(ExitStatus.gateFailed.rawValue) }
            fail(error.description, status: error.exitStatus)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(ExitStatus.success.rawValue)
            }
            if code.rawValue == ExitCode.validationFailure.rawValue || error is ValidationError {
                fail(oneLine(message(for: error)) + " (see 'alaverify help')", status: .usage)
            }
            if let exitCode = error as? ExitCode { Foundation.exit(exitCode.rawValue) }
            fail(oneLine(message(for: error)), status: .internalError)
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("See '") }.joined(separator: " ")
    }

    static func fail(_ message: String, status: ExitStatus) -> Never {
        FileHandle.standardError.write(Data(("alaverify: " + oneLine(message) + "\n").utf8))
        Foundation.exit(status.rawValue)
    }
}

/// The tool's version, written into reports and PNG metadata.
public let alaverifyVersion = "0.1.0"

/// A usage problem the parser cannot see (conflicting flags, a bad target in context): exit 64.
public struct UsageError: AlaverifyError, Sendable {
    /// One line naming the flag or file and the problem.
    public var message: String
    /// Creates a usage error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var exitStatus: ExitStatus { .usage }
}

/// A bug or an environment failure (exit 70).
public struct InternalError: AlaverifyError, Sendable {
    /// One line describing what failed.
    public var message: String
    /// Creates an internal error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var exitStatus: ExitStatus { .internalError }
}

/// A gate that failed (exit 1); its table has already been printed.
public struct GateFailed: AlaverifyError, Sendable {
    /// Creates the marker.
    public init() {}
    public var description: String { "a gate failed" }
    public var exitStatus: ExitStatus { .gateFailed }
}

/// Refuses, before any work, an output path whose folder is missing or not writable, or that
/// is itself a folder (exit 64), so a long computation never ends in a write error.
func requireWritableOutput(_ path: String, _ flag: String) throws {
    let fm = FileManager.default
    var isFolder: ObjCBool = false
    if fm.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw UsageError("\(flag) \(path): is a folder; give a file name")
    }
    let parent = (path as NSString).deletingLastPathComponent
    let folder = parent.isEmpty ? "." : parent
    guard fm.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw UsageError("\(flag) \(path): the folder \(folder) does not exist")
    }
    // Create and remove a probe file: permission bits say nothing for root or special file systems.
    let probe = folder + "/.alaverify-probe-\(getpid())"
    let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
    guard fd >= 0 else {
        throw UsageError("\(flag) \(path): cannot create files in \(folder): \(String(cString: strerror(errno)))")
    }
    close(fd)
    unlink(probe)
}
