import AlaverifyBase
import ArgumentParser
import Foundation
import Protocols
import SampleData
import ScoreMetrics

/// `alaverify metrics`: the metric engine on one or more score files.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Exact ROC/DET metrics of score files: EER, AUC, AP and operating points with intervals.",
        discussion: """
            Reads CSV/TSV (header with label and score, optional left_id,right_id), bob 4/5-column, \
            HDF5 alaverify-scores and NumPy (.npz: scores, labels, optional left_id, right_id; .npy: a \
            structured array with fields score and label) files. Prints one block per file; --json writes SPEC's \
            metrics JSON (use - for stdout).

            Fixed thresholds (what a deployed system lives with): --dev DEV chooses each operating \
            point's threshold on DEV and applies it to every file given (achieved FAR and FRR with \
            intervals: a subject bootstrap at the fixed threshold when identities are known, else \
            Wilson; the drift achieved/target; HTER at DEV's EER threshold); --threshold T evaluates \
            given thresholds; --threshold-from RUN/model.h5 the thresholds train recorded on its \
            validation split. The JSON gains fixed_thresholds with their source (file, sha256, rule).

            Examples:
              alaverify metrics scores.csv --far 1e-4 --far 1e-3
              alaverify metrics a.h5 b.h5 --frr 0.01 --json metrics.json
              alaverify metrics --dev dev.csv eval.csv --far 1e-3 --threshold 0.42
              alaverify metrics new-scores.h5 --threshold-from runs/a/model.h5
              alaverify metrics eval.csv --calibrate dev.csv
            """)

    @Argument(help: "Score files.")
    var files: [String]

    @OptionGroup var input: ScoreInputOptions
    @OptionGroup var selection: MetricSelectionOptions
    @OptionGroup var fixed: ThresholdOptions

    @Option(help: "Write metrics JSON to this file, or - for stdout (then the table is not printed).")
    var json: String?

    @Option(name: .customLong("name"), help: "Display name per file, in order (default: the file name).")
    var names: [String] = []

    @Flag(help: "Operating points only: no EER/AUC/AP and no sort (linear-time selection).")
    var pointsOnly = false

    @Flag(help: "The files are the shard summaries of one evaluation ('score --shard'): give the metrics of all their pairs, the same JSON as 'metrics' on the unsharded scores file (intervals: conservative by default, or wilson/none).")
    var merge = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one score file") }
        guard names.isEmpty || names.count == files.count else {
            throw ValidationError("--name must be given once per score file (\(files.count)), got \(names.count)")
        }
    }

    func run() throws {
        if let json, json != "-" { try requireWritableOutput(json, "--json") }
        if pointsOnly && (fixed.any || fixed.cllr || fixed.calibrate != nil) {
            throw UsageError("--points-only computes operating points only; drop it to use --dev, --threshold, --threshold-from, --cllr or --calibrate")
        }
        if merge {
            if fixed.any || fixed.cllr || fixed.calibrate != nil {
                throw UsageError("--merge gives the metrics JSON of the unsharded scores; --dev, --threshold, --threshold-from, --cllr and --calibrate need a scores file")
            }
            return try runMerged()
        }
        let options = selection.options(curveMetrics: !pointsOnly)
        let thresholds = try fixed.fixedThresholds(input, selection)
        let calibration = try fixed.calibration(input)
        var systems = [NamedMetrics]()
        for (k, path) in files.enumerated() {
            let set = try input.read(path)
            let name = names.isEmpty ? (path as NSString).lastPathComponent : names[k]
            var named: NamedMetrics
            do {
                if pointsOnly {
                    named = NamedMetrics(name: name, source: path, metrics: try set.operatingPointsOnly(options))
                } else {
                    let full = try set.evaluate(options, thresholds: thresholds, cllr: fixed.cllr, calibration: calibration?.map)
                    named = NamedMetrics(name: name, source: path, metrics: full.metrics)
                    named.thresholds = full.thresholds
                    named.calibration = full.calibration
                }
            } catch let error as any AlaverifyError & Sendable {
                throw ErrorInFile(file: path, error)
            }
            systems.append(named)
        }
        let extra = calibration.map { [("calibration_fitted_on", $0.record)] } ?? []
        let document = MetricsJSON.document(systems, extra: extra).serialized()
        if json == "-" {
            print(document)
            return
        }
        print(systems.map(MetricsTable.render).joined(separator: "\n"), terminator: "")
        if let json {
            try AtomicFile.write(document + "\n", to: json)
        }
    }
}
