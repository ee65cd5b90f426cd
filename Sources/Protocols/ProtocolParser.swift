import Foundation
import SampleData
import ScoreMetrics
import Yams

extension EvaluationProtocol {
    /// The top-level keys a protocol file may use.
    public static let topLevelKeys = [
        "name", "description", "data", "scores", "format", "polarity", "split", "pairs", "templates", "report",
        "threshold_rule", "intervals", "baseline", "dev", "model", "gates",
    ]
    /// The keys a gate may use.
    public static let gateKeys = [
        "metric", "name", "max", "min", "use", "max_regression", "max_relative_regression", "vs", "significance",
        "threshold_from", "at", "threshold",
    ]

    /// Reads and validates a protocol file; relative paths in it are resolved against its folder.
    public static func load(path: String) throws(ProtocolError) -> EvaluationProtocol {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProtocolError(
                file: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such protocol file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ProtocolError(file: path, "is not UTF-8 text")
        }
        return try parse(yaml: text, file: path, directory: (path as NSString).deletingLastPathComponent)
    }

    /// Parses and validates protocol text; `file` names it in errors and `directory` anchors its paths.
    public static func parse(yaml: String, file: String, directory: String) throws(ProtocolError) -> EvaluationProtocol {
        let reader = ProtocolReader(file: file, directory: directory)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw ProtocolError(file: file, "the protocol file is empty") }
            root = node
        } catch let error as ProtocolError {
            throw error
        } catch let error as YamlError {
            throw reader.syntaxError(error)
        } catch {
            throw ProtocolError(file: file, "YAML: \(error)")
        }
        return try reader.protocolFile(root)
    }
}

/// Turns a Yams node tree into a validated protocol, naming file, line and key in every error.
struct ProtocolReader {
    let file: String
    let directory: String

    func fail(_ node: Node?, _ key: String?, _ message: String) -> ProtocolError {
        ProtocolError(file: file, line: node?.mark?.line, key: key, message)
    }

    func syntaxError(_ error: YamlError) -> ProtocolError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let where_ = context.map { " (\($0.text))" } ?? ""
            return ProtocolError(file: file, line: mark.line, "YAML syntax: \(problem)\(where_)")
        default:
            return ProtocolError(file: file, "YAML: \(error)")
        }
    }

    // MARK: Node helpers

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.string.isEmpty ? "nothing" : "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// The members of a mapping node, with duplicate and unknown keys rejected.
    func mapping(_ node: Node, _ key: String?, allowed: [String]) throws(ProtocolError) -> Members {
        guard case .mapping(let map) = node else {
            throw fail(node, key, "expected a mapping of \(allowed.joined(separator: ", ")), found \(Self.describe(node))")
        }
        var members = Members(node: node, path: key)
        for (k, v) in map {
            guard case .scalar(let s) = k else { throw fail(k, key, "keys must be plain words, found \(Self.describe(k))") }
            let name = s.string
            let path = key.map { "\($0).\(name)" } ?? name
            guard allowed.contains(name) else {
                var message = "unknown key '\(name)'"
                if let hint = suggestion(for: name, among: allowed) { message += "; did you mean '\(hint)'?" }
                message += " (allowed: \(allowed.joined(separator: ", ")))"
                throw fail(k, path, message)
            }
            guard members.values[name] == nil else {
                throw fail(k, path, "duplicate key (first given on line \(members.values[name]!.key.mark?.line ?? 0))")
            }
            members.values[name] = (k, v)
        }
        return members
    }

    struct Members {
        let node: Node
        let path: String?
        var values: [String: (key: Node, value: Node)] = [:]
        func path(_ name: String) -> String { path.map { "\($0).\(name)" } ?? name }
        subscript(_ name: String) -> Node? { values[name]?.value }
    }

    func scalar(_ node: Node, _ key: String, expected: String) throws(ProtocolError) -> String {
        guard case .scalar(let s) = node, node.null == nil, !s.string.isEmpty else {
            throw fail(node, key, "expected \(expected), found \(Self.describe(node))")
        }
        return s.string
    }

    func string(_ node: Node, _ key: String) throws(ProtocolError) -> String {
        try scalar(node, key, expected: "text")
    }

    func number(_ node: Node, _ key: String) throws(ProtocolError) -> Double {
        let text = try scalar(node, key, expected: "a number")
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            throw fail(node, key, "expected a finite number, found '\(text)'")
        }
        return value
    }

    func integer(_ node: Node, _ key: String, minimum: Int, maximum: Int = Int.max) throws(ProtocolError) -> Int {
        let text = try scalar(node, key, expected: "a whole number")
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw fail(node, key, "expected a whole number, found '\(text)'")
        }
        guard value >= minimum else { throw fail(node, key, "must be at least \(minimum), found \(value)") }
        guard value <= maximum else { throw fail(node, key, "must be at most \(maximum), found \(value)") }
        return value
    }

    func seed(_ node: Node, _ key: String) throws(ProtocolError) -> UInt64 {
        let text = try scalar(node, key, expected: "a seed (a whole number >= 0)")
        guard let value = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
            throw fail(node, key, "expected a seed (a whole number >= 0), found '\(text)'")
        }
        return value
    }

    func choice<E: RawRepresentable & CaseIterable>(_ node: Node, _ key: String, _: E.Type) throws(ProtocolError) -> E
    where E.RawValue == String {
        let text = try scalar(node, key, expected: "one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        guard let value = E(rawValue: text) else {
            let names = E.allCases.map(\.rawValue)
            var message = "'\(text)' is not one of \(names.joined(separator: ", "))"
            if let hint = suggestion(for: text, among: names) { message += "; did you mean '\(hint)'?" }
            throw fail(node, key, message)
        }
        return value
    }

    func metric(_ node: Node, _ key: String) throws(ProtocolError) -> Metric {
        let text = try scalar(node, key, expected: "a metric (\(Metric.spellings))")
        do {
            return try Metric.parse(text)
        } catch {
            throw fail(node, key, error.description)
        }
    }

    func list(_ node: Node, _ key: String) throws(ProtocolError) -> [Node] {
        guard case .sequence(let seq) = node else {
            throw fail(node, key, "expected a list, found \(Self.describe(node))")
        }
        return Array(seq)
    }

    /// A path relative to the protocol file's folder, joined and with `x/..` folded.
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let joined = directory.isEmpty ? path : directory + "/" + path
        // An absolute folder keeps its root, and ".." at the root stays at the root.
        let root = joined.hasPrefix("/") ? "/" : ""
        var parts = [String]()
        for part in joined.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", !root.isEmpty { continue }
            parts.append(part)
        }
        return parts.isEmpty ? (root.isEmpty ? "." : root) : root + parts.joined(separator: "/")
    }

    // MARK: The protocol

    func protocolFile(_ root: Node) throws(ProtocolError) -> EvaluationProtocol {
        let top = try mapping(root, nil, allowed: EvaluationProtocol.topLevelKeys)
        guard let nameNode = top["name"] else { throw fail(root, "name", "missing; every protocol needs a name (baselines record it)") }
        let name = try string(nameNode, "name")
        let allowedName = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard name.allSatisfy({ allowedName.contains($0) }) else {
            throw fail(nameNode, "name", "'\(name)' may use only letters, digits, '.', '_' and '-'")
        }
        var p = EvaluationProtocol(
            file: file, name: name, description: nil, data: nil, scores: [], format: .auto, polarity: .similarity,
            split: nil, pairs: nil, templates: nil, report: [], thresholdRule: .roc, intervals: IntervalSettings(),
            baseline: nil, gates: [])
        if let n = top["description"] { p.description = try string(n, "description") }
        if let n = top["data"] { p.data = resolve(try string(n, "data")) }
        if let n = top["scores"] {
            if case .sequence = n {
                let items = try list(n, "scores")
                guard !items.isEmpty else { throw fail(n, "scores", "the list is empty") }
                for (k, item) in items.enumerated() { p.scores.append(resolve(try string(item, "scores[\(k)]"))) }
            } else {
                p.scores = [resolve(try string(n, "scores"))]
            }
        }
        guard p.data != nil || !p.scores.isEmpty else {
            throw fail(root, nil, "a protocol names its data: give 'data:' (a samples file) or 'scores:' (score files)")
        }
        if let n = top["format"] { p.format = try choice(n, "format", ScoreFileFormat.self) }
        if let n = top["polarity"] { p.polarity = try choice(n, "polarity", Polarity.self) }
        if let n = top["split"] { p.split = try split(n, data: p.data) }
        if let n = top["pairs"] { p.pairs = try pairs(n, data: p.data) }
        if let n = top["templates"] { p.templates = try templates(n, data: p.data) }
        if let n = top["report"] {
            for (k, item) in try list(n, "report").enumerated() { p.report.append(try metric(item, "report[\(k)]")) }
        }
        if let n = top["threshold_rule"] { p.thresholdRule = try choice(n, "threshold_rule", ThresholdRule.self) }
        if let n = top["intervals"] {
            let m = try mapping(n, "intervals", allowed: ["replicates", "seed"])
            if let r = m["replicates"] { p.intervals.replicates = try integer(r, "intervals.replicates", minimum: 100, maximum: 100_000) }
            if let s = m["seed"] { p.intervals.seed = try seed(s, "intervals.seed") }
        }
        if let n = top["baseline"] { p.baseline = resolve(try string(n, "baseline")) }
        if let n = top["dev"] { p.dev = resolve(try string(n, "dev")) }
        if let n = top["model"] { p.model = resolve(try string(n, "model")) }
        if let n = top["gates"] {
            var names = Set<String>()
            for (k, item) in try list(n, "gates").enumerated() {
                var g = try gate(item, index: k)
                if !names.insert(g.name).inserted {
                    if try mapping(item, "gates[\(k)]", allowed: EvaluationProtocol.gateKeys)["name"] != nil {
                        throw fail(item, "gates[\(k)].name", "'\(g.name)' is already the name of another gate")
                    }
                    g.name += " #\(k)"
                    names.insert(g.name)
                }
                p.gates.append(g)
            }
        }
        return p
    }

    func split(_ node: Node, data: String?) throws(ProtocolError) -> IdentitySplit {
        let m = try mapping(node, "split", allowed: ["by", "seed", "train", "validation", "test", "evaluate"])
        guard data != nil else { throw fail(node, "split", "splits a samples file: give 'data:' too") }
        if let by = m["by"] {
            let text = try string(by, "split.by")
            guard text == "identity" else {
                throw fail(by, "split.by", "'\(text)' is not supported; splits are identity-disjoint (by: identity)")
            }
        }
        guard let seedNode = m["seed"] else { throw fail(node, "split.seed", "missing; splits are seeded so they can be reproduced") }
        var fractions = [Double]()
        for part in ["train", "validation", "test"] {
            guard let n = m[part] else { fractions.append(0); continue }
            let f = try number(n, "split.\(part)")
            guard f >= 0, f <= 1 else { throw fail(n, "split.\(part)", "a fraction of identities in [0, 1], found \(short(f))") }
            fractions.append(f)
        }
        let sum = fractions.reduce(0, +)
        guard abs(sum - 1) <= 1e-6 else {
            throw fail(node, "split", "train + validation + test must sum to 1, found \(short(sum))")
        }
        let evaluate = try m["evaluate"].map { n throws(ProtocolError) in try choice(n, "split.evaluate", IdentitySplit.Part.self) } ?? .test
        let chosen = fractions[IdentitySplit.Part.allCases.firstIndex(of: evaluate)!]
        guard chosen > 0 else {
            throw fail(m["evaluate"] ?? node, "split.evaluate", "the \(evaluate.rawValue) part is empty (fraction 0)")
        }
        return IdentitySplit(
            seed: try seed(seedNode, "split.seed"), train: fractions[0], validation: fractions[1], test: fractions[2],
            evaluate: evaluate)
    }

    func pairCount(_ node: Node, _ key: String, allowPerGenuine: Bool) throws(ProtocolError) -> PairCount {
        let text = try scalar(node, key, expected: "all, a count, or 'N per genuine'").trimmingCharacters(in: .whitespaces)
        if text == "all" { return .all }
        if let n = Int(text) {
            guard n >= 1 else { throw fail(node, key, "must be at least 1, found \(n)") }
            return .count(n)
        }
        let words = text.split(separator: " ")
        if words.count == 3, words[1] == "per", words[2] == "genuine", let n = Int(words[0]) {
            guard allowPerGenuine else { throw fail(node, key, "'per genuine' applies to impostor pairs only") }
            guard n >= 1 else { throw fail(node, key, "must be at least 1 per genuine, found \(n)") }
            return .perGenuine(n)
        }
        throw fail(node, key, "expected all, a count, or 'N per genuine', found '\(text)'")
    }

    func pairs(_ node: Node, data: String?) throws(ProtocolError) -> PairFormation {
        let m = try mapping(node, "pairs", allowed: ["source", "genuine", "impostor", "seed"])
        guard data != nil else { throw fail(node, "pairs", "forms comparisons from a samples file: give 'data:' too") }
        var p = PairFormation(source: .generate, genuine: .all, impostor: .all, seed: nil)
        if let n = m["source"] { p.source = try choice(n, "pairs.source", PairFormation.Source.self) }
        if let n = m["genuine"] { p.genuine = try pairCount(n, "pairs.genuine", allowPerGenuine: false) }
        if let n = m["impostor"] { p.impostor = try pairCount(n, "pairs.impostor", allowPerGenuine: true) }
        if let n = m["seed"] { p.seed = try seed(n, "pairs.seed") }
        if p.source == .file, m["genuine"] != nil || m["impostor"] != nil {
            throw fail(node, "pairs", "source: file uses the file's /pairs list as it is; drop genuine/impostor")
        }
        if p.seed == nil, p.genuine != .all || p.impostor != .all {
            throw fail(node, "pairs.seed", "missing; sampled pairs need a seed so they can be reproduced")
        }
        return p
    }

    func templates(_ node: Node, data: String?) throws(ProtocolError) -> TemplateFormation {
        let m = try mapping(node, "templates", allowed: ["samples", "fusion", "seed"])
        guard data != nil else { throw fail(node, "templates", "builds templates from a samples file: give 'data:' too") }
        guard let s = m["samples"] else { throw fail(node, "templates.samples", "missing; samples per enrolment template") }
        var t = TemplateFormation(samples: try integer(s, "templates.samples", minimum: 1, maximum: 4096), fusion: .meanEmbedding, seed: nil)
        if let n = m["fusion"] { t.fusion = try choice(n, "templates.fusion", TemplateFormation.Fusion.self) }
        if let n = m["seed"] { t.seed = try seed(n, "templates.seed") }
        if t.samples > 1, t.seed == nil {
            throw fail(node, "templates.seed", "missing; the choice of enrolment samples needs a seed")
        }
        return t
    }

    func gate(_ node: Node, index k: Int) throws(ProtocolError) -> Gate {
        let key = "gates[\(k)]"
        let m = try mapping(node, key, allowed: EvaluationProtocol.gateKeys)
        if m["threshold_from"] != nil || m["threshold"] != nil || m["at"] != nil { return try fixedGate(node, m, index: k) }
        guard let metricNode = m["metric"] else { throw fail(node, "\(key).metric", "missing; which metric does this gate check?") }
        let metric = try metric(metricNode, "\(key).metric")
        let kinds = ["max", "min", "max_regression", "max_relative_regression"].filter { m[$0] != nil }
        guard kinds.count == 1 else {
            let found = kinds.isEmpty ? "none" : kinds.joined(separator: " and ")
            throw fail(node, key, "give exactly one of max, min, max_regression, max_relative_regression (found \(found))")
        }
        let kind = kinds[0]
        let valueNode = m[kind]!
        let value = try number(valueNode, "\(key).\(kind)")
        let rule: Gate.Rule
        switch kind {
        case "max", "min":
            for extra in ["vs", "significance"] where m[extra] != nil {
                throw fail(m[extra], "\(key).\(extra)", "applies to regression gates (max_regression, max_relative_regression), not to \(kind)")
            }
            let use = try m["use"].map { n throws(ProtocolError) in try choice(n, "\(key).use", Gate.Bound.self) } ?? .estimate
            if use != .estimate, !metric.isOperatingPoint {
                throw fail(
                    m["use"], "\(key).use",
                    "\(use.rawValue) needs a confidence interval, which alaverify computes for operating points (frr@far, far@frr), not for \(metric)")
            }
            rule = kind == "max" ? .max(value, use: use) : .min(value, use: use)
        default:
            if m["use"] != nil {
                throw fail(m["use"], "\(key).use", "applies to max/min limits; regression gates compare estimates (add significance: to account for noise)")
            }
            guard value >= 0 else { throw fail(valueNode, "\(key).\(kind)", "a tolerance must be >= 0, found \(short(value))") }
            if let vs = m["vs"] {
                let text = try string(vs, "\(key).vs")
                guard text == "baseline" else { throw fail(vs, "\(key).vs", "only 'baseline' is supported, found '\(text)'") }
            }
            var alpha: Double?
            if let s = m["significance"] {
                let a = try number(s, "\(key).significance")
                guard a > 0, a < 0.5 else { throw fail(s, "\(key).significance", "a level in (0, 0.5), e.g. 0.05, found \(short(a))") }
                guard metric.isOperatingPoint else {
                    throw fail(
                        s, "\(key).significance",
                        "needs an operating point (frr@far, far@frr): the subject bootstrap re-derives thresholds; \(metric) has no interval")
                }
                alpha = a
            }
            rule = .regression(kind == "max_regression" ? .absolute(value) : .relative(value), significance: alpha)
        }
        var gate = Gate(name: "", metric: metric, rule: rule, line: node.mark?.line ?? 0, index: k)
        if let n = m["name"] {
            gate.name = try string(n, "\(key).name")
        } else {
            gate.name = "\(metric) \(gate.limitDescription)"
        }
        return gate
    }
}
