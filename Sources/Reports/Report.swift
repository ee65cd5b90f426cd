import AlaverifyBase
import Foundation
import RunRecords
import ScoreMetrics

/// How a report was made, recorded in every PNG and in `summary.md`.
public struct ReportProvenance: Sendable {
    /// The tool's version.
    public var version: String
    /// The command line (without the program path).
    public var command: String
    /// Every input file and its SHA-256.
    public var inputs: [(path: String, sha256: String)]

    /// Creates a record.
    public init(version: String, command: String, inputs: [(path: String, sha256: String)]) {
        self.version = version
        self.command = command
        self.inputs = inputs
    }
}

/// A training run in a report: its display name, the index of its input and its history.
public struct TrainingRunHistory: Sendable {
    /// The name shown in titles and the summary (the run folder's name by default).
    public var name: String
    /// The input's position among the report's inputs (figure file names).
    public var index: Int
    /// The parsed `history.jsonl`.
    public var history: TrainingHistory

    /// Creates an entry.
    public init(name: String, index: Int, history: TrainingHistory) {
        self.name = name
        self.index = index
        self.history = history
    }
}

/// A report's files, in memory: PNGs, `metrics.json` and `summary.md`.
public struct Report: Sendable {
    /// File names (no folders) and contents, in writing order.
    public var files: [(name: String, bytes: [UInt8])]

    /// The figures of a report: DET (with the differences from the first system in its legend),
    /// ROC, then one histogram per system.
    public static func figures(_ series: [PlotSeries], axes: DETAxes, differences: [SystemDifference] = []) -> [any ReportFigure] {
        var out: [any ReportFigure] = [DETPlot(series: series, axes: axes, differences: differences), ROCPlot(series: series)]
        for (k, s) in series.enumerated() { out.append(HistogramPlot(series: s, index: k)) }
        return out
    }

    /// The tEXt chunks of one figure.
    public static func metadata(_ figure: any ReportFigure, _ provenance: ReportProvenance) -> [PNGText] {
        [
            PNGText("Title", figure.title),
            PNGText("Software", "alaverify \(provenance.version)"),
            PNGText("alaverify:command", provenance.command),
            PNGText("alaverify:inputs", provenance.inputs.map { "sha256:\($0.sha256)  \($0.path)" }.joined(separator: "\n")),
            PNGText("alaverify:metrics", figure.shownMetrics.serialized(indent: nil)),
        ]
    }

    /// Renders every figure and writes the texts; equal input gives equal bytes. `training`
    /// adds the figures and a summary section of each training run whose history is known.
    public static func build(
        series: [PlotSeries], axes: DETAxes, training: [TrainingRunHistory] = [], differences: [SystemDifference] = [],
        provenance: ReportProvenance
    ) throws(ReportError) -> Report {
        var files = [(name: String, bytes: [UInt8])]()
        let figures = figures(series, axes: axes, differences: differences)
        let runs = training.map { ($0, trainingFigures($0.history, run: $0.name, index: $0.index)) }
        for figure in figures + runs.flatMap(\.1) {
            let image = try figure.render()
            files.append((figure.fileName, try PNGEncoder.encode(image, text: metadata(figure, provenance))))
        }
        let named = series.map { s in
            var n = NamedMetrics(name: s.name, source: s.source, metrics: s.metrics)
            n.thresholds = s.thresholds
            return n
        }
        files.append(("metrics.json", Array((MetricsJSON.document(named).serialized() + "\n").utf8)))
        files.append(("summary.md", Array(summary(series, figures: figures, axes: axes, training: runs, differences: differences, provenance: provenance).utf8)))
        return Report(files: files)
    }

    /// The Markdown summary: one row per system, one column per metric, the differences from the
    /// first system, then the figures, then per training run its best validation, final loss
    /// parameters and figures.
    public static func summary(
        _ series: [PlotSeries], figures: [any ReportFigure], axes: DETAxes,
        training: [(TrainingRunHistory, [any ReportFigure])] = [], differences: [SystemDifference] = [],
        provenance: ReportProvenance
    ) -> String {
        var metrics = [Metric]()
        for s in series { for p in s.metrics.operatingPoints where !metrics.contains(p.metric) { metrics.append(p.metric) } }
        var out = "# alaverify report\n\n"
        out += "\(series.count) system\(series.count == 1 ? "" : "s") · alaverify \(provenance.version) · DET axes: \(axes.rawValue)\n\n"
        var header = ["system", "genuine", "impostor", "EER", "ROC AUC"] + metrics.map(\.description)
        var align = ["---", "--:", "--:", "--:", "--:"] + metrics.map { _ in "--:" }
        if series.contains(where: { $0.metrics.averagePrecision != nil }) {
            header.insert("AP", at: 5)
            align.insert("--:", at: 5)
        }
        out += "| " + header.joined(separator: " | ") + " |\n|" + align.joined(separator: "|") + "|\n"
        var notes = [String]()
        for s in series {
            let m = s.metrics
            var row = [markdownCell(s.name), grouped(m.genuineCount), grouped(m.impostorCount),
                       m.eer.map { percent($0.value) } ?? "not reached", m.rocAUC.map { String(format: "%.5f", $0) } ?? "-"]
            if header.contains("AP") { row.append(m.averagePrecision.map { String(format: "%.5f", $0) } ?? "-") }
            for metric in metrics {
                guard let p = m.operatingPoints.first(where: { $0.metric == metric }) else { row.append("-"); continue }
                guard let v = p.value else {
                    row.append("unreachable")
                    notes.append("- **\(markdownCell(s.name))**, \(metric): no threshold reaches the target (failed or infinite scores alone exceed it).")
                    continue
                }
                var cell = percent(v)
                if let ci = p.interval { cell += " [\(percent(ci.lower)), \(percent(ci.upper))]" }
                if !p.estimable {
                    cell += " ⚠ n.e."
                    let n = metric.isFRRAtFAR ? m.impostorCount : m.genuineCount
                    let what = metric.isFRRAtFAR ? "impostor" : "genuine"
                    notes.append("- **\(markdownCell(s.name))**, \(metric): not estimable — \(compactRate(p.target)) × \(grouped(n)) \(what) comparisons = \(String(format: "%.3g", p.target * Double(n))) < 3 (rule of 3); drawn hollow.")
                } else if p.estimableBySubjects == false {
                    cell += " ⚠ n.e. (subjects)"
                    let units = metric.isFRRAtFAR ? (p.impostorIdentityPairs ?? 0) : (p.genuineIdentities ?? 0)
                    let what = metric.isFRRAtFAR ? "impostor identity pairs" : "genuine identities"
                    notes.append("- **\(markdownCell(s.name))**, \(metric): not estimable by subjects — \(compactRate(p.target)) × \(grouped(units)) \(what) < 3.")
                }
                row.append(cell)
            }
            out += "| " + row.joined(separator: " | ") + " |\n"
        }
        out += "\n"
        let methods = Set(series.flatMap { $0.metrics.operatingPoints.compactMap(\.interval) }.map { iv in
            iv.method == "wilson" ? "Wilson at the chosen threshold" : "subject bootstrap, \(iv.replicates ?? 0) replicates"
        }).sorted()
        let level = series.lazy.flatMap { $0.metrics.operatingPoints.compactMap(\.interval?.level) }.first ?? 0.95
        out += "`frr@far=a`: FRR at the threshold with the lowest FRR among those with FAR ≤ a; `far@frr=b` mirrors it."
        if !methods.isEmpty { out += " Brackets: \(Int((level * 100).rounded()))% CI (\(methods.joined(separator: "; ")))." }
        out += " n.e. = not estimable.\n\n"
        if !notes.isEmpty { out += "**Not estimable or unreachable:**\n\n" + notes.joined(separator: "\n") + "\n\n" }
        if !differences.isEmpty {
            out += "**Differences from \(markdownCell(differences[0].reference))** (each system's value minus the first's; paired subject bootstrap: both thresholds re-derived on the same resampled identities):\n\n"
            out += differences.map { "- " + markdownCell($0.line) }.joined(separator: "\n") + "\n\n"
        }
        out += fixedThresholdSection(series)
        for f in figures { out += "![\(f.title)](\(f.fileName))\n\n" }
        for (run, runFigures) in training { out += trainingSection(run, figures: runFigures) }
        out += "<details><summary>Inputs and command</summary>\n\n"
        out += "| input | sha256 |\n|---|---|\n"
        for i in provenance.inputs { out += "| `\(i.path)` | `\(i.sha256)` |\n" }
        out += "\n```\n\(provenance.command)\n```\n\n</details>\n"
        return out
    }

    /// The summary's section for one training run.
    static func trainingSection(_ run: TrainingRunHistory, figures: [any ReportFigure]) -> String {
        let h = run.history
        let children = h.children
        let steps = h.steps
        var out = "## Training: \(markdownCell(run.name))\n\n"
        out += "Target \(h.target) on the validation split · \(children.count) child model\(children.count == 1 ? "" : "s")"
        out += " · \(steps.count) validation\(steps.count == 1 ? "" : "s") (steps \(steps.first!)–\(steps.last!))"
        out += " · loss control: \(h.hasActions ? "ALA (controller actions logged)" : "fixed")\n\n"
        if let best = h.best {
            out += "**Best validation:** \(metricText(best.value, h.target)) (\(h.target)) at step \(best.step), child \(best.child) — the model kept as `model.h5`"
            if let eer = best.eer { out += "; validation EER \(percent(eer))" }
            if let auc = best.rocAUC { out += String(format: ", ROC AUC %.5f", auc) }
            out += ".\n\n"
        }
        let last = children.map { h.records(child: $0).last! }
        out += "Final loss parameters (step \(last.map(\.step).max()!)):\n\n"
        out += "| parameter | " + children.map { "child \($0)" }.joined(separator: " | ") + " |\n"
        out += "|---|" + children.map { _ in "--:" }.joined(separator: "|") + "|\n"
        let groups = ParameterGroups(h.parameterNames)
        func number(_ x: Double) -> String { shortNumber(x, digits: 4) }
        for k in groups.scale + groups.scalars {
            out += "| \(markdownCell(h.parameterNames[k])) | " + last.map { number($0.parameters[k]) }.joined(separator: " | ") + " |\n"
        }
        for family in groups.binned {
            let cells = last.map { r in family.indices.map { $0 >= 0 ? number(r.parameters[$0]) : "-" }.joined(separator: " ") }
            out += "| \(markdownCell(family.name))[0…\(family.indices.count - 1)] | " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\n"
        for f in figures { out += "![\(f.title)](\(f.fileName))\n\n" }
        return out
    }

    static func markdownCell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
