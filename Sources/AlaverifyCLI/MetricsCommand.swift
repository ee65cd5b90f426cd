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

            Examples:
              alaverify metrics scores.csv --far 1e-4 --far 1e-3
              alaverify metrics a.h5 b.h5 --frr 0.01 --json metrics.json
            """)

    @Argument(help: "Score files.")
    var files: [String]

    @OptionGroup var input: ScoreInputOptions
    @OptionGroup var selection: MetricSelectionOptions

    @Option(help: "Write metrics JSON to this file, or - for stdout (then the table is not printed).")
    var json: String?

    @Option(name: .customLong("name"), help: "Display name per file, in order (default: the file name).")
    var names: [String] = []

    @Flag(help: "Operating points only: no EER/AUC/AP and no sort (linear-time selection).")
    var pointsOnly = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one score file") }
        guard names.isEmpty || names.count == files.count else {
            throw ValidationError("--name must be given once per score file (\(files.count)), got \(names.count)")
        }
    }

    func run() throws {
        if let json, json != "-" { try requireWritableOutput(json, "--json") }
        let options = selection.options(curveMetrics: !pointsOnly)
        var systems = [NamedMetrics]()
        for (k, path) in files.enumerated() {
            let set = try input.read(path)
            let metrics: SystemMetrics
            do {
                metrics = pointsOnly ? try set.operatingPointsOnly(options) : try set.evaluate(options)
            } catch {
                throw ErrorInFile(file: path, error)
            }
            let name = names.isEmpty ? (path as NSString).lastPathComponent : names[k]
            systems.append(NamedMetrics(name: name, source: path, metrics: metrics))
        }
        let document = MetricsJSON.document(systems).serialized()
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
