import AlaverifyBase
import ScoreMetrics

/// One validation of one child model: one line of `history.jsonl`, as `alaverify train` writes
/// it and `alaverify report` reads it.
///
/// Coded with `JSONValueEncoder`/`JSONValueDecoder`, which keep the keys in the order below:
/// `step`, `child`, `loss`, `validation`, `loss_parameters`, `trained_loss_parameters`, then the
/// controller's `actions`, `reward` (null before its first judged action), `baseline`,
/// `policy_entropy`, `continued_from` and `validation_halves` (controlled runs), then `data`
/// (streamed runs). Decoding names the field that is
/// wrong in `HistoryRecordError`.
public struct HistoryRecord: Sendable, Equatable, Codable {
    /// The training step at which the child was validated.
    public var step: Int
    /// The child model (0-based).
    public var child: Int
    /// The mean training loss over the steps since the previous validation (NaN when not logged).
    public var loss: Double
    /// The validation results.
    public var validation: ValidationResult
    /// The loss parameters chosen at this step (used for the next steps).
    public var lossParameters: NamedValues
    /// The loss parameters the last steps trained with, which produced this validation.
    public var trainedLossParameters: NamedValues?
    /// The controller's action per parameter (-1, 0, +1), ALA runs only.
    public var actions: [Int]?
    /// The controller's reward for this child (nil before its first judged action).
    public var reward: Double?
    /// The controller's REINFORCE baseline after this step.
    public var baseline: Double?
    /// The policy's mean entropy over parameters (nats) at this step.
    public var policyEntropy: Double?
    /// The child every child continued from after this validation (controlled populations).
    public var continuedFrom: Int?
    /// The reward value on two disjoint halves of the validation identities (controlled populations).
    public var validationHalves: [Double]?
    /// The run's streaming totals so far (streamed runs only).
    public var data: DataStreamStats?

    /// Creates a record.
    public init(
        step: Int, child: Int, loss: Double, validation: ValidationResult, lossParameters: NamedValues,
        trainedLossParameters: NamedValues? = nil, actions: [Int]? = nil, reward: Double? = nil, baseline: Double? = nil,
        policyEntropy: Double? = nil, continuedFrom: Int? = nil, validationHalves: [Double]? = nil, data: DataStreamStats? = nil
    ) {
        self.step = step
        self.child = child
        self.loss = loss
        self.validation = validation
        self.lossParameters = lossParameters
        self.trainedLossParameters = trainedLossParameters
        self.actions = actions
        self.reward = reward
        self.baseline = baseline
        self.policyEntropy = policyEntropy
        self.continuedFrom = continuedFrom
        self.validationHalves = validationHalves
        self.data = data
    }

    /// The target metric's value on the validation split.
    public var value: Double {
        get { validation.value }
        set { validation.value = newValue }
    }
    /// The validation EER, when logged.
    public var eer: Double? { validation.eer }
    /// The validation ROC AUC, when logged.
    public var rocAUC: Double? { validation.rocAUC }
    /// The loss parameter values, in `lossParameters.names` order.
    public var parameters: [Double] { lossParameters.values }

    enum Key: String, CodingKey {
        case step, child, loss, validation, actions, reward, baseline, data
        case lossParameters = "loss_parameters", trainedLossParameters = "trained_loss_parameters"
        case policyEntropy = "policy_entropy", continuedFrom = "continued_from", validationHalves = "validation_halves"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(step, forKey: .step)
        try c.encode(child, forKey: .child)
        try c.encode(loss, forKey: .loss)
        try c.encode(validation, forKey: .validation)
        try c.encode(lossParameters, forKey: .lossParameters)
        try c.encodeIfPresent(trainedLossParameters, forKey: .trainedLossParameters)
        try c.encodeIfPresent(actions, forKey: .actions)
        // A controller's record says "no reward yet" with null.
        if actions != nil, reward == nil { try c.encodeNil(forKey: .reward) } else { try c.encodeIfPresent(reward, forKey: .reward) }
        try c.encodeIfPresent(baseline, forKey: .baseline)
        try c.encodeIfPresent(policyEntropy, forKey: .policyEntropy)
        try c.encodeIfPresent(continuedFrom, forKey: .continuedFrom)
        try c.encodeIfPresent(validationHalves, forKey: .validationHalves)
        try c.encodeIfPresent(data.map(StreamTotals.init), forKey: .data)
    }

    public init(from decoder: Decoder) throws {
        let c: KeyedDecodingContainer<Key>
        do { c = try decoder.container(keyedBy: Key.self) } catch { throw HistoryRecordError("expected a JSON object, one per line") }
        step = try c.field(Int.self, .step, "'step' must be a non-negative integer")
        guard step >= 0 else { throw HistoryRecordError("'step' must be a non-negative integer") }
        child = try c.field(Int.self, .child, "'child' must be a non-negative integer")
        guard child >= 0 else { throw HistoryRecordError("'child' must be a non-negative integer") }
        loss = (try? c.decodeNil(forKey: .loss)) == true ? .nan : try c.field(Double.self, .loss, "'loss' must be a number")
        validation = try c.field(ValidationResult.self, .validation, "'validation' must be an object")
        lossParameters = try c.field(NamedValues.self, .lossParameters, "'loss_parameters' must be an object of name: value")
        if let bad = zip(lossParameters.names, lossParameters.values).first(where: { !$0.1.isFinite }) {
            throw HistoryRecordError("loss parameter '\(bad.0)' must be a finite number")
        }
        trainedLossParameters = try c.optionalField(NamedValues.self, .trainedLossParameters, "'trained_loss_parameters' must be an object of name: value")
        let n = lossParameters.values.count
        actions = try c.optionalField([Int].self, .actions, "'actions' must be an array of \(n) values -1, 0 or +1, one per loss parameter")
        if let actions {
            guard actions.count == n else { throw HistoryRecordError("'actions' must be an array of \(n) values -1, 0 or +1, one per loss parameter") }
            guard actions.allSatisfy({ (-1...1).contains($0) }) else { throw HistoryRecordError("'actions' must hold only -1, 0 or +1") }
        }
        reward = try c.optionalField(Double.self, .reward, "'reward' must be a number or null")
        baseline = try c.optionalField(Double.self, .baseline, "'baseline' must be a number or null")
        policyEntropy = try c.optionalField(Double.self, .policyEntropy, "'policy_entropy' must be a number or null")
        continuedFrom = try c.optionalField(Int.self, .continuedFrom, "'continued_from' must be a child index")
        validationHalves = try c.optionalField([Double].self, .validationHalves, "'validation_halves' must be an array of two numbers")
        data = try c.optionalField(StreamTotals.self, .data, "'data' must hold streamed_batches, stall_seconds and read_seconds")?.stats
    }
}

/// The `data` object of a streamed run's record: `DataStreamStats` under the history's key names
/// (checkpoints store the stats under their property names).
private struct StreamTotals: Codable {
    var stats: DataStreamStats
    init(_ stats: DataStreamStats) { self.stats = stats }

    enum Key: String, CodingKey {
        case batches = "streamed_batches", stallSeconds = "stall_seconds", readSeconds = "read_seconds"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(stats.batches, forKey: .batches)
        try c.encode(stats.stallSeconds, forKey: .stallSeconds)
        try c.encode(stats.readSeconds, forKey: .readSeconds)
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        stats = DataStreamStats(
            batches: try c.decode(Int.self, forKey: .batches), stallSeconds: try c.decode(Double.self, forKey: .stallSeconds),
            readSeconds: try c.decode(Double.self, forKey: .readSeconds))
    }
}

/// One child's validation, the `validation` object of a history record.
public struct ValidationResult: Sendable, Equatable, Codable {
    /// The validation target.
    public var target: Metric
    /// The target's value on the validation split.
    public var value: Double
    /// The value the controller was rewarded by (a cost: lower is better; may average a FAR band).
    public var rewardValue: Double?
    /// The validation EER (null when the curve does not cross FAR = FRR).
    public var eer: Double?
    /// The validation ROC AUC.
    public var rocAUC: Double?
    /// FRR at a stricter and a looser FAR than the target's.
    public var frrNeighbours: [Double]?

    /// Creates a validation result.
    public init(target: Metric, value: Double, rewardValue: Double? = nil, eer: Double? = nil, rocAUC: Double? = nil, frrNeighbours: [Double]? = nil) {
        self.target = target
        self.value = value
        self.rewardValue = rewardValue
        self.eer = eer
        self.rocAUC = rocAUC
        self.frrNeighbours = frrNeighbours
    }

    enum Key: String, CodingKey {
        case target, value, eer
        case rewardValue = "reward_value", rocAUC = "roc_auc", frrNeighbours = "frr_neighbours"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(target, forKey: .target)
        try c.encode(value, forKey: .value)
        try c.encodeIfPresent(rewardValue, forKey: .rewardValue)
        // The EER and AUC are always written, null when unknown.
        if let eer { try c.encode(eer, forKey: .eer) } else { try c.encodeNil(forKey: .eer) }
        if let rocAUC { try c.encode(rocAUC, forKey: .rocAUC) } else { try c.encodeNil(forKey: .rocAUC) }
        try c.encodeIfPresent(frrNeighbours, forKey: .frrNeighbours)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let text = try c.field(String.self, .target, "'validation.target' must be a metric name")
        do { target = try Metric.parse(text) } catch { throw HistoryRecordError("'validation.target': \(error.description)") }
        value = try c.field(Double.self, .value, "'validation.value' must be a number")
        rewardValue = try c.optionalField(Double.self, .rewardValue, "'validation.reward_value' must be a number or null")
        eer = try c.optionalField(Double.self, .eer, "'validation.eer' must be a number or null")
        rocAUC = try c.optionalField(Double.self, .rocAUC, "'validation.roc_auc' must be a number or null")
        frrNeighbours = try c.optionalField([Double].self, .frrNeighbours, "'validation.frr_neighbours' must be an array of numbers")
    }
}

/// Numbers by name in a fixed order, coded as a JSON object whose keys keep that order (the
/// loss parameters of a record, in the loss's order).
public struct NamedValues: Sendable, Equatable, Codable {
    /// The names, in order.
    public var names: [String]
    /// The values, one per name.
    public var values: [Double]

    /// Pairs names with values (equal counts).
    public init(names: [String], values: [Double]) {
        precondition(names.count == values.count, "\(names.count) names for \(values.count) values")
        self.names = names
        self.values = values
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        for (name, value) in zip(names, values) { try c.encode(value, forKey: AnyCodingKey(name)) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        names = c.allKeys.map(\.stringValue)
        values = []
        for key in c.allKeys {
            guard let x = try? c.decode(Double.self, forKey: key) else {
                throw HistoryRecordError("loss parameter '\(key.stringValue)' must be a finite number")
            }
            values.append(x)
        }
    }
}

/// What is wrong with a history record, naming the field (`'step' must be a non-negative integer`).
public struct HistoryRecordError: Error, Sendable, Equatable {
    /// The message.
    public var message: String
    init(_ message: String) { self.message = message }
}

extension KeyedDecodingContainer {
    /// The value at `key`; a missing or mistyped one throws `message`.
    func field<T: Decodable>(_ type: T.Type, _ key: Key, _ message: String) throws -> T {
        do { return try decode(type, forKey: key) } catch let error as HistoryRecordError { throw error } catch {
            throw HistoryRecordError(message)
        }
    }

    /// The value at `key`, nil when absent or null; a mistyped one throws `message`.
    func optionalField<T: Decodable>(_ type: T.Type, _ key: Key, _ message: String) throws -> T? {
        guard contains(key), (try? decodeNil(forKey: key)) == false else { return nil }
        return try field(type, key, message)
    }
}
