import ArgumentParser
import LossAlignment
import Runs
import ScoreMetrics
import SampleData

extension Metric: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var defaultCompletionKind: CompletionKind { .list(["eer", "roc_auc", "average_precision"]) }
}

extension Polarity: ExpressibleByArgument {}
extension ThresholdRule: ExpressibleByArgument {}
extension IntervalMethod: ExpressibleByArgument {}
extension ScoreFileFormat: ExpressibleByArgument {}
extension NetworkKind: ExpressibleByArgument {}
extension LossFamily: ExpressibleByArgument {}
extension LossControl: ExpressibleByArgument {}
extension PopulationMerge: ExpressibleByArgument {}

/// A rate strictly inside (0, 1), written `1e-4` or `0.0001`.
struct Rate: ExpressibleByArgument, Sendable {
    var value: Double
    init?(argument: String) {
        guard let m = try? Metric.parse("frr@far=" + argument), case .frrAtFAR(let v) = m else { return nil }
        value = v
    }
    static var defaultValueDescription: String { "a rate in (0, 1), e.g. 1e-4" }
}

/// Options shared by commands that read score files.
struct ScoreInputOptions: ParsableArguments {
    @Option(help: "Score file format (default: from the extension or content).")
    var format: ScoreFileFormat = .auto

    @Option(help: "similarity: accept iff score >= t; distance: accept iff distance <= t.")
    var polarity: Polarity = .similarity

    /// Reads one score file, turning its problems into one-line data errors.
    func read(_ path: String) throws(DataError) -> AnyScoreSet {
        try ScoreFiles.read(path: path, format: format, polarity: polarity)
    }
}

/// Options that choose which operating points and intervals to compute.
struct MetricSelectionOptions: ParsableArguments {
    @Option(name: .customLong("far"), help: "Report frr@far=X (repeatable). Default: 1e-4, 1e-3, 1e-2.")
    var fars: [Rate] = []

    @Option(name: .customLong("frr"), help: "Report far@frr=Y (repeatable).")
    var frrs: [Rate] = []

    @Option(name: .customLong("metric"), help: "Any SPEC metric, e.g. frr@far=1e-4 or pauc@far=1e-3 (repeatable).")
    var extra: [Metric] = []

    @Option(help: "Threshold rule for frr@far: roc (lowest FRR with FAR <= a) or impostor (bob.measure far_threshold).")
    var thresholdRule: ThresholdRule = .roc

    @Option(help: "Confidence intervals: auto (subject bootstrap when identities are known, else Wilson), bootstrap, wilson, none.")
    var ci: IntervalMethod = .auto

    @Option(help: "Confidence level of the intervals.")
    var level: Double = 0.95

    @Option(help: "Bootstrap replicates.")
    var replicates: Int = 1000

    @Option(help: "Seed of the bootstrap.")
    var seed: UInt64 = 0

    func validate() throws {
        guard level > 0, level < 1 else { throw ValidationError("--level must lie in (0, 1), got \(level)") }
        guard replicates >= 10 && replicates <= 100_000 else {
            throw ValidationError("--replicates must lie in 10...100000, got \(replicates)")
        }
    }

    /// The metrics in request order, defaults filled in, duplicates removed.
    var metrics: [Metric] {
        var list = fars.map { Metric.frrAtFAR($0.value) } + frrs.map { Metric.farAtFRR($0.value) } + extra
        if fars.isEmpty && frrs.isEmpty && !extra.contains(where: \.isOperatingPoint) {
            list = [.frrAtFAR(1e-4), .frrAtFAR(1e-3), .frrAtFAR(1e-2)] + list
        }
        var seen = Set<Metric>()
        return list.filter { seen.insert($0).inserted }
    }

    func options(curveMetrics: Bool) -> EvaluationOptions {
        EvaluationOptions(
            metrics: metrics, rule: thresholdRule, interval: ci, level: level, replicates: replicates, seed: seed,
            curveMetrics: curveMetrics)
    }
}
