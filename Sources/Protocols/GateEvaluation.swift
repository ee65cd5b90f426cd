import Foundation
import SampleData
import ScoreMetrics

/// The decision of one gate.
public struct GateOutcome: Sendable {
    /// Pass, fail, or not evaluated.
    public enum Verdict: String, Sendable { case pass = "PASS", fail = "FAIL", skip = "SKIP" }

    /// The gate.
    public var gate: Gate
    /// The candidate's estimate of the metric.
    public var value: Double
    /// The interval shown: the candidate's 95% CI (absolute gates) or the change's CI (regressions).
    public var interval: ConfidenceInterval?
    /// The baseline's estimate (regression gates).
    public var baseline: Double?
    /// The change in the worse direction (positive = worse), for regression gates.
    public var worsening: Double?
    /// The worsening allowed (regression gates).
    public var allowance: Double?
    /// Bootstrap probability that the worsening is within the allowance (paired rule).
    public var pValue: Double?
    /// How the verdict was decided.
    public var method: String
    /// The verdict.
    public var verdict: Verdict
    /// False when the verdict does not decide the exit status (regressions while updating a baseline).
    public var decides: Bool
    /// One sentence: why it passed or failed.
    public var message: String
}

/// The result of gating one system under one protocol.
public struct GateReport: Sendable {
    /// The protocol's name and file.
    public var protocolName: String
    public var protocolFile: String
    /// The candidate's source file.
    public var candidate: String
    /// The baseline's source file, if one was used.
    public var baseline: String?
    /// One outcome per gate, in protocol order.
    public var outcomes: [GateOutcome]
    /// Remarks shown under the table (methods, fallbacks).
    public var notes: [String]

    /// True when no deciding gate failed.
    public var passed: Bool { !outcomes.contains { $0.decides && $0.verdict == .fail } }
    /// Deciding gates that failed.
    public var failures: [GateOutcome] { outcomes.filter { $0.decides && $0.verdict == .fail } }
}

/// What the gate run is for.
public enum GateMode: Sendable {
    /// Check every gate; regressions decide.
    case check
    /// Accept a new baseline: absolute gates decide, regressions against the old baseline (when
    /// it matches) are shown for information.
    case updateBaseline
}

/// Evaluates a protocol's gates for a candidate against an optional baseline.
public enum GateEvaluator {
    /// Runs every gate.
    ///
    /// Throws `ProtocolError` (exit 64) when the protocol has no gates or needs a baseline that
    /// was not given, and `DataError` (exit 65) when a metric is missing, unreachable or not
    /// estimable, or the baseline was made for another protocol or other data.
    ///
    /// Rules:
    /// - `max`/`min`: the estimate, or the chosen end of the 95% CI, against the limit.
    /// - regression, strict (no `significance`): fails iff worsening > allowance, where worsening
    ///   is candidate - baseline for error rates (baseline - candidate for AUC/AP) and allowance
    ///   is `max_regression` or `max_relative_regression * |baseline|`.
    /// - regression with `significance: a`, paired: when both systems' scores with identities are
    ///   available, B paired subject-bootstrap replicates give p = the fraction of replicates whose
    ///   worsening is within that replicate's allowance; fails iff p < a.
    /// - regression with `significance: a`, CI rule otherwise: fails iff the candidate's two-sided
    ///   (1 - 2a) interval lies entirely beyond baseline + allowance (its lower end above it for
    ///   error rates), i.e. the one-sided (1 - a) bound is worse than the allowance even when the
    ///   baseline is taken as exact.
    public static func evaluate(
        protocol p: EvaluationProtocol, candidate: GatedSystem, baseline: GatedSystem?, mode: GateMode = .check
    ) throws -> GateReport {
        guard !p.gates.isEmpty else { throw ProtocolError(file: p.file, key: "gates", "the protocol has no gates; nothing to check") }
        var report = GateReport(
            protocolName: p.name, protocolFile: p.file, candidate: candidate.source, baseline: baseline?.source,
            outcomes: [], notes: [])
        var usableBaseline = baseline
        // A baseline that only lends its threshold need not be scored on the same comparisons.
        let comparesBaseline = p.gates.contains { $0.isRegression }
        if let baseline, comparesBaseline {
            do {
                try checkMatch(baseline: baseline, candidate: candidate, protocol: p)
            } catch let error as DataError {
                guard mode == .updateBaseline else { throw error }
                report.notes.append("old baseline not comparable (\(error.message)); regression gates skipped")
                usableBaseline = nil
            }
        } else if p.needsBaseline, mode == .check {
            let g = p.gates.first { $0.isRegression || $0.fixed?.source == .baseline }!
            throw ProtocolError(
                file: p.file, line: g.line, key: "gates[\(g.index)]",
                "compares against a baseline, but none is given: give a baseline file or set baseline: in the protocol (a gate that updates the baseline creates one)")
        }
        for gate in p.gates {
            if let fixed = gate.fixed {
                report.outcomes.append(try fixedOutcome(gate, fixed, candidate: candidate, baseline: baseline, protocol: p))
                continue
            }
            let reading = try usableReading(candidate, gate, p)
            let value = reading.value!
            switch gate.rule {
            case .max(let limit, let use), .min(let limit, let use):
                let isMax: Bool = if case .max = gate.rule { true } else { false }
                var compared = value
                if use != .estimate {
                    guard let ci = reading.interval, abs(ci.level - 0.95) < 1e-9 else {
                        throw DataError(
                            file: candidate.source,
                            "has no 95% interval for \(gate.metric), which gates[\(gate.index)] (\(p.file) line \(gate.line)) uses; compute its confidence interval")
                    }
                    compared = use == .ci95Upper ? ci.upper : ci.lower
                }
                let pass = isMax ? compared <= limit : compared >= limit
                let what = use == .estimate ? "estimate" : use.rawValue
                let message = "\(what) \(fmt(compared)) \(pass ? (isMax ? "<=" : ">=") : (isMax ? ">" : "<")) \(short(limit))"
                report.outcomes.append(GateOutcome(
                    gate: gate, value: value, interval: reading.interval, baseline: nil, worsening: nil, allowance: nil,
                    pValue: nil, method: what, verdict: pass ? .pass : .fail, decides: true, message: message))
            case .regression(let tolerance, let significance):
                guard let base = usableBaseline else {
                    report.outcomes.append(GateOutcome(
                        gate: gate, value: value, interval: reading.interval, baseline: nil, worsening: nil, allowance: nil,
                        pValue: nil, method: "-", verdict: .skip, decides: false,
                        message: "no comparable baseline; the new baseline is being written"))
                    continue
                }
                var outcome = try regression(
                    gate, tolerance: tolerance, significance: significance, candidate: candidate, value: value,
                    baseline: base, protocol: p, notes: &report.notes)
                if mode == .updateBaseline { outcome.decides = false }
                report.outcomes.append(outcome)
            }
        }
        return report
    }

    /// Refuses a baseline made for another protocol or on other comparisons.
    public static func checkMatch(baseline: GatedSystem, candidate: GatedSystem, protocol p: EvaluationProtocol) throws {
        if let name = baseline.protocolName, name != p.name {
            throw DataError(
                file: baseline.source,
                "is the baseline of protocol '\(name)', not '\(p.name)' (\(p.file)); make one for this protocol by updating the baseline")
        }
        guard let b = baseline.dataChecksum else {
            throw DataError(
                file: baseline.source,
                "records no data checksum and its score file is unavailable (\(baseline.scoresUnavailable ?? "none")), so it cannot be checked against the data; recreate it by updating the baseline")
        }
        guard let c = candidate.dataChecksum else {
            throw DataError(
                file: candidate.source,
                "records no data checksum and its score file is unavailable (\(candidate.scoresUnavailable ?? "none")), so it cannot be checked against the baseline; gate the score file instead")
        }
        guard b == c else {
            throw DataError(
                file: baseline.source,
                "was made on other data: its comparisons checksum \(b.prefix(19))… differs from \(candidate.source)'s \(c.prefix(19))…; a baseline must use the same comparisons (recreate it by updating the baseline)")
        }
    }

    static func usableReading(_ system: GatedSystem, _ gate: Gate, _ p: EvaluationProtocol) throws -> MetricReading {
        let where_ = "gates[\(gate.index)] (\(p.file) line \(gate.line))"
        guard let reading = system.readings[gate.metric] else {
            throw DataError(
                file: system.source,
                "has no \(gate.metric), which \(where_) checks; compute it into the metrics JSON or gate the score file")
        }
        if let why = reading.notEstimable {
            throw DataError(
                file: system.source, "\(gate.metric) is not estimable: \(why); \(where_) cannot be decided on this data")
        }
        guard reading.value != nil else {
            throw DataError(
                file: system.source, "\(gate.metric) is unreachable (failed or infinite scores alone exceed the target); \(where_) cannot be decided")
        }
        return reading
    }

    static func regression(
        _ gate: Gate, tolerance: Gate.Tolerance, significance: Double?, candidate: GatedSystem, value: Double,
        baseline: GatedSystem, protocol p: EvaluationProtocol, notes: inout [String]
    ) throws -> GateOutcome {
        let baseReading: MetricReading
        do {
            baseReading = try usableReading(baseline, gate, p)
        } catch let error as DataError where baseline.readings[gate.metric] == nil {
            throw DataError(file: error.file, error.message.replacingOccurrences(of: "compute it into the metrics JSON or gate the score file", with: "recreate the baseline by updating it"))
        }
        let b = baseReading.value!
        let worsening = gate.metric.worsening(of: value, from: b)
        let allowance = tolerance.allowance(baseline: b)
        var outcome = GateOutcome(
            gate: gate, value: value, interval: nil, baseline: b, worsening: worsening, allowance: allowance, pValue: nil,
            method: "strict", verdict: .pass, decides: true, message: "")
        let change = "change \(signed(value - b)) vs baseline \(fmt(b))"
        guard let alpha = significance else {
            let pass = worsening <= allowance + 1e-12
            outcome.verdict = pass ? .pass : .fail
            outcome.message = "\(change): worse by \(fmt(worsening)) \(pass ? "<=" : ">") allowed \(fmt(allowance)) (strict rule on estimates)"
            return outcome
        }
        let level = 1 - 2 * alpha
        if let cs = candidate.scores, let bs = baseline.scores, cs.scores.scores.hasIdentities, bs.scores.scores.hasIdentities {
            var table = [String: Int32]()
            let baseSet = bs.scores.renumbered(&table)
            let candidateSet = cs.scores.renumbered(&table)
            let paired: PairedReplicates
            do {
                paired = try PairedReplicates.run(
                    baseline: baseSet, candidate: candidateSet, metric: gate.metric, rule: p.thresholdRule,
                    replicates: p.intervals.replicates, seed: p.intervals.seed)
            } catch {
                throw DataError(file: candidate.source, "gates[\(gate.index)]: paired bootstrap: \(error.description)")
            }
            var within = 0
            var changes = [Double]()
            changes.reserveCapacity(paired.pairs.count)
            for r in paired.pairs {
                let w = gate.metric.worsening(of: r.candidate, from: r.baseline)
                changes.append(w)
                if w <= tolerance.allowance(baseline: r.baseline) + 1e-12 { within += 1 }
            }
            changes.sort()
            let pValue = Double(within) / Double(paired.pairs.count)
            outcome.pValue = pValue
            outcome.interval = .recorded(
                lower: quantile(changes, alpha), upper: quantile(changes, 1 - alpha), level: level,
                method: "paired-bootstrap-subjects", replicates: paired.requested)
            outcome.method = "paired subject bootstrap (\(paired.pairs.count) replicates, \(paired.subjects) subjects, seed \(paired.seed))"
            let pass = pValue >= alpha
            outcome.verdict = pass ? .pass : .fail
            let beyond = worsening > allowance + 1e-12
            if pass {
                outcome.message = "\(change): " + (beyond
                    ? "worse by \(fmt(worsening)) > allowed \(fmt(allowance)) but within noise (p = \(fmt(pValue)) >= \(short(alpha)))"
                    : "worse by \(fmt(worsening)) <= allowed \(fmt(allowance)) (p = \(fmt(pValue)))")
            } else {
                outcome.message = "\(change): worse by \(fmt(worsening)) > allowed \(fmt(allowance)), significant (p = \(fmt(pValue)) < \(short(alpha)))"
            }
            return outcome
        }
        // Conservative CI rule: the candidate's (1 - 2a) interval entirely beyond baseline + allowance.
        let why = [
            candidate.scores == nil ? "candidate scores unavailable: \(candidate.scoresUnavailable ?? "none")" : nil,
            baseline.scores == nil ? "baseline scores unavailable: \(baseline.scoresUnavailable ?? "none")" : nil,
            candidate.scores.map { $0.scores.scores.hasIdentities } == false ? "candidate scores have no identities" : nil,
            baseline.scores.map { $0.scores.scores.hasIdentities } == false ? "baseline scores have no identities" : nil,
        ].compactMap { $0 }.joined(separator: "; ")
        guard let ci = candidate.interval(of: gate.metric, level: level, protocol: p) else {
            throw DataError(
                file: candidate.source,
                "gates[\(gate.index)] (\(p.file) line \(gate.line)) needs a \(short(level * 100))% interval of \(gate.metric) for its significance rule (\(why)); gate the score file instead")
        }
        outcome.interval = ci
        outcome.method = "CI rule: candidate \(short(level * 100))% CI vs baseline + allowance (\(why))"
        let bound = gate.metric.lowerIsBetter ? ci.lower : ci.upper
        let beyond = gate.metric.worsening(of: bound, from: b) > allowance + 1e-12
        outcome.verdict = beyond ? .fail : .pass
        let side = gate.metric.lowerIsBetter ? "lower" : "upper"
        outcome.message = "\(change): CI \(side) end \(fmt(bound)) is \(beyond ? "beyond" : "within") baseline \(beyond ? "+" : "+") allowed \(fmt(allowance))"
        notes.append("\(gate.name): no paired scores (\(why)); used the CI rule")
        return outcome
    }

    /// The q-quantile of ascending values with linear interpolation.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lo = Int(position.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
    }
}

/// Metric values in tables and messages: six significant digits.
func fmt(_ x: Double) -> String { String(format: "%.6g", x) }

/// A change with its sign.
func signed(_ x: Double) -> String { (x >= 0 ? "+" : "") + fmt(x) }
