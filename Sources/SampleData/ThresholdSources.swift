import AlaverifyBase
import Foundation
import ScoreMetrics

/// Fixed thresholds read from where they are kept: a model file that `train` wrote, a metrics
/// JSON (a baseline), or chosen on a development score file.
public enum ThresholdSources {
    /// The thresholds a model file records (its JSON document `/thresholds_json`, SPEC section 2):
    /// chosen by `train` on the run's validation split. A folder stands for its `model.h5`.
    /// - Throws: `DataError` when the file is unreadable, not a model or checkpoint file, or
    ///   records no thresholds (models trained before they were recorded).
    public static func model(path given: String) throws(DataError) -> [FixedThreshold] {
        var isFolder: ObjCBool = false
        let path = FileManager.default.fileExists(atPath: given, isDirectory: &isFolder) && isFolder.boolValue
            ? (given as NSString).appendingPathComponent("model.h5") : given
        guard FileManager.default.fileExists(atPath: path) else { throw DataError(file: path, "no such file") }
        guard HDF5File.hasSignature(path: path) else { throw DataError(file: path, "not an HDF5 model file") }
        let file = try HDF5File(path: path)
        let format = try file.stringAttribute("format") ?? "none"
        guard format == "alaverify-model" || format == "alaverify-checkpoint" else {
            throw DataError(file: path, "not an alaverify-model file (format attribute: \(format))")
        }
        guard try file.datasetPaths().contains("/thresholds_json") else {
            throw DataError(
                file: path,
                "records no deployment thresholds (it was trained before alaverify recorded them); retrain it, or choose thresholds on development scores")
        }
        let bytes: [UInt8] = try file.dataset("/thresholds_json").read()
        let document: JSONValue
        do { document = try JSONValue.parse(Data(bytes)) } catch {
            throw DataError(file: path, location: "/thresholds_json", error.description)
        }
        switch MetricsJSON.readThresholds(document, kind: .model, file: path, sha256: SHA256.hex(fileAt: path)) {
        case .success(let list): return list
        case .failure(let e): throw DataError(file: path, location: "/thresholds_json", e.reason)
        }
    }

    /// The thresholds of one system of a metrics JSON: its operating points' thresholds and its
    /// EER threshold (`kind`: usually `.baseline`). `system` picks one when the file holds several.
    public static func metricsJSON(path: String, system wanted: String?, kind: ThresholdProvenance.Kind = .baseline)
        throws(DataError) -> [FixedThreshold]
    {
        let picked = try MetricsJSONSystem.read(path: path, system: wanted)
        let system = picked.object, k = picked.index
        let polarity: Polarity = if case .string(let p)? = system["polarity"], let pol = Polarity(rawValue: p) { pol } else { .similarity }
        let sha = SHA256.hex(fileAt: path)
        var out = [FixedThreshold]()
        if case .array(let points)? = system["operating_points"] {
            for point in points {
                guard case .string(let name)? = point["name"], let metric = Metric(name), let t = point["threshold"]?.doubleValue,
                    !t.isNaN
                else { continue }
                let rule: String? = if case .string(let r)? = point["rule"] { r } else { nil }
                out.append(FixedThreshold(
                    chosenFor: metric, threshold: t, polarity: polarity,
                    provenance: ThresholdProvenance(kind: kind, file: path, sha256: sha, rule: rule)))
            }
        }
        if let t = system["eer"]?["threshold"]?.doubleValue, !t.isNaN {
            out.append(FixedThreshold(
                chosenFor: .eer, threshold: t, polarity: polarity,
                provenance: ThresholdProvenance(kind: kind, file: path, sha256: sha, rule: "eer")))
        }
        guard !out.isEmpty else { throw DataError(file: path, "systems[\(k)] records no thresholds") }
        return out
    }

    /// Thresholds chosen on a development (or baseline: `kind`) score file: one per operating
    /// point in `metrics` (SPEC section 2's rules) and the EER threshold.
    /// - Throws: `DataError` for an unreadable file, one without genuine or impostor scores, or an
    ///   operating point that cannot be reached there.
    public static func dev(
        path: String, format: ScoreFileFormat, polarity: Polarity, metrics: [Metric], rule: ThresholdRule,
        kind: ThresholdProvenance.Kind = .dev
    ) throws(DataError) -> [FixedThreshold] {
        let set = try ScoreFiles.read(path: path, format: format, polarity: polarity)
        do {
            return try set.chooseThresholds(
                metrics, rule: rule, eer: true,
                provenance: ThresholdProvenance(kind: kind, file: path, sha256: SHA256.hex(fileAt: path)))
        } catch {
            throw DataError(file: path, error.description)
        }
    }

    /// The threshold named `metric` (`eer` or an operating point) in `list`, or nil.
    public static func pick(_ metric: Metric, in list: [FixedThreshold]) -> FixedThreshold? {
        list.first { $0.chosenFor == metric }
    }
}
