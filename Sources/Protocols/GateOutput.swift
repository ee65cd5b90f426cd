import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics

extension GateReport {
    /// Rows of the gate table: gate, value, CI, limit, verdict.
    public var rows: [[String]] {
        outcomes.map { o in
            var value = fmt(o.value)
            if let b = o.baseline { value += " (base \(fmt(b)))" }
            var ci = "-"
            if let i = o.interval {
                let level = "\(short(i.level * 100))%"
                ci = o.gate.isRegression && o.baseline != nil
                    ? "change \(level) [\(signed(i.lower)), \(signed(i.upper))]"
                    : "\(level) [\(fmt(i.lower)), \(fmt(i.upper))]"
            }
            var verdict = o.verdict.rawValue
            if let p = o.pValue { verdict += " (p=\(String(format: "%.3f", p)))" }
            if !o.decides && o.verdict != .skip { verdict += " (info)" }
            return [o.gate.name, value, ci, o.gate.limitDescription, verdict]
        }
    }

    /// The plain-text table printed on stdout, with a summary line and notes.
    public func table() -> String {
        let header = ["gate", "value", "CI", "limit", "verdict"]
        let all = [header] + rows
        let widths = (0..<header.count).map { c in all.map { $0[c].count }.max() ?? 0 }
        var out = "== alaverify gate: protocol \(protocolName) (\(protocolFile)) ==\n"
        out += "candidate: \(candidate)\n"
        if let baseline { out += "baseline:  \(baseline)\n" }
        for row in all {
            out += row.enumerated().map { c, cell in
                c == header.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }
        for o in outcomes where o.verdict == .fail { out += "  ! \(o.gate.name): \(o.message)\n" }
        for o in outcomes where (o.gate.isRegression || o.gate.fixed != nil) && o.verdict != .skip { out += "  \(o.gate.name): \(o.method)\n" }
        for note in notes { out += "  note: \(note)\n" }
        out += summary + "\n"
        return out
    }

    /// `gate: PASS (5 gates)` or `gate: FAIL (2 of 5 gates failed: ...)`.
    public var summary: String {
        let deciding = outcomes.filter(\.decides).count
        if passed { return "gate: PASS (\(deciding) of \(outcomes.count) gates decide, all pass)" }
        return "gate: FAIL (\(failures.count) of \(deciding) gates failed: \(failures.map(\.gate.name).joined(separator: "; ")))"
    }

    /// JUnit XML: one testsuite for the protocol, one testcase per gate, failures with messages.
    public func junit() -> String {
        let failed = failures.count
        let skipped = outcomes.filter { $0.verdict == .skip }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"alaverify gate\" tests=\"\(outcomes.count)\" failures=\"\(failed)\" errors=\"0\" skipped=\"\(skipped)\">\n"
        out += "  <testsuite name=\"\(xml(protocolName))\" tests=\"\(outcomes.count)\" failures=\"\(failed)\" errors=\"0\" skipped=\"\(skipped)\" time=\"0\">\n"
        out += "    <properties>\n"
        out += "      <property name=\"protocol_file\" value=\"\(xml(protocolFile))\"/>\n"
        out += "      <property name=\"candidate\" value=\"\(xml(candidate))\"/>\n"
        if let baseline { out += "      <property name=\"baseline\" value=\"\(xml(baseline))\"/>\n" }
        out += "    </properties>\n"
        for (o, row) in zip(outcomes, rows) {
            out += "    <testcase classname=\"alaverify.gate.\(xml(protocolName))\" name=\"\(xml(o.gate.name))\" time=\"0\">\n"
            let detail = "value \(row[1]); CI \(row[2]); limit \(row[3]); \(o.method)"
            if o.verdict == .fail && o.decides {
                out += "      <failure type=\"GateFailed\" message=\"\(xml(o.message))\">\(xml(detail))</failure>\n"
            } else if o.verdict == .skip {
                out += "      <skipped message=\"\(xml(o.message))\"/>\n"
            }
            out += "      <system-out>\(xml(o.message + "\n" + detail))</system-out>\n"
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    /// Markdown for CI step summaries: a heading with the verdict, the table, the failures.
    public func markdown() -> String {
        var out = "### alaverify gate: `\(protocolName)` — \(passed ? "PASS ✅" : "FAIL ❌")\n\n"
        out += "Candidate `\(candidate)`" + (baseline.map { ", baseline `\($0)`" } ?? "") + ".\n\n"
        out += "| gate | value | CI | limit | verdict |\n|---|---|---|---|---|\n"
        for row in rows {
            out += "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        let failing = failures
        if !failing.isEmpty {
            out += "\n**Failed:**\n\n"
            for o in failing { out += "- `\(o.gate.name)`: \(o.message)\n" }
        }
        let methods = outcomes.filter { $0.gate.isRegression && $0.verdict != .skip }
        if !methods.isEmpty || !notes.isEmpty {
            out += "\n<details><summary>Methods</summary>\n\n"
            for o in methods { out += "- `\(o.gate.name)`: \(o.method)\n" }
            for note in notes { out += "- \(note)\n" }
            out += "\n</details>\n"
        }
        return out
    }
}

/// XML attribute/text escaping.
func xml(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n": out += "&#10;"
        default:
            if c.value < 0x20 && c != "\t" { continue }
            out.unicodeScalars.append(c)
        }
    }
    return out
}

/// Writing baselines.
public enum Baseline {
    /// The baseline document for `system` under `p`, to be written at `path`: SPEC's metrics JSON
    /// with a `baseline` record of the protocol name, the comparisons checksum and the score
    /// file (path relative to the baseline, SHA-256) so later gates can run paired comparisons.
    public static func document(for system: GatedSystem, protocol p: EvaluationProtocol, path: String, tool: String) throws
        -> JSONValue
    {
        guard let checksum = system.dataChecksum else {
            throw DataError(
                file: system.source,
                "its data checksum is unknown (\(system.scoresUnavailable ?? "no scores")); a baseline needs one: use the score file")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var record: [(String, JSONValue)] = [
            ("protocol", .string(p.name)),
            ("data_checksum", .string(checksum)),
            ("data_checksum_covers", .string("label and unordered identity pair of every comparison; scores excluded")),
        ]
        if let s = system.scores {
            record.append(("scores", .array([.object([
                ("path", .string(relativePath(of: s.path, from: directory))), ("sha256", .string(s.sha256)),
            ])])))
        }
        record.append(("created_by", .string(tool)))
        if var named = system.computed {
            if let s = system.scores { named.source = relativePath(of: s.path, from: directory) }
            return MetricsJSON.document([named], extra: [("baseline", .object(record))])
        }
        guard let json = system.json else { throw DataError(file: system.source, "no metrics to write") }
        return .object([("schema", .string(MetricsJSON.schema)), ("baseline", .object(record)), ("systems", .array([json]))])
    }

    /// Lines describing what changes when `new` replaces `old` as the baseline.
    public static func changes(from old: GatedSystem?, to new: GatedSystem, protocol p: EvaluationProtocol) -> [String] {
        guard let old else { return ["new baseline (there was none): " + p.metrics.compactMap { m in
            new.readings[m]?.value.map { "\(m) \(fmt($0))" } }.joined(separator: ", ")]
        }
        var lines = [String]()
        if let name = old.protocolName, name != p.name { lines.append("protocol: \(name) -> \(p.name)") }
        if old.dataChecksum != new.dataChecksum {
            lines.append("data checksum: \(old.dataChecksum.map { String($0.prefix(19)) + "…" } ?? "unknown") -> \(new.dataChecksum.map { String($0.prefix(19)) + "…" } ?? "unknown")")
        }
        for m in p.metrics {
            let a = old.readings[m]?.value, b = new.readings[m]?.value
            switch (a, b) {
            case (let a?, let b?):
                let better = m.isBetter(b, than: a)
                lines.append("\(m): \(fmt(a)) -> \(fmt(b)) (\(signed(b - a))\(a == b ? ", unchanged" : better ? ", better" : ", worse"))")
            case (nil, let b?): lines.append("\(m): (none) -> \(fmt(b))")
            case (let a?, nil): lines.append("\(m): \(fmt(a)) -> (none)")
            default: break
            }
        }
        return lines
    }
}
