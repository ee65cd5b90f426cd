import Foundation

/// Progress on stderr: a redrawn bar when stderr is a terminal, else a plain line per 10%.
final class ProgressReporter {
    private let label: String
    private let total: Int
    private let isTerminal: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastDecile = 0
    private var drewBar = false

    init(label: String, total: Int, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.total = max(1, total)
        self.isTerminal = isTerminal
    }

    /// Reports `done` of `total` items.
    func update(_ done: Int, of total: Int) {
        if isTerminal {
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let percent = total > 0 ? 100 * done / total : 100
            emit("\r\(label) [\(bar)] \(done)/\(total) \(percent)%  \(rate(done))\u{1B}[K")
            drewBar = true
        } else {
            let decile = total > 0 ? 10 * done / total : 10
            guard decile > lastDecile else { return }
            lastDecile = decile
            emit("\(label): \(done)/\(total) (\(10 * decile)%) \(rate(done))\n")
        }
    }

    /// A line of its own on stderr (between updates, not inside a bar).
    func note(_ text: String) {
        emit(text + "\n")
    }

    /// Ends the bar's line.
    func finish() {
        if drewBar { emit("\n") }
    }

    private func rate(_ done: Int) -> String {
        let seconds = Date().timeIntervalSince(start)
        guard seconds > 0 else { return "" }
        return String(format: "%.0f/s", Double(done) / seconds)
    }

    private func emit(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// The temporary file a signal handler removes before the process dies of SIGINT or SIGTERM.
nonisolated(unsafe) private var pendingTemporaryFile: UnsafeMutablePointer<CChar>? = nil

private let removeTemporaryFileAndExit: @convention(c) (Int32) -> Void = { signal in
    if let path = pendingTemporaryFile { unlink(path) }
    _exit(128 + signal)
}

/// Removes a half-written output file when the user interrupts the process (Ctrl-C, SIGTERM).
///
/// Errors need no help: the writers delete their temporary files when they fail or are dropped.
final class TemporaryFileCleanup {
    /// Removes `path` if SIGINT or SIGTERM arrives before `disarm()`.
    func arm(_ path: String) {
        pendingTemporaryFile = strdup(path)
        signal(SIGINT, removeTemporaryFileAndExit)
        signal(SIGTERM, removeTemporaryFileAndExit)
    }

    /// Restores the default signal handling.
    func disarm() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        let path = pendingTemporaryFile
        pendingTemporaryFile = nil
        free(path)
    }
}
