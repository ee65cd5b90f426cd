import Foundation
import ScoreMetrics

/// The summary printed by `alaverify inspect F.h5`: facts, then validation problems.
public struct InspectReport: Sendable, CustomStringConvertible {
    /// `alaverify-samples` or `alaverify-scores`.
    public var format: String
    /// Summary lines, in print order.
    public var lines: [String]
    /// Validation problems that do not stop reading the file, one per line.
    public var problems: [String]

    /// Creates a report.
    public init(format: String, lines: [String], problems: [String]) {
        self.format = format
        self.lines = lines
        self.problems = problems
    }

    /// The report as printed: the lines, then `problem: ...` lines.
    public var description: String {
        (lines + problems.map { "problem: \($0)" }).joined(separator: "\n")
    }
}

/// Inspects a samples or scores file; unreadable or malformed files throw a `DataError`.
public func inspectReport(path: String) throws(DataError) -> InspectReport {
    let file = try HDF5File(path: path)
    let format = try file.stringAttribute("format")
    if format == ScoresHDF5.format { return try inspectScores(file) }
    return try inspectSamples(path: path, file: file)
}

private func datasetLines(_ file: HDF5File) throws(DataError) -> [String] {
    var lines = ["datasets:"]
    for path in try file.datasetPaths() {
        let set = try file.dataset(path)
        var text = "  \(path) \(set.elementType) \(set.shapeDescription)"
        if let chunk = set.chunkShape { text += " chunks [" + chunk.map(String.init).joined(separator: ", ") + "]" }
        lines.append(text)
    }
    return lines
}

private func formatFAR(_ x: Double) -> String { String(format: "%.3g", x) }

private func inspectSamples(path: String, file: HDF5File) throws(DataError) -> InspectReport {
    let samples = try SamplesFile(path: path)
    var lines = ["file: \(path)", "format: alaverify-samples v1"]
    if let d = samples.fileDescription { lines.append("description: \(d)") }
    if let s = samples.source { lines.append("source: \(s)") }
    if let l = samples.license { lines.append("license: \(l)") }
    lines += try datasetLines(file)
    var problems: [String] = []
    if samples.layout == .pairMajor {
        let pairs = samples.explicitPairs
        let genuine = pairs?.genuineCount ?? 0
        lines.append("layout: pair-major, \(samples.count) pairs of \(samples.kind)")
        lines.append("explicit pairs: \(genuine) genuine, \(samples.count - genuine) impostor")
        if genuine == 0 { problems.append("no genuine pairs") }
        if genuine == samples.count { problems.append("no impostor pairs") }
        return InspectReport(format: "alaverify-samples", lines: lines, problems: problems)
    }
    let groups = samples.samplesByIdentity()
    let sizes = groups.map(\.count)
    let used = sizes.filter { $0 > 0 }.count
    lines.append("N: \(samples.count) samples (\(samples.kind))")
    lines.append("K: \(samples.identityCount) identities (\(used) with samples)")
    var histogram: [Int: Int] = [:]
    for s in sizes { histogram[s, default: 0] += 1 }
    lines.append("samples per identity: " + histogram.keys.sorted().map { "\($0): \(histogram[$0] ?? 0)" }.joined(separator: ", "))
    let n = samples.count
    let total = n * (n - 1) / 2
    let genuine = sizes.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
    let impostor = total - genuine
    lines.append("all pairs: \(genuine) genuine, \(impostor) impostor")
    let identityPairs = used * (used - 1) / 2
    if impostor > 0 {
        lines.append("smallest FAR estimable (rule of 3): \(formatFAR(3 / Double(impostor))) by comparisons, "
                     + (identityPairs > 0 ? "\(formatFAR(3 / Double(identityPairs))) by identity pairs (\(identityPairs))" : "none by identity pairs"))
    }
    if let pairs = samples.explicitPairs {
        let g = pairs.genuineCount
        lines.append("explicit pairs: \(g) genuine, \(pairs.count - g) impostor")
        var mismatched = 0
        for p in 0..<pairs.count where (samples.identities[pairs.left[p]] == samples.identities[pairs.right[p]]) != pairs.genuine[p] {
            mismatched += 1
        }
        if mismatched > 0 { problems.append("/pairs/label: \(mismatched) labels disagree with /samples/identity") }
    }
    for name in samples.sampleAttributeNames {
        lines.append("attribute /samples/attributes/\(name): " + summarize(try samples.sampleAttribute(name)))
    }
    for name in samples.identityAttributeNames {
        lines.append("attribute /identities/\(name): " + summarize(try samples.identityAttribute(name)))
    }
    let singles = sizes.filter { $0 == 1 }.count
    if singles > 0 { problems.append("\(singles) identities have a single sample (no genuine pairs)") }
    let empty = sizes.filter { $0 == 0 }.count
    if empty > 0 { problems.append("\(empty) identities have no samples") }
    if Set(samples.identityNames).count != samples.identityNames.count {
        problems.append("/identities/name: names are not unique")
    }
    if genuine == 0 { problems.append("no genuine pairs") }
    if impostor == 0 { problems.append("no impostor pairs (one identity)") }
    return InspectReport(format: "alaverify-samples", lines: lines, problems: problems)
}

private func summarize(_ column: AttributeColumn?) -> String {
    switch column {
    case .integers(let v)?:
        guard let lo = v.min(), let hi = v.max() else { return "empty" }
        return "integers \(lo)...\(hi), \(Set(v).count) distinct"
    case .floats(let v)?:
        let finite = v.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return "floats, none finite" }
        return "floats \(lo)...\(hi)" + (finite.count < v.count ? ", \(v.count - finite.count) non-finite" : "")
    case .strings(let v)?:
        return "strings, \(Set(v).count) distinct"
    case nil:
        return "absent"
    }
}

private func inspectScores(_ file: HDF5File) throws(DataError) -> InspectReport {
    let set = try ScoresHDF5.read(path: file.path)
    var lines = ["file: \(file.path)", "format: alaverify-scores v1"]
    lines += try datasetLines(file)
    var problems: [String] = []
    describeScores(set, lines: &lines, problems: &problems)
    return InspectReport(format: ScoresHDF5.format, lines: lines, problems: problems)
}

/// Counts, score ranges, identity pairs and the rule-of-3 floor of a score set, for `inspect`.
func describeScores(_ set: AnyScoreSet, lines: inout [String], problems: inout [String]) {
    func describe<T: ScoreFloat>(_ s: ScoreSet<T>, _ type: String) {
        lines.append("scores: \(type), \(s.genuineCount) genuine, \(s.impostorCount) impostor")
        for (name, values) in [("genuine", s.genuine), ("impostor", s.impostor)] {
            let nan = values.lazy.filter(\.isNaN).count
            let real = values.filter { !$0.isNaN }
            if let lo = real.min(), let hi = real.max() {
                lines.append("\(name) range: \(lo) ... \(hi)" + (nan > 0 ? ", \(nan) NaN (failed comparisons)" : ""))
            } else if nan > 0 {
                lines.append("\(name) range: all \(nan) NaN")
                problems.append("every \(name) score is NaN")
            } else {
                lines.append("\(name) range: none")
                problems.append("no \(name) scores")
            }
        }
        if let g = s.genuineIdentities, let i = s.impostorIdentities {
            var identityPairs = Set<UInt64>()
            for j in 0..<i.left.count {
                let a = UInt32(bitPattern: min(i.left[j], i.right[j]))
                let b = UInt32(bitPattern: max(i.left[j], i.right[j]))
                identityPairs.insert(UInt64(a) << 32 | UInt64(b))
            }
            lines.append("identities: known; \(identityPairs.count) impostor identity pairs")
            let sameInImpostor = (0..<i.left.count).filter { i.left[$0] == i.right[$0] }.count
            let differentInGenuine = (0..<g.left.count).filter { g.left[$0] != g.right[$0] }.count
            if sameInImpostor > 0 { problems.append("\(sameInImpostor) impostor comparisons have equal identities") }
            if differentInGenuine > 0 { problems.append("\(differentInGenuine) genuine comparisons have different identities") }
            if !identityPairs.isEmpty {
                lines.append("smallest FAR estimable (rule of 3): \(formatFAR(3 / Double(s.impostorCount))) by comparisons, \(formatFAR(3 / Double(identityPairs.count))) by identity pairs")
            }
        } else {
            lines.append("identities: not recorded")
            if s.impostorCount > 0 {
                lines.append("smallest FAR estimable (rule of 3): \(formatFAR(3 / Double(s.impostorCount))) by comparisons")
            }
        }
    }
    switch set {
    case .float(let s): describe(s, "float32")
    case .double(let s): describe(s, "float64")
    }
}
