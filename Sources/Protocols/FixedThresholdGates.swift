import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics
import Yams

/// A gate on the FAR, FRR or HTER that a fixed threshold gives on the candidate's scores
/// (SPEC section 6): the threshold a system ships with, not one re-derived on the scores.
public struct FixedThresholdGate: Sendable, Equatable {
    /// The rate gated.
    public enum Rate: String, Sendable, CaseIterable {
        /// False accept rate at the threshold.
        case far
        /// False reject rate at the threshold.
        case frr
        /// (FAR + FRR) / 2 at the threshold.
        case hter
    }

    /// Where the threshold comes from.
    public enum Source: Sendable, Equatable {
        /// Chosen on the protocol's `dev:` score file by SPEC section 2's rules.
        case dev
        /// The baseline's threshold: recorded in its metrics JSON, or chosen on its score file.
        case baseline
        /// Recorded in the protocol's `model:` by `train` (chosen on the run's validation split).
        case model
        /// A number written in the protocol.
        case value(Double)

        var name: String {
            switch self {
            case .dev: return "dev"
            case .baseline: return "baseline"
            case .model: return "model"
            case .value(let t): return "t=\(short(t))"
            }
        }
    }

    /// The rate gated.
    public var rate: Rate
    /// Where the threshold comes from.
    public var source: Source
}

extension ProtocolReader {
    /// A gate with `threshold_from: dev|baseline|model` and `at: <operating point or eer>`, or
    /// `threshold: <number>`; `metric: far|frr|hter`; a `max` or `min` limit, optionally `use:
    /// ci95_upper|ci95_lower` (not for hter).
    func fixedGate(_ node: Node, _ m: Members, index k: Int) throws(ProtocolError) -> Gate {
        let key = "gates[\(k)]"
        for extra in ["max_regression", "max_relative_regression", "vs", "significance"] where m[extra] != nil {
            throw fail(m[extra], "\(key).\(extra)", "a gate at a fixed threshold takes a max or min limit, not \(extra)")
        }
        guard let metricNode = m["metric"] else { throw fail(node, "\(key).metric", "missing; far, frr or hter at the threshold") }
        let rate = try choice(metricNode, "\(key).metric", FixedThresholdGate.Rate.self)
        let source: FixedThresholdGate.Source
        let at: Metric
        if let t = m["threshold"] {
            guard m["threshold_from"] == nil, m["at"] == nil else {
                throw fail(t, "\(key).threshold", "give either threshold: (a number) or threshold_from: with at:, not both")
            }
            let value = try number(t, "\(key).threshold")
            source = .value(value)
            at = .eer
        } else {
            guard let from = m["threshold_from"] else {
                throw fail(node, "\(key).threshold_from", "missing; where the threshold comes from: dev, baseline or model")
            }
            let text = try string(from, "\(key).threshold_from")
            switch text {
            case "dev": source = .dev
            case "baseline": source = .baseline
            case "model": source = .model
            default: throw fail(from, "\(key).threshold_from", "'\(text)' is not one of dev, baseline, model")
            }
            guard let atNode = m["at"] else {
                throw fail(node, "\(key).at", "missing; the operating point whose threshold is used, e.g. frr@far=1e-3 or eer")
            }
            at = try metric(atNode, "\(key).at")
            guard at.isOperatingPoint || at == .eer else {
                throw fail(atNode, "\(key).at", "\(at) has no threshold; use an operating point (frr@far, far@frr) or eer")
            }
        }
        let kinds = ["max", "min"].filter { m[$0] != nil }
        guard kinds.count == 1 else { throw fail(node, key, "give exactly one of max, min") }
        let limit = try number(m[kinds[0]]!, "\(key).\(kinds[0])")
        let use = try m["use"].map { n throws(ProtocolError) in try choice(n, "\(key).use", Gate.Bound.self) } ?? .estimate
        if use != .estimate, rate == .hter { throw fail(m["use"], "\(key).use", "hter has no interval; gate its estimate") }
        let rule: Gate.Rule = kinds[0] == "max" ? .max(limit, use: use) : .min(limit, use: use)
        var gate = Gate(name: "", metric: at, rule: rule, line: node.mark?.line ?? 0, index: k)
        gate.fixed = FixedThresholdGate(rate: rate, source: source)
        if case .value = source {
            gate.name = "\(rate.rawValue.uppercased()) at \(source.name) \(gate.limitDescription)"
        } else {
            gate.name = "\(rate.rawValue.uppercased()) at \(source.name) \(at) threshold \(gate.limitDescription)"
        }
        if let n = m["name"] { gate.name = try string(n, "\(key).name") }
        return gate
    }
}

extension GateEvaluator {
    /// The threshold a fixed-threshold gate uses.
    static func threshold(for gate: Gate, _ fixed: FixedThresholdGate, baseline: GatedSystem?, protocol p: EvaluationProtocol) throws
        -> FixedThreshold
    {
        let where_ = "gates[\(gate.index)] (\(p.file) line \(gate.line))"
        let list: [FixedThreshold]
        let from: String
        switch fixed.source {
        case .value(let t):
            return FixedThreshold(chosenFor: nil, threshold: t, polarity: p.polarity, provenance: ThresholdProvenance(kind: .given))
        case .dev:
            guard let dev = p.dev else {
                throw ProtocolError(file: p.file, line: gate.line, key: "gates[\(gate.index)].threshold_from", "takes its threshold from dev, but the protocol names no dev: score file")
            }
            from = dev
            list = try ThresholdSources.dev(path: dev, format: p.format, polarity: p.polarity, metrics: [gate.metric], rule: p.thresholdRule)
        case .model:
            guard let model = p.model else {
                throw ProtocolError(file: p.file, line: gate.line, key: "gates[\(gate.index)].threshold_from", "takes its threshold from model, but the protocol names no model: file")
            }
            from = model
            list = try ThresholdSources.model(path: model)
        case .baseline:
            guard let baseline else {
                throw ProtocolError(file: p.file, line: gate.line, key: "gates[\(gate.index)].threshold_from", "takes its threshold from the baseline, but none is given")
            }
            from = baseline.source
            if baseline.json != nil {
                list = try ThresholdSources.metricsJSON(path: baseline.source, system: nil, kind: .baseline)
            } else {
                list = try ThresholdSources.dev(
                    path: baseline.source, format: p.format, polarity: p.polarity, metrics: [gate.metric], rule: p.thresholdRule,
                    kind: .baseline)
            }
        }
        guard let t = ThresholdSources.pick(gate.metric, in: list) else {
            throw DataError(file: from, "records no threshold for \(gate.metric), which \(where_) uses (it has: \(list.map(\.name).joined(separator: ", ")))")
        }
        guard t.polarity == p.polarity else {
            throw DataError(file: from, "its threshold is for \(t.polarity.rawValue) scores, but the protocol reads \(p.polarity.rawValue) scores; \(where_) cannot use it")
        }
        return t
    }

    /// Evaluates a gate at a fixed threshold on the candidate's scores.
    static func fixedOutcome(
        _ gate: Gate, _ fixed: FixedThresholdGate, candidate: GatedSystem, baseline: GatedSystem?, protocol p: EvaluationProtocol
    ) throws -> GateOutcome {
        let where_ = "gates[\(gate.index)] (\(p.file) line \(gate.line))"
        guard let scores = candidate.scores else {
            throw DataError(
                file: candidate.source,
                "\(where_) applies a fixed threshold to the scores, which are unavailable (\(candidate.scoresUnavailable ?? "none")); gate the score file")
        }
        let t = try threshold(for: gate, fixed, baseline: baseline, protocol: p)
        let options = EvaluationOptions(
            interval: .auto, level: 0.95, replicates: p.intervals.replicates, seed: p.intervals.seed, curveMetrics: false)
        let r: ThresholdResult
        do {
            r = try scores.scores.scores.evaluate(options, thresholds: [t], cllr: false, calibration: nil).thresholds[0]
        } catch let error as any AlaverifyError & Sendable {
            throw ErrorInFile(file: candidate.source, error)
        }
        let (value, interval): (Double, ConfidenceInterval?) = switch fixed.rate {
        case .far: (r.far, r.farInterval)
        case .frr: (r.frr, r.frrInterval)
        case .hter: (r.hter, nil)
        }
        var isMax = true, limit = 0.0, use = Gate.Bound.estimate
        switch gate.rule {
        case .max(let l, let u): (limit, use) = (l, u)
        case .min(let l, let u): (isMax, limit, use) = (false, l, u)
        case .regression: break
        }
        // Rule of 3: a FAR (FRR) limit the comparisons cannot resolve decides nothing.
        let n = fixed.rate == .far ? r.impostorCount : r.genuineCount
        if fixed.rate != .hter, limit * Double(n) < 3 {
            throw DataError(
                file: candidate.source,
                "\(fixed.rate.rawValue) at the threshold is not estimable against \(short(limit)): \(short(limit)) x \(n) comparisons < 3 (rule of 3); \(where_) cannot be decided on this data")
        }
        var compared = value
        if use != .estimate {
            guard let ci = interval else { throw DataError(file: candidate.source, "no interval for \(gate.name), which \(where_) uses") }
            compared = use == .ci95Upper ? ci.upper : ci.lower
        }
        let pass = isMax ? compared <= limit : compared >= limit
        let source = t.provenance.file.map { " from \($0)" } ?? ""
        let method = "\(use == .estimate ? "estimate" : use.rawValue) at threshold \(fmt(t.threshold))\(source) (\(t.name))"
        let message = "\(fixed.rate.rawValue.uppercased()) \(fmt(compared)) \(pass ? (isMax ? "<=" : ">=") : (isMax ? ">" : "<")) \(short(limit)) at threshold \(fmt(t.threshold))\(source)"
        return GateOutcome(
            gate: gate, value: value, interval: interval, baseline: nil, worsening: nil, allowance: nil, pValue: nil,
            method: method, verdict: pass ? .pass : .fail, decides: true, message: message)
    }
}
