import ScoreMetrics

extension DETPlot {
    /// Marks every result at a fixed threshold with a diamond where it lands on these scores
    /// (achieved FAR, FRR); a threshold chosen for a FAR target gets a dotted line from the
    /// target FAR to the achieved one (FRR target: vertical), so the drift is visible.
    func drawFixedThresholds(_ canvas: Canvas) {
        let r = layout.plot
        for (k, s) in series.enumerated() {
            let color = Color.series[k % Color.series.count]
            for t in s.thresholds {
                // Rates of 0 lie at minus infinity on these axes: draw them on the frame.
                let at = pixel(far: t.far > 0 ? t.far : axis.lower, frr: t.frr > 0 ? t.frr : axis.lower)
                let cx = edgeClamp(at.x, r.x, r.maxX), cy = edgeClamp(at.y, r.y, r.maxY)
                if let target = t.fixed.target, let metric = t.fixed.chosenFor {
                    if metric.isFRRAtFAR {
                        let tx = edgeClamp(pixel(far: target, frr: 0.5).x, r.x, r.maxX)
                        canvas.line(tx, cy, cx, cy, color, width: 1.6, dash: [2, 2.5])
                        canvas.line(tx, cy - 4, tx, cy + 4, color, width: 1.6)
                    } else {
                        let ty = edgeClamp(pixel(far: 0.5, frr: target).y, r.y, r.maxY)
                        canvas.line(cx, ty, cx, cy, color, width: 1.6, dash: [2, 2.5])
                        canvas.line(cx - 4, ty, cx + 4, ty, color, width: 1.6)
                    }
                }
                Marker(color: color, hollow: false, diamond: true).draw(canvas, x: cx, y: cy, radius: 5)
            }
        }
    }
}

/// The legend line of a fixed threshold: `dev frr@far=1e-3: FAR 0.12% vs 0.1%`,
/// `dev eer: HTER 12.3%`, `t=0.5: FAR 1.2%, FRR 3.4%`.
func fixedThresholdLine(_ t: ThresholdResult) -> String {
    let f = t.fixed
    let what = f.provenance.kind == .given ? "t=\(shortNumber(f.threshold, digits: 4))" : "\(f.provenance.kind.rawValue) \(f.name)"
    switch f.chosenFor {
    case .frrAtFAR(let a): return "\(what): FAR \(percent(t.far)) vs \(percent(a))"
    case .farAtFRR(let b): return "\(what): FRR \(percent(t.frr)) vs \(percent(b))"
    case .eer: return "\(what): HTER \(percent(t.hter))"
    default: return "\(what): FAR \(percent(t.far)), FRR \(percent(t.frr))"
    }
}

extension Report {
    /// The summary's table of results at fixed thresholds: per system and threshold, where it
    /// came from, the rates where it was chosen, and what it achieves here (drift, HTER).
    static func fixedThresholdSection(_ series: [PlotSeries]) -> String {
        guard series.contains(where: { !$0.thresholds.isEmpty }) else { return "" }
        var out = "## At fixed thresholds\n\n"
        out += "Each threshold is applied as it is (accept iff score ≥ t; distances: ≤ t); the DET marks where it lands (◆), "
        out += "with a dotted line from its target.\n\n"
        out += "| system | threshold from | t | target | FAR where chosen | FAR here | drift | FRR where chosen | FRR here | HTER here |\n"
        out += "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
        var sources = [String]()
        for s in series {
            for r in s.thresholds {
                let f = r.fixed
                var farHere = percent(r.far), frrHere = percent(r.frr)
                if let ci = r.farInterval { farHere += " [\(percent(ci.lower)), \(percent(ci.upper))]" }
                if let ci = r.frrInterval { frrHere += " [\(percent(ci.lower)), \(percent(ci.upper))]" }
                let from = f.provenance.kind == .given ? "given" : "\(f.provenance.kind.rawValue) \(f.name)"
                let row = [
                    markdownCell(s.name), from, shortNumber(f.threshold, digits: 6), f.target.map(percent) ?? "-",
                    f.chosenOn.map { percent($0.far) } ?? "-", farHere, r.drift.map { String(format: "%.2f×", $0) } ?? "-",
                    f.chosenOn.map { percent($0.frr) } ?? "-", frrHere, percent(r.hter),
                ]
                out += "| " + row.joined(separator: " | ") + " |\n"
                if let file = f.provenance.file {
                    let line = "- \(f.provenance.kind.rawValue): `\(file)`" + (f.provenance.sha256.map { " (sha256 `\($0)`)" } ?? "")
                    if !sources.contains(line) { sources.append(line) }
                }
            }
        }
        let methods = Set(series.flatMap { $0.thresholds.compactMap(\.farInterval?.method) }).sorted()
        out += "\nDrift = achieved / target rate (FAR for `frr@far`, FRR for `far@frr`); HTER = (FAR + FRR) / 2."
        if !methods.isEmpty { out += " Brackets: 95% CI at the fixed threshold (\(methods.joined(separator: ", ")))." }
        out += "\n\n"
        if !sources.isEmpty { out += "Threshold sources:\n\n" + sources.joined(separator: "\n") + "\n\n" }
        return out
    }
}
