import Foundation
import ScoreMetrics

extension MetricsTable {
    /// Cllr and minCllr lines, and the calibrated Cllr, when computed.
    static func calibrationLines(_ system: NamedMetrics) -> String {
        guard let c = system.calibration else { return "" }
        var out = "Cllr       \(finite(c.cllr)) bits   minCllr \(finite(c.minCllr)) bits (PAV)"
        if c.leftOut > 0 { out += "   (\(group(c.leftOut)) failed comparisons left out)" }
        out += "\n"
        if let map = c.calibration, let cal = c.calibratedCllr {
            out += "calibrated Cllr \(finite(cal)) bits   (llr = \(number(map.scale)) * score + \(number(map.offset)), fitted on the calibration file)\n"
        }
        return out
    }

    /// The table of results at fixed thresholds: where each threshold came from, the rates it
    /// was chosen at, and what it achieves on this file.
    static func fixedThresholdSection(_ system: NamedMetrics) -> String {
        let results = system.thresholds
        guard !results.isEmpty else { return "" }
        var out = "at fixed thresholds (accept iff \(system.metrics.polarity == .distance ? "distance <= t" : "score >= t")):\n"
        let header = ["threshold from", "t", "target", "FAR there", "FAR here", "FAR CI", "drift", "FRR here", "FRR CI", "HTER", "k", "nI", "false rej.", "nG"]
        var rows = [header]
        var sources = [String]()
        for r in results {
            let f = r.fixed
            let from: String
            switch f.provenance.kind {
            case .given: from = "given"
            case .dev: from = "dev \(f.name)"
            case .model: from = "model \(f.name)"
            case .baseline: from = "baseline \(f.name)"
            }
            if let file = f.provenance.file {
                let line = "  \(f.provenance.kind.rawValue): \(file)" + (f.provenance.sha256.map { " (sha256 \($0.prefix(12))…)" } ?? "")
                if !sources.contains(line) { sources.append(line) }
            }
            let ci = { (i: ConfidenceInterval?) in i.map { "[\(scientific($0.lower)), \(scientific($0.upper))]" } ?? "-" }
            rows.append([
                from, number(f.threshold), f.target.map(formatted) ?? "-", f.chosenOn.map { scientific($0.far) } ?? "-",
                scientific(r.far), ci(r.farInterval), r.drift.map { String(format: "%.2f", $0) } ?? "-", fixed(r.frr),
                ci(r.frrInterval), fixed(r.hter), group(r.falseAccepts), group(r.impostorCount), group(r.falseRejects),
                group(r.genuineCount),
            ])
        }
        out += table(rows)
        out += "  drift = achieved / target rate (FAR for frr@far, FRR for far@frr); HTER = (FAR + FRR) / 2\n"
        if let method = results.compactMap(\.farInterval).first {
            let how = method.method == "wilson" ? "Wilson" : "subject bootstrap at the fixed threshold, \(method.replicates ?? 0) replicates"
            out += "  CI: \(Int((method.level * 100).rounded()))% (\(how))\n"
        }
        for r in results where r.estimable == false {
            out += "  ! \(r.fixed.name): target x n < 3 here (rule of 3): the achieved rate cannot resolve the target\n"
        }
        out += "  sources:\n" + sources.map { $0 + "\n" }.joined()
        return out
    }

    static func finite(_ x: Double) -> String { x.isFinite ? String(format: "%.6f", x) : (x.isNaN ? "-" : "inf") }
}
