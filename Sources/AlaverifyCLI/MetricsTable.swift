import Foundation
import ScoreMetrics

/// The human-readable block `alaverify metrics` prints for one system.
enum MetricsTable {
    static func render(_ system: NamedMetrics) -> String {
        engineSection(system) + fixedThresholdSection(system)
    }

    /// The metric engine's block: counts, curve metrics, operating points and their notes.
    static func engineSection(_ system: NamedMetrics) -> String {
        let m = system.metrics
        var out = "== \(system.name) (\(system.source)) ==\n"
        out += "comparisons: \(group(m.genuineCount)) genuine, \(group(m.impostorCount)) impostor"
        if m.genuineFailures + m.impostorFailures > 0 {
            out += " (failed: \(group(m.genuineFailures)) genuine, \(group(m.impostorFailures)) impostor)"
        }
        if let pairs = m.impostorIdentityPairs { out += "; \(group(pairs)) impostor identity pairs" }
        out += "\npolarity: \(m.polarity.rawValue) (accept iff \(m.polarity == .distance ? "distance <= t" : "score >= t"))\n"
        if let auc = m.rocAUC {
            if let eer = m.eer {
                out += "EER        \(fixed(eer.value))  at threshold \(number(eer.threshold))"
            } else {
                out += "EER        not reached (failures keep FAR below FRR)"
            }
            out += "   ROCCH-EER \(m.eerROCCH.map(fixed) ?? "-")\n"
            out += "ROC AUC    \(fixed(auc))   average precision \(m.averagePrecision.map(fixed) ?? "-")\n"
        }
        for p in m.partialAUCs { out += "\(p.metric)  \(fixed(p.value))\n" }
        out += calibrationLines(system)
        guard !m.operatingPoints.isEmpty else { return out }
        let header = ["operating point", "threshold", "FAR", "FRR", "CI", "false acc. k", "nI", "false rej.", "nG"]
        var rows = [header]
        var notes = [String]()
        for p in m.operatingPoints {
            let ci = p.interval.map { "[\(fixed($0.lower)), \(fixed($0.upper))]" } ?? "-"
            if p.reachable {
                rows.append([
                    p.metric.description, number(p.threshold!), scientific(p.far!), fixed(p.frr!), ci,
                    group(p.falseAccepts!), group(p.impostorCount), group(p.falseRejects!), group(p.genuineCount),
                ])
            } else {
                rows.append([p.metric.description, "unreachable", "-", "-", "-", "-", group(p.impostorCount), "-", group(p.genuineCount)])
                notes.append("  ! \(p.metric): no threshold reaches the target (failed or infinite scores alone exceed it)")
            }
            if !p.estimable {
                let n = p.metric.isFRRAtFAR ? p.impostorCount : p.genuineCount
                let what = p.metric.isFRRAtFAR ? "impostor" : "genuine"
                notes.append(
                    "  ! \(p.metric) NOT ESTIMABLE: \(formatted(p.target)) x \(group(n)) \(what) comparisons = \(String(format: "%.3g", p.target * Double(n))) < 3 (rule of 3); the data cannot resolve this target")
            } else if p.estimableBySubjects == false {
                let units = p.metric.isFRRAtFAR ? (p.impostorIdentityPairs ?? 0) : (p.genuineIdentities ?? 0)
                let what = p.metric.isFRRAtFAR ? "impostor identity pairs" : "genuine identities"
                notes.append(
                    "  ! \(p.metric) not estimable by subjects: \(formatted(p.target)) x \(group(units)) \(what) < 3; comparisons of the same identities are not independent")
            }
            if let pairs = p.falseAcceptIdentityPairs, let k = p.falseAccepts, k > 0 {
                notes.append("    \(p.metric): the \(group(k)) false accepts come from \(group(pairs)) identity pair(s)")
            }
        }
        if let method = m.operatingPoints.compactMap(\.interval).first {
            let how = method.method == "wilson" ? "Wilson at the chosen threshold"
                : method.method == "conservative" ? "conservative: Wilson on identities over the threshold's range"
                : "subject bootstrap, \(method.replicates ?? 0) replicates"
            notes.insert("  CI: \(Int((method.level * 100).rounded()))% (\(how))", at: 0)
        }
        out += table(rows)
        out += notes.map { $0 + "\n" }.joined()
        return out
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func fixed(_ x: Double) -> String { String(format: "%.6f", x) }
    static func scientific(_ x: Double) -> String { x == 0 ? "0" : String(format: "%.3e", x) }
    static func number(_ x: Double) -> String {
        if x == .infinity { return "inf" }
        if x == -.infinity { return "-inf" }
        return String(format: "%.9g", x)
    }
    static func formatted(_ rate: Double) -> String { Metric.frrAtFAR(rate).description.replacingOccurrences(of: "frr@far=", with: "") }
    static func group(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (k, c) in s.reversed().enumerated() {
            if k > 0 && k % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
