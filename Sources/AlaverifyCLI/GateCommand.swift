import AlaverifyBase
import ArgumentParser
import Foundation
import Protocols
import SampleData
import ScoreMetrics

/// `alaverify gate`: a protocol's gates on a system's scores or metrics, for CI.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "CI regression gate: check a protocol's gates on score files or metrics JSON against a baseline.",
        discussion: """
            Prints a table (gate, value, CI, limit, verdict) and exits 0 when every gate passes, 1 when \
            any fails; 64 for a bad protocol or flags, 65 for bad data (unreadable files, a metric the \
            data cannot estimate, a baseline of another protocol or other comparisons).

            Gates (protocol `gates:`): `max`/`min` on the estimate or `use: ci95_upper|ci95_lower`; \
            `max_regression` (absolute) or `max_relative_regression` (fraction of the baseline) against \
            the baseline, strict on estimates, or with `significance: a` failing only when the \
            regression beyond tolerance is significant: a paired subject bootstrap when both systems' \
            scores with identities are available (p = share of replicates within tolerance; fail iff \
            p < a), else the candidate's (1-2a) CI must lie entirely beyond baseline + tolerance.

            --update-baseline writes the candidate as the new baseline (temp file + rename) when the \
            absolute gates pass, and prints what changed.

            Gates at a shipped threshold (`metric: far|frr|hter` with `threshold_from: dev|baseline|model` \
            and `at: frr@far=X|far@frr=X|eer`, or `threshold: T`): the threshold is chosen on the \
            protocol's dev: score file, taken from the baseline, or recorded in its model: (train's \
            validation threshold), and applied as it is to the candidate's scores; `max`/`min` on the \
            estimate or `use: ci95_upper|ci95_lower` (subject bootstrap at the fixed threshold, else \
            Wilson). A limit the comparisons cannot resolve (limit x n < 3) is refused (65).

            Examples:
              alaverify gate --protocol protocols/demo-pixels8.yaml
              alaverify gate --protocol P.yaml s.csv --baseline base.json --junit gate.xml
              alaverify gate --protocol P.yaml scores.csv --update-baseline
            """)

    @Option(name: .customLong("protocol"), help: "Protocol file (YAML, SPEC section 6).")
    var protocolPath: String

    @Option(help: "Gate a metrics JSON instead of score files.")
    var metrics: String?

    @Option(help: "The system to gate when the metrics JSON holds several.")
    var system: String?

    @Argument(help: "The score file to gate (default: the protocol's scores:).")
    var scores: [String] = []

    @Option(help: "Baseline metrics JSON or score file (default: the protocol's baseline:).")
    var baseline: String?

    @Option(help: "Write JUnit XML here (one testcase per gate).")
    var junit: String?

    @Option(help: "Write a Markdown summary here (for CI step summaries).")
    var markdown: String?

    @Flag(help: "Accept the candidate as the new baseline (written when the absolute gates pass).")
    var updateBaseline = false

    @Option(help: "Score file format (default: the protocol's format:, else sniffed).")
    var format: ScoreFileFormat?

    @Option(help: "Score polarity (default: the protocol's polarity:, else similarity).")
    var polarity: Polarity?

    @Option(help: "Bootstrap replicates (default: the protocol's intervals.replicates, else 1000).")
    var replicates: Int?

    @Option(help: "Bootstrap seed (default: the protocol's intervals.seed, else 0).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Development score file that gates with threshold_from: dev choose their threshold on (default: the protocol's dev:).", valueName: "dev-file"))
    var dev: String?

    @Option(help: ArgumentHelp("Model file or run folder whose recorded thresholds gates with threshold_from: model use (default: the protocol's model:).", valueName: "file"))
    var model: String?

    func validate() throws {
        guard metrics == nil || scores.isEmpty else { throw ValidationError("give --metrics or score files, not both") }
        guard scores.count <= 1 else {
            throw ValidationError("gate one system at a time: give one score file, got \(scores.count)")
        }
        if let replicates, replicates < 100 || replicates > 100_000 {
            throw ValidationError("--replicates must lie in 100...100000, got \(replicates)")
        }
    }

    func run() throws {
        if let junit { try requireWritableOutput(junit, "--junit") }
        if let markdown { try requireWritableOutput(markdown, "--markdown") }
        if updateBaseline, let baseline { try requireWritableOutput(baseline, "--baseline") }
        var p = try EvaluationProtocol.load(path: protocolPath)
        if let format { p.format = format }
        if let polarity { p.polarity = polarity }
        if let replicates { p.intervals.replicates = replicates }
        if let seed { p.intervals.seed = seed }
        if let dev { p.dev = dev }
        if let model { p.model = model }

        let candidate: GatedSystem
        if let metrics {
            candidate = try GatedSystem.fromMetricsJSON(path: metrics, system: system, protocol: p)
        } else if let path = scores.first ?? p.scores.first {
            if scores.isEmpty, p.scores.count > 1 {
                throw UsageError("\(protocolPath): scores: names \(p.scores.count) files; gate one at a time by naming it")
            }
            candidate = try GatedSystem.fromScores(path: path, protocol: p)
        } else {
            throw UsageError("\(protocolPath): names no score files; give a score file or --metrics M.json")
        }

        let baselinePath = baseline ?? p.baseline
        var old: GatedSystem?
        if updateBaseline {
            guard let baselinePath else {
                throw UsageError("--update-baseline needs a place to write: give --baseline B.json or set baseline: in \(protocolPath)")
            }
            if FileManager.default.fileExists(atPath: baselinePath) {
                old = try? GatedSystem.load(path: baselinePath, protocol: p)
            }
        } else if let baselinePath {
            old = try GatedSystem.load(path: baselinePath, protocol: p)
        }

        let report = try GateEvaluator.evaluate(
            protocol: p, candidate: candidate, baseline: old, mode: updateBaseline ? .updateBaseline : .check)
        print(report.table(), terminator: "")
        if let junit { try AtomicFile.write(report.junit(), to: junit) }
        if let markdown { try AtomicFile.write(report.markdown(), to: markdown) }

        if updateBaseline, let baselinePath {
            guard report.passed else {
                print("baseline not updated: the candidate fails \(report.failures.count) absolute gate(s)")
                throw GateFailed()
            }
            let document = try Baseline.document(
                for: candidate, protocol: p, path: baselinePath, tool: "alaverify \(alaverifyVersion) gate --update-baseline")
            try AtomicFile.write(document.serialized() + "\n", to: baselinePath)
            print("baseline written: \(baselinePath)")
            for line in Baseline.changes(from: old, to: candidate, protocol: p) { print("  \(line)") }
            return
        }
        if !report.passed { throw GateFailed() }
    }
}
