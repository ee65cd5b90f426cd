import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics

/// One metric's value as a gate reads it, from computed metrics or from metrics JSON.
public struct MetricReading: Sendable {
    /// The value; nil when the operating point is unreachable.
    public var value: Double?
    /// The confidence interval of the value, when one was computed.
    public var interval: ConfidenceInterval?
    /// Why the data cannot estimate the metric (rule of 3 on comparisons or identities), if so.
    public var notEstimable: String?

    /// Creates a reading.
    public init(value: Double?, interval: ConfidenceInterval? = nil, notEstimable: String? = nil) {
        self.value = value
        self.interval = interval
        self.notEstimable = notEstimable
    }
}

/// A score file behind a system, kept so that intervals at other levels and paired
/// comparisons can be computed.
public struct ScoreSource: Sendable {
    /// The file's path as resolved.
    public var path: String
    /// SHA-256 of the file's bytes.
    public var sha256: String
    /// The scores with their identity names.
    public var scores: NamedScoreSet
}

/// A system as gates see it: metric readings, where they came from, and what it was made on.
public struct GatedSystem: Sendable {
    /// Display name.
    public var name: String
    /// The file given: a score file or a metrics JSON.
    public var source: String
    /// Readings by metric.
    public var readings: [Metric: MetricReading]
    /// The score file behind the readings, when available.
    public var scores: ScoreSource?
    /// Why no score file is available (for notes), when `scores` is nil.
    public var scoresUnavailable: String?
    /// Checksum of the comparisons (labels and identity pairs, not scores), when known.
    public var dataChecksum: String?
    /// The protocol a baseline was made for, when recorded.
    public var protocolName: String?
    /// The metrics computed from scores (for writing a baseline).
    public var computed: NamedMetrics?
    /// The system's object in the metrics JSON it was read from.
    public var json: JSONValue?
}

extension GatedSystem {
    /// Reads a score file and evaluates every metric the protocol reports or gates on.
    public static func fromScores(path: String, protocol p: EvaluationProtocol) throws(DataError) -> GatedSystem {
        let named = try ScoreFiles.readNamed(path: path, format: p.format, polarity: p.polarity)
        guard let sha = SHA256.hex(fileAt: path) else { throw DataError(file: path, "cannot be read") }
        let metrics: SystemMetrics
        do {
            metrics = try named.scores.evaluate(p.evaluationOptions(level: 0.95))
        } catch {
            throw DataError(file: path, error.description)
        }
        var system = GatedSystem(
            name: (path as NSString).lastPathComponent, source: path, readings: readings(metrics),
            scores: ScoreSource(path: path, sha256: sha, scores: named), scoresUnavailable: nil,
            dataChecksum: comparisonsChecksum(named), protocolName: nil, computed: nil, json: nil)
        system.computed = NamedMetrics(name: system.name, source: path, metrics: metrics)
        return system
    }

    /// Reads a baseline or candidate that is either a metrics JSON (by content) or a score file.
    public static func load(path: String, system: String? = nil, protocol p: EvaluationProtocol) throws(DataError)
        -> GatedSystem
    {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let head = (try? handle.read(upToCount: 64)) ?? Data()
        try? handle.close()
        let first = head.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        if first == UInt8(ascii: "{") { return try fromMetricsJSON(path: path, system: system, protocol: p) }
        return try fromScores(path: path, protocol: p)
    }

    /// Reads one system of a metrics JSON (SPEC section 3), with the baseline record if any.
    ///
    /// The system's score file is looked for at `baseline.scores[0].path` (relative to the JSON's
    /// folder, checked against its recorded SHA-256), else at `source` (relative to the JSON's
    /// folder, then as given).
    public static func fromMetricsJSON(path: String, system wanted: String?, protocol p: EvaluationProtocol)
        throws(DataError) -> GatedSystem
    {
        let picked = try MetricsJSONSystem.read(path: path, system: wanted)
        let document = picked.document, object = picked.object, index = picked.index
        var result = GatedSystem(
            name: picked.name.isEmpty ? (path as NSString).lastPathComponent : picked.name, source: path,
            readings: try readings(object, file: path, at: "systems[\(index)]"), scores: nil, scoresUnavailable: nil,
            dataChecksum: nil, protocolName: nil, computed: nil, json: object)
        let record = document["baseline"]
        if case .string(let name)? = record?["protocol"] { result.protocolName = name }
        if case .string(let sum)? = record?["data_checksum"] { result.dataChecksum = sum }

        // The score file behind the metrics, for paired comparisons and other interval levels.
        let directory = physicalPath((path as NSString).deletingLastPathComponent)
        var candidates = [(String, String?)]()
        if case .array(let files)? = record?["scores"], let entry = files.first, case .string(let rel)? = entry["path"] {
            let sha: String? = if case .string(let s)? = entry["sha256"] { s } else { nil }
            candidates.append((joinPath(directory, rel), sha))
        }
        if case .string(let source)? = object["source"] {
            candidates.append((joinPath(directory, source), nil))
            if !source.hasPrefix("/") { candidates.append((source, nil)) }
        }
        let polarity: Polarity = if case .string(let s)? = object["polarity"], let pol = Polarity(rawValue: s) { pol } else { p.polarity }
        var why = "the metrics JSON names no score file"
        for (file, expected) in candidates {
            guard FileManager.default.fileExists(atPath: file) else { why = "its score file \(file) is not there"; continue }
            guard let sha = SHA256.hex(fileAt: file) else { why = "its score file \(file) cannot be read"; continue }
            if let expected, expected != sha { why = "its score file \(file) changed since (SHA-256 differs)"; continue }
            guard let named = try? ScoreFiles.readNamed(path: file, format: .auto, polarity: polarity) else {
                why = "its score file \(file) cannot be read as scores"
                continue
            }
            result.scores = ScoreSource(path: file, sha256: sha, scores: named)
            if result.dataChecksum == nil { result.dataChecksum = comparisonsChecksum(named) }
            break
        }
        if result.scores == nil { result.scoresUnavailable = why }
        return result
    }

    /// The interval of an operating point at `level`: computed from the scores when available,
    /// else the recorded interval when its level is at least `level` (a wider interval is more
    /// conservative); nil when neither exists.
    public func interval(of metric: Metric, level: Double, protocol p: EvaluationProtocol) -> ConfidenceInterval? {
        if let scores, metric.isOperatingPoint {
            var options = p.evaluationOptions(level: level)
            options.metrics = [metric]
            options.curveMetrics = false
            if let m = try? scores.scores.scores.evaluate(options), let ci = m.operatingPoints.first?.interval { return ci }
        }
        if let ci = readings[metric]?.interval, ci.level >= level - 1e-9 { return ci }
        return nil
    }

    /// Readings of computed metrics.
    static func readings(_ m: SystemMetrics) -> [Metric: MetricReading] {
        var out = [Metric: MetricReading]()
        if let eer = m.eer { out[.eer] = MetricReading(value: eer.value) }
        if let auc = m.rocAUC { out[.rocAUC] = MetricReading(value: auc) }
        if let ap = m.averagePrecision { out[.averagePrecision] = MetricReading(value: ap) }
        for (metric, value) in m.partialAUCs { out[metric] = MetricReading(value: value) }
        for op in m.operatingPoints {
            out[op.metric] = MetricReading(
                value: op.reachable ? op.value : nil, interval: op.interval,
                notEstimable: estimability(
                    op.metric, target: op.target, impostors: op.impostorCount, genuine: op.genuineCount,
                    estimable: op.estimable, bySubjects: op.estimableBySubjects, identityPairs: op.impostorIdentityPairs,
                    genuineIdentities: op.genuineIdentities))
        }
        return out
    }

    /// Readings of one system object of a metrics JSON.
    static func readings(_ object: JSONValue, file: String, at path: String) throws(DataError) -> [Metric: MetricReading] {
        var out = [Metric: MetricReading]()
        if let v = object["eer"]?["value"]?.doubleValue { out[.eer] = MetricReading(value: v) }
        if let v = object["roc_auc"]?.doubleValue { out[.rocAUC] = MetricReading(value: v) }
        if let v = object["average_precision"]?.doubleValue { out[.averagePrecision] = MetricReading(value: v) }
        if case .array(let items)? = object["pauc"] {
            for item in items {
                if case .string(let name)? = item["name"], let metric = Metric(name), let v = item["value"]?.doubleValue {
                    out[metric] = MetricReading(value: v)
                }
            }
        }
        guard case .array(let points)? = object["operating_points"] else { return out }
        for (k, point) in points.enumerated() {
            guard case .string(let name)? = point["name"], let metric = Metric(name), metric.isOperatingPoint else {
                throw DataError(file: file, location: "\(path).operating_points[\(k)]", "expected a name like frr@far=1e-3")
            }
            let reachable = point["reachable"] != .bool(false)
            let value = metric.isFRRAtFAR ? point["frr"]?.doubleValue : point["far"]?.doubleValue
            var interval: ConfidenceInterval?
            if let ci = point["ci"], let lo = ci["lower"]?.doubleValue, let hi = ci["upper"]?.doubleValue,
                let level = ci["level"]?.doubleValue
            {
                let method: String = if case .string(let s)? = ci["method"] { s } else { "recorded" }
                let replicates: Int? = if case .int(let r)? = ci["replicates"] { r } else { nil }
                interval = .recorded(lower: lo, upper: hi, level: level, method: method, replicates: replicates)
            } else if case .array(let pair)? = point["ci95"], pair.count == 2, let lo = pair[0].doubleValue,
                let hi = pair[1].doubleValue
            {
                interval = .recorded(lower: lo, upper: hi, level: 0.95, method: "recorded", replicates: nil)
            }
            func int(_ key: String) -> Int? { if case .int(let i)? = point[key] { return i }; return nil }
            func bool(_ key: String) -> Bool? { if case .bool(let b)? = point[key] { return b }; return nil }
            let target = point["target"]?.doubleValue ?? 0
            out[metric] = MetricReading(
                value: reachable ? value : nil, interval: interval,
                notEstimable: estimability(
                    metric, target: target, impostors: int("impostor") ?? 0, genuine: int("genuine") ?? 0,
                    estimable: bool("estimable") ?? true, bySubjects: bool("estimable_by_subjects"),
                    identityPairs: int("impostor_identity_pairs"), genuineIdentities: int("genuine_identities")))
        }
        return out
    }

    /// The reason an operating point is not estimable (SPEC's rule of 3), or nil when it is.
    static func estimability(
        _ metric: Metric, target: Double, impostors: Int, genuine: Int, estimable: Bool, bySubjects: Bool?,
        identityPairs: Int?, genuineIdentities: Int?
    ) -> String? {
        let far = metric.isFRRAtFAR
        if !estimable {
            let n = far ? impostors : genuine
            return "\(short(target)) x \(n) \(far ? "impostor" : "genuine") comparisons = \(short(target * Double(n))) < 3 (rule of 3)"
        }
        if bySubjects == false {
            let n = (far ? identityPairs : genuineIdentities) ?? 0
            return "\(short(target)) x \(n) \(far ? "impostor identity pairs" : "genuine identities") = \(short(target * Double(n))) < 3 (rule of 3 on identities: comparisons of the same identities are not independent)"
        }
        return nil
    }
}

extension EvaluationProtocol {
    /// Engine options for every metric the protocol needs, with intervals at `level`.
    public func evaluationOptions(level: Double) -> EvaluationOptions {
        EvaluationOptions(
            metrics: metrics.filter { $0.isOperatingPoint || { if case .partialAUC = $0 { return true }; return false }($0) },
            rule: thresholdRule, interval: .auto, level: level, replicates: intervals.replicates, seed: intervals.seed,
            curveMetrics: true)
    }
}

/// Checksum of the comparisons of a score file: the label and the unordered identity-name pair
/// of every comparison, order-independent, scores excluded; so every system scored on the same
/// comparisons has the same checksum. Without identities it covers the two class counts only.
public func comparisonsChecksum(_ named: NamedScoreSet) -> String {
    func records<T>(_ s: ScoreSet<T>) -> [String] {
        func name(_ id: Int32) -> String { named.identityNames?[Int(id)] ?? String(id) }
        guard let g = s.genuineIdentities, let i = s.impostorIdentities else {
            return ["genuine=\(s.genuine.count)", "impostor=\(s.impostor.count)"]
        }
        var out = [String]()
        out.reserveCapacity(s.genuine.count + s.impostor.count)
        for (label, ids) in [("1", g), ("0", i)] {
            for j in ids.left.indices {
                let a = name(ids.left[j]), b = name(ids.right[j])
                out.append(a <= b ? "\(label)\t\(a)\t\(b)" : "\(label)\t\(b)\t\(a)")
            }
        }
        return out
    }
    var lines: [String]
    switch named.scores {
    case .float(let s): lines = records(s)
    case .double(let s): lines = records(s)
    }
    lines.sort()
    var hash = SHA256()
    for line in lines { hash.update(Array(line.utf8) + [0x0A]) }
    return "sha256:" + hash.hexDigest()
}

/// `base/relative`, folding `x/..`; absolute `relative` paths are returned as they are.
func joinPath(_ base: String, _ relative: String) -> String {
    ProtocolReader(file: "", directory: base).resolve(relative)
}

/// The absolute path with symbolic links resolved when `path` exists (so a later `..` means what
/// the file system means by it), else the absolute path folded lexically.
func physicalPath(_ path: String) -> String {
    let p = path.isEmpty ? "." : path
    if let resolved = realpath(p, nil) {
        defer { free(resolved) }
        return String(cString: resolved)
    }
    return joinPath(p.hasPrefix("/") ? "" : FileManager.default.currentDirectoryPath, p)
}

/// The path of `file` relative to the folder `directory`, both taken physically: a `..` folded on
/// paper across a symbolic link (a temporary folder, a checkout reached through a link) would point
/// somewhere else on disk.
func relativePath(of file: String, from directory: String) -> String {
    func absolute(_ p: String) -> [String] { physicalPath(p).split(separator: "/").map(String.init) }
    let f = absolute(file), d = absolute(directory)
    var common = 0
    while common < min(f.count, d.count), f[common] == d[common] { common += 1 }
    let parts = Array(repeating: "..", count: d.count - common) + f[common...]
    return parts.isEmpty ? "." : parts.joined(separator: "/")
}

extension NamedScoreSet {
    /// The scores with identities renumbered through a shared name table, so two files' identity
    /// numbers mean the same subject.
    func renumbered(_ table: inout [String: Int32]) -> AnyScoreSet {
        func map(_ ids: ComparisonIdentities?, _ table: inout [String: Int32]) -> ComparisonIdentities? {
            guard let ids else { return nil }
            func id(_ raw: Int32, _ table: inout [String: Int32]) -> Int32 {
                let name = identityNames?[Int(raw)] ?? String(raw)
                if let k = table[name] { return k }
                let k = Int32(table.count)
                table[name] = k
                return k
            }
            return ComparisonIdentities(left: ids.left.map { id($0, &table) }, right: ids.right.map { id($0, &table) })
        }
        switch scores {
        case .float(var s):
            s.genuineIdentities = map(s.genuineIdentities, &table)
            s.impostorIdentities = map(s.impostorIdentities, &table)
            return .float(s)
        case .double(var s):
            s.genuineIdentities = map(s.genuineIdentities, &table)
            s.impostorIdentities = map(s.impostorIdentities, &table)
            return .double(s)
        }
    }
}
