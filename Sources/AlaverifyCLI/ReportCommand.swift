import AlaverifyBase
import ArgumentParser
import Foundation
import Reports
import RunRecords
import SampleData
import ScoreMetrics

extension DETAxes: ExpressibleByArgument {}

/// `alaverify report`: DET/ROC/histogram PNGs, metrics.json and summary.md for score files or runs.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "DET, ROC and score-histogram PNGs with summary.md and metrics.json for score files or run folders.",
        discussion: """
            Each input is a score file (CSV/TSV/bob/HDF5/NumPy, as for 'metrics') or a run folder holding \
            scores.h5, scores.csv or scores.tsv. Writes into DIR: det.png, roc.png, \
            hist-<k>-<name>.png per system, metrics.json (SPEC section 3) and summary.md. Every PNG \
            carries tEXt metadata (tool version, command, sha256 of the inputs, the metrics shown); \
            equal input gives byte-identical files. Files are written to a temporary name and renamed.

            With two or more inputs, every system after the first is compared with the first at each \
            operating point: the difference and its paired subject-bootstrap interval (both thresholds \
            re-derived on the same resampled identities; --replicates, --level, --seed), printed and \
            written to summary.md. The systems must share identities (e.g. two runs' test splits).

            A run folder with a history.jsonl (from 'alaverify train') also gets, per run k: \
            train-<k>-<name>-target.png (the validation target and the training loss over steps, \
            best step marked), train-<k>-<name>-parameters.png (the loss parameters the run used: \
            scalars as lines, per-bin weights as heat maps over step and similarity bin) and, for ALA \
            runs, train-<k>-<name>-controller.png (actions per parameter, reward, policy entropy); \
            summary.md gains a training section (best step and value, final loss parameters).

            A requested operating point that the data cannot resolve (target x n < 3) is drawn hollow, \
            marked 'not estimable' and reported with a warning line; it does not fail the command.

            Exit codes: 0 written; 64 usage error, including a non-empty DIR without --force and an \
            output folder that cannot be created or written; 65 bad input data (unreadable or \
            malformed score file or history.jsonl, run folder without a score file); 70 internal error.

            Fixed thresholds (--dev DEV, --threshold T, --threshold-from RUN/model.h5, as for \
            'metrics'): the DET marks where each lands on every input with a diamond (a dotted line \
            from the target rate shows the drift), the legend and summary.md list target and \
            achieved rates, metrics.json gains fixed_thresholds.

            Examples:
              alaverify report fixtures/demo-pixels8.csv runs/ala --out reports/demo
              alaverify report fixtures/demo-pixels8-eval.csv --dev fixtures/demo-pixels8-dev.csv --far 0.01 --out reports/deploy
              alaverify report runs/a runs/b --out out --far 1e-4 --axes log --force
            """)

    @Argument(help: "Score files or run folders.")
    var inputs: [String] = []

    @Option(help: "Output folder (created if missing; must be empty unless --force).")
    var out: String

    @Option(help: "DET axes: probit (normal deviate) or log.")
    var axes: DETAxes = .probit

    @Flag(help: "Write into a non-empty output folder, replacing report files of the same names.")
    var force = false

    @Option(name: .customLong("name"), help: "Display name per input, in order (default: the file or run folder name).")
    var names: [String] = []

    @OptionGroup var input: ScoreInputOptions
    @OptionGroup var selection: MetricSelectionOptions
    @OptionGroup var fixed: ThresholdOptions

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one score file or run folder") }
        guard names.isEmpty || names.count == inputs.count else {
            throw ValidationError("--name must be given once per input (\(inputs.count)), got \(names.count)")
        }
    }

    @Flag(help: "The inputs are the shard summaries of one evaluation ('score --shard'): report their merged scores (exact metrics; the curve through its exact corners; impostor histogram bars at the shards' radix-bin resolution).")
    var merge = false

    func run() throws {
        if fixed.cllr || fixed.calibrate != nil { throw UsageError("--cllr and --calibrate belong to 'alaverify metrics'; report draws fixed thresholds (--dev, --threshold, --threshold-from)") }
        if merge && fixed.any {
            throw UsageError("--merge reports the merged shards' metrics; --dev, --threshold and --threshold-from need a scores file")
        }
        let thresholds = try fixed.fixedThresholds(input, selection)
        try prepareOutputFolder()
        if merge { return try runMerged() }
        let options = selection.options(curveMetrics: true)
        var series = [PlotSeries]()
        var provenance = [(path: String, sha256: String)]()
        var used = [String: Int]()
        let files = try inputs.map(scoreFile(for:))
        let digests = InputDigests(files.map(\.path))
        var timer = PhaseTimer()
        // Two or more systems: the differences from the first at each operating point (paired
        // subject bootstrap, with the intervals' replicates; not with --ci none or wilson).
        var compared = [(name: String, scores: AnyScoreSet)]()
        // Histories first: a malformed one fails the command before any score is evaluated.
        var histories = [(path: String, index: Int, history: TrainingHistory)]()
        for k in inputs.indices {
            if let (path, history) = try trainingHistory(for: inputs[k]) { histories.append((path, k, history)) }
        }
        timer.lap("read training histories")
        for k in inputs.indices {
            let (path, defaultName) = files[k]
            let set = try input.read(path)
            timer.lap("read \(path)")
            var name = names.isEmpty ? defaultName : names[k]
            used[name, default: 0] += 1
            if used[name]! > 1 { name += " (\(used[name]!))" }
            let s: PlotSeries
            do {
                s = try PlotSeries.make(name: name, source: path, scores: set, options: options, axes: axes, thresholds: thresholds)
            } catch let error as any AlaverifyError & Sendable {
                throw ErrorInFile(file: path, error)
            }
            timer.lap("evaluate, thin, bin")
            warnAboutPoints(s.metrics, path)
            series.append(s)
            if inputs.count > 1 && (options.interval == .auto || options.interval == .bootstrap) { compared.append((s.name, set)) }
        }
        let differences = SystemDifference.compute(
            compared, metrics: options.metrics, rule: options.rule, level: options.level, replicates: options.replicates,
            seed: options.seed)
        timer.lap("paired differences")
        for (k, file) in files.enumerated() {
            switch digests.result(k) {
            case .success(let digest):
                provenance.append((file.path, digest))
            case .failure(let error): throw DataError(file: file.path, "cannot read: \((error as NSError).localizedDescription)")
            }
        }
        for t in thresholds {
            if let file = t.provenance.file, let sha = t.provenance.sha256, !provenance.contains(where: { $0.path == file }) {
                provenance.append((file, sha))
            }
        }
        for (path, _, _) in histories { provenance.append(try digest(of: path)) }
        let training = histories.map { TrainingRunHistory(name: series[$0.index].name, index: $0.index, history: $0.history) }
        timer.lap("wait for the input checksums")
        let report = try Report.build(
            series: series, axes: axes, training: training, differences: differences,
            provenance: ReportProvenance(version: alaverifyVersion, command: Self.invocation, inputs: provenance))
        timer.lap("render and encode")
        try write(report)
        for d in differences { print(d.line) }
        timer.lap("write")
    }

    /// A file's SHA-256 for the report's provenance; a file that cannot be read is a DataError naming it.
    func digest(of path: String) throws -> (path: String, sha256: String) {
        do { return (path, try SHA256.hexDigest(ofFile: path)) } catch {
            throw DataError(file: path, "cannot read: \((error as NSError).localizedDescription)")
        }
    }

    /// The command line as it was run, shell-quoted, for the report's provenance.
    static var invocation: String {
        (["alaverify"] + CommandLine.arguments.dropFirst().map(shellQuoted)).joined(separator: " ")
    }

    /// Writes the report's files into `--out` (each atomically) and prints their paths.
    func write(_ report: Report) throws {
        for file in report.files {
            let path = (out as NSString).appendingPathComponent(file.name)
            try AtomicFile.write(file.bytes, to: path)
            print(path)
        }
    }

    /// Creates the output folder or checks that it may be written into.
    func prepareOutputFolder() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw UsageError("\(out): --out exists and is not a folder") }
            let entries = (try? fm.contentsOfDirectory(atPath: out)) ?? []
            if !entries.isEmpty && !force {
                throw UsageError("\(out): output folder is not empty (\(entries.count) entries); use --force to write into it")
            }
        } else {
            do { try fm.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw UsageError("\(out): cannot create the output folder: \(reason(error))")
            }
        }
        guard fm.isWritableFile(atPath: out) else { throw UsageError("\(out): output folder is not writable") }
    }

    /// The score file of an input: the file itself, or a run folder's scores file.
    func scoreFile(for argument: String) throws -> (path: String, name: String) {
        guard FileManager.default.fileExists(atPath: argument) else { throw DataError(file: argument, "no such file or folder") }
        let base = (argument as NSString).lastPathComponent
        guard RunDirectory.isFolder(argument) else { return (argument, base) }
        guard let scores = RunDirectory(argument).scoreFile else {
            throw DataError(file: argument, "run folder has no scores.h5, scores.csv or scores.tsv (the report plots a run's test scores)")
        }
        return (scores, base)
    }

    /// The parsed `history.jsonl` of a run folder, or nil for a score file or a folder without one.
    func trainingHistory(for argument: String) throws -> (path: String, history: TrainingHistory)? {
        guard RunDirectory.isFolder(argument) else { return nil }
        let path = RunDirectory(argument).history
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, "cannot read the file") }
        do {
            return (path, try TrainingHistory.parse([UInt8](data)))
        } catch {
            throw DataError(file: path, location: error.line > 0 ? "line \(error.line)" : nil, error.message)
        }
    }
}

/// Phase timings on stderr (wall and this thread's CPU seconds) when ALAVERIFY_TIMING is set;
/// the benchmark uses them to show where the time goes.
struct PhaseTimer {
    let enabled = ProcessInfo.processInfo.environment["ALAVERIFY_TIMING"] != nil
    var wall = Date()
    var cpu = PhaseTimer.threadCPUSeconds()

    mutating func lap(_ phase: String) {
        guard enabled else { return }
        let line = String(format: "timing: %@: %.3f s wall, %.3f s cpu\n", phase, Date().timeIntervalSince(wall), PhaseTimer.threadCPUSeconds() - cpu)
        FileHandle.standardError.write(Data(line.utf8))
        wall = Date()
        cpu = PhaseTimer.threadCPUSeconds()
    }

    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}

/// SHA-256 of every input, computed on a background thread while the inputs are evaluated.
final class InputDigests: @unchecked Sendable {
    private var results: [Result<String, Error>?]
    private let group = DispatchGroup()
    private let lock = NSLock()

    init(_ paths: [String]) {
        results = Array(repeating: nil, count: paths.count)
        DispatchQueue.global().async(group: group) { [self] in
            for (k, path) in paths.enumerated() {
                var timer = PhaseTimer()
                let r = Result { try SHA256.hexDigest(ofFile: path) }
                timer.lap("sha256 \(path) (background thread)")
                lock.lock()
                results[k] = r
                lock.unlock()
            }
        }
    }

    /// The digest of input k (waits for the hashing to finish).
    func result(_ k: Int) -> Result<String, Error> {
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        return results[k]!
    }
}

private func reason(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return ns.localizedDescription
}
