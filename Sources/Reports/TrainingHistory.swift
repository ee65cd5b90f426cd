import AlaverifyBase
import Foundation
import ScoreMetrics

/// One validation of one child model, as `alaverify train` logs it to `history.jsonl`.
public struct HistoryRecord: Sendable, Equatable {
    /// The training step at which the child was validated.
    public var step: Int
    /// The child model (0-based).
    public var child: Int
    /// The mean training loss over the steps since the previous validation (NaN when not logged).
    public var loss: Double
    /// The target metric on the validation split.
    public var value: Double
    /// The validation EER, when logged.
    public var eer: Double?
    /// The validation ROC AUC, when logged.
    public var rocAUC: Double?
    /// The loss parameters chosen at this step, in `TrainingHistory.parameterNames` order.
    public var parameters: [Double]
    /// The controller's action per parameter (-1, 0, +1), ALA runs only.
    public var actions: [Int]?
    /// The controller's reward for this child (nil before its first judged action).
    public var reward: Double?
    /// The controller's REINFORCE baseline after this step.
    public var baseline: Double?
    /// The policy's mean entropy over parameters (nats) at this step.
    public var policyEntropy: Double?

    /// Creates a record.
    public init(
        step: Int, child: Int, loss: Double, value: Double, eer: Double? = nil, rocAUC: Double? = nil, parameters: [Double],
        actions: [Int]? = nil, reward: Double? = nil, baseline: Double? = nil, policyEntropy: Double? = nil
    ) {
        self.step = step
        self.child = child
        self.loss = loss
        self.value = value
        self.eer = eer
        self.rocAUC = rocAUC
        self.parameters = parameters
        self.actions = actions
        self.reward = reward
        self.baseline = baseline
        self.policyEntropy = policyEntropy
    }
}

/// A malformed `history.jsonl`: the 1-based line and what is wrong with it (line 0: the whole file).
public struct HistoryError: AlaverifyError, Sendable, Equatable {
    /// The line (1-based), or 0 when the problem is the file as a whole.
    public var line: Int
    /// What is wrong, and what was expected.
    public var message: String

    /// Creates an error.
    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
    public var exitStatus: ExitStatus { .dataError }
}

/// A training run's validation history: what `alaverify train` writes to `RUN/history.jsonl`,
/// one JSON object per child per validation.
public struct TrainingHistory: Sendable {
    /// The validation target, e.g. `frr@far=1e-3`.
    public var target: Metric
    /// The loss parameter names, in the order of every record's `parameters`.
    public var parameterNames: [String]
    /// The records in file order (steps ascending).
    public var records: [HistoryRecord]

    /// Creates a history from records; every record has `parameterNames.count` parameters.
    public init(target: Metric, parameterNames: [String], records: [HistoryRecord]) {
        self.target = target
        self.parameterNames = parameterNames
        self.records = records
    }

    /// The child models, ascending.
    public var children: [Int] { Array(Set(records.map(\.child))).sorted() }
    /// The validation steps, ascending.
    public var steps: [Int] { Array(Set(records.map(\.step))).sorted() }
    /// True when the controller's actions were logged (an ALA run).
    public var hasActions: Bool { records.contains { $0.actions != nil } }
    /// The records of one child, in step order.
    public func records(child: Int) -> [HistoryRecord] { records.filter { $0.child == child } }

    /// The best validation, chosen as the trainer chooses the model it keeps: in file order,
    /// a record replaces the best only when strictly better (lower for error rates, higher for areas).
    public var best: HistoryRecord? {
        var out: HistoryRecord?
        for r in records where !r.value.isNaN {
            guard let b = out else { out = r; continue }
            if target.lowerIsBetter ? r.value < b.value : r.value > b.value { out = r }
        }
        return out
    }

    /// Parses `history.jsonl`. Blank lines are skipped; every other line must be a record with
    /// `step`, `child`, `loss`, `validation.target`, `validation.value` and `loss_parameters`,
    /// the same target and parameter names on every line, steps in ascending order and each
    /// (step, child) once.
    public static func parse(_ bytes: [UInt8]) throws(HistoryError) -> TrainingHistory {
        var records = [HistoryRecord]()
        var target: (text: String, metric: Metric)?
        var names: [String]?
        var seen = Set<[Int]>()
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = bytes[start..<end]
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let n = lineNumber
            func fail(_ message: String) -> HistoryError { HistoryError(line: n, message) }
            let json: JSONValue
            do { json = try JSONValue.parse(Data(line)) } catch { throw fail(error.description) }
            guard case .object = json else { throw fail("expected a JSON object, one per line") }
            guard case .int(let step)? = json["step"], step >= 0 else { throw fail("'step' must be a non-negative integer") }
            guard case .int(let child)? = json["child"], child >= 0 else { throw fail("'child' must be a non-negative integer") }
            let loss: Double
            if json["loss"] == .null {
                loss = .nan
            } else if let x = json["loss"]?.doubleValue {
                loss = x
            } else {
                throw fail("'loss' must be a number")
            }
            guard let validation = json["validation"], case .object = validation else { throw fail("'validation' must be an object") }
            guard case .string(let targetText)? = validation["target"] else { throw fail("'validation.target' must be a metric name") }
            if let target {
                guard targetText == target.text else { throw fail("target '\(targetText)' differs from '\(target.text)' on the earlier lines") }
            } else {
                do { target = (targetText, try Metric.parse(targetText)) } catch { throw fail("'validation.target': \(error.description)") }
            }
            guard let value = validation["value"]?.doubleValue else { throw fail("'validation.value' must be a number") }
            guard case .object(let members)? = json["loss_parameters"] else { throw fail("'loss_parameters' must be an object of name: value") }
            var parameters = [Double]()
            for (name, v) in members {
                guard let x = v.doubleValue, x.isFinite else { throw fail("loss parameter '\(name)' must be a finite number") }
                parameters.append(x)
            }
            let lineNames = members.map(\.0)
            if let names {
                guard lineNames == names else {
                    throw fail("loss parameters [\(lineNames.joined(separator: ", "))] differ from the earlier lines' [\(names.joined(separator: ", "))]")
                }
            } else {
                names = lineNames
            }
            var actions: [Int]?
            if let a = json["actions"], a != .null {
                guard case .array(let items) = a, items.count == parameters.count else {
                    throw fail("'actions' must be an array of \(parameters.count) values -1, 0 or +1, one per loss parameter")
                }
                actions = []
                for item in items {
                    guard case .int(let k) = item, (-1...1).contains(k) else { throw fail("'actions' must hold only -1, 0 or +1") }
                    actions!.append(k)
                }
            }
            func optionalNumber(_ v: JSONValue?, _ key: String) throws(HistoryError) -> Double? {
                guard let v, v != .null else { return nil }
                guard let x = v.doubleValue else { throw fail("'\(key)' must be a number or null") }
                return x
            }
            if let last = records.last, step < last.step {
                throw fail("step \(step) comes after step \(last.step); the lines must be in step order")
            }
            guard seen.insert([step, child]).inserted else { throw fail("a second record for step \(step), child \(child)") }
            records.append(HistoryRecord(
                step: step, child: child, loss: loss, value: value,
                eer: try optionalNumber(validation["eer"], "validation.eer"),
                rocAUC: try optionalNumber(validation["roc_auc"], "validation.roc_auc"), parameters: parameters, actions: actions,
                reward: try optionalNumber(json["reward"], "reward"), baseline: try optionalNumber(json["baseline"], "baseline"),
                policyEntropy: try optionalNumber(json["policy_entropy"], "policy_entropy")))
        }
        guard let target, let names, !records.isEmpty else { throw HistoryError(line: 0, "no validation records (the run stopped before its first validation)") }
        return TrainingHistory(target: target.metric, parameterNames: names, records: records)
    }
}

/// How the training figures group loss parameters: scalars by magnitude, indexed ones by family.
public struct ParameterGroups: Sendable, Equatable {
    /// Indices of the scale (drawn on its own panel: its range dwarfs the others).
    public var scale: [Int]
    /// Indices of the other scalars (margins, balance).
    public var scalars: [Int]
    /// Indexed families such as `genuine_weight[b]`: the family name and the parameter index per bin.
    public var binned: [(name: String, indices: [Int])]

    /// Groups parameter names: `name[b]` into families by name, `scale` alone, the rest together.
    public init(_ names: [String]) {
        scale = []
        scalars = []
        binned = []
        for (k, name) in names.enumerated() {
            if let open = name.firstIndex(of: "["), name.hasSuffix("]"), let b = Int(name[name.index(after: open)...].dropLast()), b >= 0 {
                let family = String(name[..<open])
                if let g = binned.firstIndex(where: { $0.name == family }) {
                    if binned[g].indices.count <= b { binned[g].indices += Array(repeating: -1, count: b + 1 - binned[g].indices.count) }
                    binned[g].indices[b] = k
                } else {
                    binned.append((family, Array(repeating: -1, count: b) + [k]))
                }
            } else if name == "scale" {
                scale.append(k)
            } else {
                scalars.append(k)
            }
        }
    }

    public static func == (a: ParameterGroups, b: ParameterGroups) -> Bool {
        a.scale == b.scale && a.scalars == b.scalars && a.binned.map(\.name) == b.binned.map(\.name)
            && a.binned.map(\.indices) == b.binned.map(\.indices)
    }
}
