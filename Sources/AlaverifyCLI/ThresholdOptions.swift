import AlaverifyBase
import ArgumentParser
import Foundation
import SampleData
import ScoreMetrics

/// Options that evaluate score files at thresholds fixed elsewhere, and calibration.
struct ThresholdOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Development score file: choose each operating point's threshold on it (the --far/--frr targets, --threshold-rule) and the EER threshold, then apply them to every input (achieved FAR/FRR, drift, HTER).",
        valueName: "dev-file"))
    var dev: String?

    @Option(name: .customLong("threshold"), help: ArgumentHelp(
        "Evaluate at this threshold, in the scores' units (repeatable).", valueName: "t"))
    var thresholds: [Double] = []

    @Option(help: ArgumentHelp(
        "Evaluate at the thresholds recorded in a model (RUN or RUN/model.h5: chosen by train on its validation split) or in a metrics JSON (its operating points' and EER thresholds).",
        valueName: "file"))
    var thresholdFrom: String?

    @Option(help: ArgumentHelp("With a metrics JSON for --threshold-from that holds several systems: the system's name.", valueName: "name"))
    var thresholdSystem: String?

    @Flag(help: "Report Cllr and minCllr (PAV) of the scores read as natural-log likelihood ratios.")
    var cllr = false

    @Option(help: ArgumentHelp(
        "Development score file: fit a logistic calibration (scores to log-likelihood ratios) on it and report the Cllr of every input mapped by it, with Cllr and minCllr.",
        valueName: "dev-file"))
    var calibrate: String?

    func validate() throws {
        for t in thresholds where !t.isFinite {
            throw ValidationError("--threshold \(t): a threshold must be a finite number")
        }
    }

    /// True when some fixed threshold is asked for.
    var any: Bool { dev != nil || !thresholds.isEmpty || thresholdFrom != nil }

    /// The fixed thresholds in order: the dev file's, the recorded ones, then the given numbers.
    /// Refuses thresholds made for another polarity than `input`'s (exit 64).
    func fixedThresholds(_ input: ScoreInputOptions, _ selection: MetricSelectionOptions) throws -> [FixedThreshold] {
        var out = [FixedThreshold]()
        if let dev {
            out += try ThresholdSources.dev(
                path: dev, format: input.format, polarity: input.polarity, metrics: selection.metrics, rule: selection.thresholdRule)
        }
        if let path = thresholdFrom {
            let recorded = try Self.recorded(path, system: thresholdSystem)
            for t in recorded where t.polarity != input.polarity {
                throw UsageError(
                    "\(path): its thresholds are for \(t.polarity.rawValue) scores, but the inputs are read as \(input.polarity.rawValue) (--polarity)")
            }
            out += recorded
        }
        out += thresholds.map {
            FixedThreshold(chosenFor: nil, threshold: $0, polarity: input.polarity, provenance: ThresholdProvenance(kind: .given))
        }
        return out
    }

    /// The thresholds recorded in a model file or folder, or in a metrics JSON.
    static func recorded(_ path: String, system: String?) throws -> [FixedThreshold] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw DataError(file: path, "no such file or folder")
        }
        if isFolder.boolValue || ScoresHDF5.isHDF5(path: path) { return try ThresholdSources.model(path: path) }
        return try ThresholdSources.metricsJSON(path: path, system: system, kind: .baseline)
    }

    /// The calibration fitted on `--calibrate`'s file, with its provenance for the JSON.
    func calibration(_ input: ScoreInputOptions) throws -> (map: LinearCalibration, record: JSONValue)? {
        guard let calibrate else { return nil }
        let set = try input.read(calibrate)
        let map: LinearCalibration
        do { map = try set.fitCalibration() } catch { throw DataError(file: calibrate, error.description) }
        let record = JSONValue.object([
            ("file", .string(calibrate)), ("sha256", SHA256.hex(fileAt: calibrate).map { .string($0) } ?? .null),
            ("method", .string("logistic regression, equal class weights")), ("scale", .number(map.scale)),
            ("offset", .number(map.offset)),
        ])
        return (map, record)
    }
}
