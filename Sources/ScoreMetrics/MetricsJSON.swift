import AlaverifyBase

/// A system's metrics together with its name and source, as written to metrics JSON.
public struct NamedMetrics: Sendable {
    /// Display name.
    public var name: String
    /// The score file it was computed from.
    public var source: String
    /// The metrics.
    public var metrics: SystemMetrics
    /// Results at thresholds fixed elsewhere (a dev file, a model, given numbers), in order.
    public var thresholds: [ThresholdResult] = []
    /// Cllr, minCllr and the calibrated Cllr, when asked for.
    public var calibration: CalibrationMetrics?

    /// Creates a named entry.
    public init(name: String, source: String, metrics: SystemMetrics) {
        self.name = name
        self.source = source
        self.metrics = metrics
    }
}

/// The metrics JSON document of SPEC section 3 (`alaverify.metrics/1`).
public enum MetricsJSON {
    /// The schema identifier.
    public static let schema = "alaverify.metrics/1"

    /// The document for several systems.
    public static func document(_ systems: [NamedMetrics], extra: [(String, JSONValue)] = []) -> JSONValue {
        .object([("schema", .string(schema))] + extra + [("systems", .array(systems.map(system)))])
    }

    /// One system's object.
    public static func system(_ s: NamedMetrics) -> JSONValue {
        let m = s.metrics
        var members: [(String, JSONValue)] = [
            ("name", .string(s.name)), ("source", .string(s.source)), ("polarity", .string(m.polarity.rawValue)),
            ("accept", .string(m.polarity == .distance ? "distance <= threshold" : "score >= threshold")),
            ("counts", .object([
                ("genuine", .int(m.genuineCount)), ("impostor", .int(m.impostorCount)),
                ("genuine_failed", .int(m.genuineFailures)), ("impostor_failed", .int(m.impostorFailures)),
            ])),
        ]
        if let pairs = m.impostorIdentityPairs { members.append(("impostor_identity_pairs", .int(pairs))) }
        if m.rocAUC != nil {
            members.append(("eer", m.eer.map { .object([("value", .number($0.value)), ("threshold", .double($0.threshold))]) } ?? .null))
            members.append(("eer_rocch", .double(m.eerROCCH)))
            members.append(("roc_auc", .double(m.rocAUC)))
            members.append(("average_precision", .double(m.averagePrecision)))
        }
        if !m.partialAUCs.isEmpty {
            members.append(("pauc", .array(m.partialAUCs.map { p in
                .object([("name", .string(p.metric.description)), ("value", .number(p.value))])
            })))
        }
        members.append(("operating_points", .array(m.operatingPoints.map(point))))
        if !s.thresholds.isEmpty { members.append(("fixed_thresholds", .array(s.thresholds.map(thresholdResult)))) }
        if let c = s.calibration { members.append(("calibration", calibration(c))) }
        return .object(members)
    }

    /// One operating point's object.
    public static func point(_ p: OperatingPoint) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(p.metric.description)), ("target", .number(p.target)), ("rule", .string(p.rule.rawValue)),
            ("reachable", .bool(p.reachable)),
            ("threshold", .double(p.threshold)), ("far", .double(p.far)), ("frr", .double(p.frr)),
            ("false_accepts", p.falseAccepts.map { .int($0) } ?? .null),
            ("false_rejects", p.falseRejects.map { .int($0) } ?? .null),
            ("genuine", .int(p.genuineCount)), ("impostor", .int(p.impostorCount)),
            ("estimable", .bool(p.estimable)),
        ]
        if let pairs = p.impostorIdentityPairs {
            members.append(("impostor_identity_pairs", .int(pairs)))
            members.append(("false_accept_identity_pairs", p.falseAcceptIdentityPairs.map { .int($0) } ?? .null))
            members.append(("genuine_identities", p.genuineIdentities.map { .int($0) } ?? .null))
            members.append(("estimable_by_subjects", p.estimableBySubjects.map { .bool($0) } ?? .null))
        }
        if let ci = p.interval {
            members.append(("ci95", ci.level == 0.95 ? .array([.number(ci.lower), .number(ci.upper)]) : .null))
            members.append(("ci", .object([
                ("lower", .number(ci.lower)), ("upper", .number(ci.upper)),
                ("level", .number(ci.level)), ("method", .string(ci.method)),
                ("replicates", ci.replicates.map { .int($0) } ?? .null),
            ])))
        } else {
            members.append(("ci95", .null))
        }
        return .object(members)
    }
}
