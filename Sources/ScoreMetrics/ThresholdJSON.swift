import AlaverifyBase

extension MetricsJSON {
    /// The schema of the thresholds a model file records (`train`'s `model.h5`, document `thresholds`).
    public static let thresholdsSchema = "alaverify.thresholds/1"

    /// A fixed threshold's own members: name, threshold, rule, target, source, and the rates
    /// where it was chosen.
    public static func fixedThresholdMembers(_ f: FixedThreshold) -> [(String, JSONValue)] {
        var source: [(String, JSONValue)] = [("kind", .string(f.provenance.kind.rawValue))]
        if let file = f.provenance.file { source.append(("file", .string(file))) }
        if let sha = f.provenance.sha256 { source.append(("sha256", .string(sha))) }
        var members: [(String, JSONValue)] = [
            ("name", .string(f.name)), ("threshold", .double(f.threshold)),
            ("rule", f.provenance.rule.map { .string($0) } ?? .null), ("target", .double(f.target)),
            ("polarity", .string(f.polarity.rawValue)), ("source", .object(source)),
        ]
        if let c = f.chosenOn {
            members.append(("chosen_on", .object([
                ("far", .number(c.far)), ("frr", .number(c.frr)), ("false_accepts", .int(c.falseAccepts)),
                ("false_rejects", .int(c.falseRejects)), ("genuine", .int(c.genuineCount)), ("impostor", .int(c.impostorCount)),
                ("estimable", .bool(c.estimable)),
            ])))
        }
        return members
    }

    /// One result at a fixed threshold (SPEC section 3, `fixed_thresholds`).
    public static func thresholdResult(_ r: ThresholdResult) -> JSONValue {
        var members = fixedThresholdMembers(r.fixed)
        members += [
            ("far", .number(r.far)), ("frr", .number(r.frr)), ("false_accepts", .int(r.falseAccepts)),
            ("false_rejects", .int(r.falseRejects)), ("genuine", .int(r.genuineCount)), ("impostor", .int(r.impostorCount)),
            ("hter", .number(r.hter)),
        ]
        if let d = r.drift { members.append((r.fixed.chosenFor?.isFRRAtFAR == true ? "far_drift" : "frr_drift", .number(d))) }
        if let e = r.estimable { members.append(("estimable", .bool(e))) }
        members.append(("far_ci", r.farInterval.map(interval) ?? .null))
        members.append(("frr_ci", r.frrInterval.map(interval) ?? .null))
        return .object(members)
    }

    /// An interval's object: lower, upper, level, method, replicates.
    public static func interval(_ ci: ConfidenceInterval) -> JSONValue {
        .object([
            ("lower", .number(ci.lower)), ("upper", .number(ci.upper)), ("level", .number(ci.level)),
            ("method", .string(ci.method)), ("replicates", ci.replicates.map { .int($0) } ?? .null),
        ])
    }

    /// Cllr, minCllr and the calibration map's object.
    public static func calibration(_ c: CalibrationMetrics) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("cllr", .double(c.cllr)), ("min_cllr", .double(c.minCllr)), ("failed_left_out", .int(c.leftOut)),
        ]
        if let map = c.calibration {
            members.append(("calibrated", .object([
                ("scale", .number(map.scale)), ("offset", .number(map.offset)), ("cllr", .double(c.calibratedCllr)),
            ])))
        }
        return .object(members)
    }

    /// The document a model file records: the thresholds chosen on `chosenOn` (e.g. `validation split`).
    public static func thresholdsDocument(_ thresholds: [FixedThreshold], chosenOn: String) -> JSONValue {
        .object([
            ("schema", .string(thresholdsSchema)), ("chosen_on", .string(chosenOn)),
            ("thresholds", .array(thresholds.map { .object(fixedThresholdMembers($0)) })),
        ])
    }

    /// Reads the thresholds of a document written by `thresholdsDocument`; `file` and `sha256`
    /// fill in the provenance of thresholds that record no file. Nil with a reason when malformed.
    public static func readThresholds(_ document: JSONValue, kind: ThresholdProvenance.Kind, file: String, sha256: String?)
        -> Result<[FixedThreshold], ThresholdDocumentError>
    {
        guard case .string(let schema)? = document["schema"], schema == thresholdsSchema else {
            return .failure(ThresholdDocumentError(reason: "expected \"schema\": \"\(thresholdsSchema)\""))
        }
        guard case .array(let items)? = document["thresholds"], !items.isEmpty else {
            return .failure(ThresholdDocumentError(reason: "key thresholds: expected a non-empty list"))
        }
        var out = [FixedThreshold]()
        for (k, item) in items.enumerated() {
            guard let f = fixedThreshold(item, kind: kind, file: file, sha256: sha256) else {
                return .failure(ThresholdDocumentError(reason: "thresholds[\(k)]: expected name, threshold and polarity"))
            }
            out.append(f)
        }
        return .success(out)
    }

    /// One threshold object (name, threshold, polarity, optional rule and chosen_on); nil when malformed.
    public static func fixedThreshold(_ item: JSONValue, kind: ThresholdProvenance.Kind, file: String, sha256: String?) -> FixedThreshold? {
        guard case .string(let name)? = item["name"], let t = item["threshold"]?.doubleValue, !t.isNaN,
            case .string(let pol)? = item["polarity"], let polarity = Polarity(rawValue: pol)
        else { return nil }
        let metric: Metric? = name.hasPrefix("threshold=") ? nil : Metric(name)
        guard name.hasPrefix("threshold=") || metric != nil else { return nil }
        let rule: String? = if case .string(let r)? = item["rule"] { r } else { nil }
        var chosen: ChosenRates?
        if let c = item["chosen_on"], let far = c["far"]?.doubleValue, let frr = c["frr"]?.doubleValue,
            case .int(let k)? = c["false_accepts"], case .int(let r)? = c["false_rejects"],
            case .int(let nG)? = c["genuine"], case .int(let nI)? = c["impostor"]
        {
            chosen = ChosenRates(
                far: far, frr: frr, falseAccepts: k, falseRejects: r, genuineCount: nG, impostorCount: nI,
                estimable: c["estimable"] != .bool(false))
        }
        return FixedThreshold(
            chosenFor: metric, threshold: t, polarity: polarity,
            provenance: ThresholdProvenance(kind: kind, file: file, sha256: sha256, rule: rule), chosenOn: chosen)
    }
}

/// A thresholds document that cannot be read.
public struct ThresholdDocumentError: Error, Sendable {
    /// What is wrong.
    public var reason: String
}
