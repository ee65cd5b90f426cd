import AlaverifyBase
import Foundation
import Reports
import SampleData
import ScoreMetrics
import Shards

extension ReportCommand {
    /// `report --merge SHARD...`: one system, the merged shards.
    func runMerged() throws {
        let (shards, name) = try input.mergedShards(inputs, names: names)
        let series: PlotSeries
        do {
            let merged = try shards.merged(selection.options(curveMetrics: true))
            let metrics = try merged.evaluate()
            let curve = try merged.cornerCurve()
            let keep = metrics.operatingPoints.compactMap(\.threshold) + (metrics.eer.map { [$0.threshold] } ?? [])
            series = PlotSeries(
                name: name, source: shards.source, metrics: metrics,
                detCurve: curve.thinned(CurveThinning(maxPoints: 1500, farScale: axes.scale, frrScale: axes.scale)),
                rocCurve: curve.thinned(CurveThinning(maxPoints: 1500, farScale: .log, frrScale: .linear)),
                histogram: merged.histogram(including: keep))
        } catch let error as MergeError {
            throw ErrorInFile(file: shards.source, error)
        }
        warnAboutPoints(series.metrics, shards.source)
        let inputs = try shards.files.map(digest(of:))
        let report = try Report.build(
            series: [series], axes: axes,
            provenance: ReportProvenance(version: alaverifyVersion, command: Self.invocation, inputs: inputs))
        try write(report)
    }

    /// One warning line per operating point that is unreachable or not estimable.
    func warnAboutPoints(_ metrics: SystemMetrics, _ path: String) {
        for p in metrics.operatingPoints where !p.estimable || p.estimableBySubjects == false || !p.reachable {
            let n = p.metric.isFRRAtFAR ? p.impostorCount : p.genuineCount
            let why = !p.reachable ? "unreachable (failed or infinite scores alone exceed the target)"
                : !p.estimable ? "not estimable (\(p.target) x \(n) comparisons < 3, rule of 3); drawn hollow"
                : "not estimable by subjects (too few identity pairs); drawn hollow"
            FileHandle.standardError.write(Data("alaverify: warning: \(path): \(p.metric) \(why)\n".utf8))
        }
    }
}
