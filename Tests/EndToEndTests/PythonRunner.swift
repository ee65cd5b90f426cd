import Foundation
import TestSupport
import Testing

/// The Python that the ONNX and NumPy round trips run: $ALAVERIFY_PYTHON (make test points it at
/// the venv `make pydeps` fills with numpy and onnxruntime), else `python3` on PATH. A test that
/// needs a module the interpreter lacks fails and says what to install: a skipped round trip is a
/// defect, not a pass.
enum Python {
    static let interpreter = ProcessInfo.processInfo.environment["ALAVERIFY_PYTHON"] ?? "python3"

    /// A script of `Tests/Python`.
    static func script(_ name: String) -> String { repositoryRoot.appendingPathComponent("Tests/Python/\(name)").path }

    /// Runs `interpreter args...` and returns its status and output.
    static func run(_ args: [String]) throws -> CLIResult {
        // One thread per runtime: tests already run side by side.
        try CLI.execute("/usr/bin/env", [interpreter] + args, in: repositoryRoot, environment: ["OMP_NUM_THREADS": "1"])
    }

    /// Fails the test with what to install unless the interpreter imports `modules`.
    static func require(_ modules: [String]) throws {
        let probe = try? run(["-c", "import " + modules.joined(separator: ", ")])
        guard let probe, probe.status == 0 else {
            let why = probe.map { $0.stderr.split(separator: "\n").last.map(String.init) ?? "status \($0.status)" } ?? "cannot run it"
            Issue.record("""
                this test runs \(modules.joined(separator: " and ")) in Python and '\(interpreter)' cannot import them (\(why)). \
                Run 'make test' (it installs them with 'make pydeps' into .build/python) or point ALAVERIFY_PYTHON at a \
                Python with 'pip install \(modules.joined(separator: " "))'.
                """)
            throw PythonMissing()
        }
    }

    struct PythonMissing: Error, CustomStringConvertible {
        var description: String { "no Python with the modules this test needs (see the issue above)" }
    }
}
