import AlaverifyBase

/// What a loss parameter controls, so the shared policy can tell parameters apart.
public enum ParameterKind: String, Sendable, CaseIterable, Codable {
    case genuineBinWeight = "genuine_bin_weight"
    case impostorBinWeight = "impostor_bin_weight"
    case margin
    case scale
    case balance
    case tail
    case other
}

/// One controllable loss parameter: its range, its action step and what it controls.
public struct ParameterSpec: Sendable, Equatable, Codable {
    /// Name, e.g. `impostor_bin_7`.
    public var name: String
    /// What the parameter controls.
    public var kind: ParameterKind
    /// Valid range; values are clamped into it after every action.
    public var lower: Double
    public var upper: Double
    /// The amount one "raise"/"lower" action changes the value by.
    public var step: Double
    /// For bin weights: the similarity bin index; nil otherwise.
    public var bin: Int?

    /// Creates a parameter description.
    public init(name: String, kind: ParameterKind, lower: Double, upper: Double, step: Double, bin: Int? = nil) {
        precondition(lower < upper && step > 0)
        self.name = name
        self.kind = kind
        self.lower = lower
        self.upper = upper
        self.step = step
        self.bin = bin
    }
}

/// Validation statistics of one child model at one controller round.
public struct ValidationSnapshot: Sendable, Equatable {
    /// The reward value: the target on the validation split as a cost (lower is better; e.g.
    /// FRR@FAR averaged over a band of FARs, 1 - AUC for AUC-like targets).
    public var target: Double
    /// FRR at a stricter and a looser operating point (a/10 and 10a).
    public var neighbours: [Double]
    /// Fraction of genuine validation pairs per similarity bin (sums to 1).
    public var genuineBinMass: [Double]
    /// Fraction of impostor validation pairs per similarity bin (sums to 1).
    public var impostorBinMass: [Double]
    /// The score threshold at the target FAR (nil for other targets).
    public var threshold: Double?
    /// The reward value on two disjoint halves of the validation identities (the reward's
    /// reliability: do both halves rank the children alike?); empty when not measured.
    public var halves: [Double]

    /// Creates a snapshot.
    public init(target: Double, neighbours: [Double], genuineBinMass: [Double], impostorBinMass: [Double],
                threshold: Double? = nil, halves: [Double] = []) {
        self.target = target
        self.neighbours = neighbours
        self.genuineBinMass = genuineBinMass
        self.impostorBinMass = impostorBinMass
        self.threshold = threshold
        self.halves = halves
    }
}

/// How a population's loss parameters are drawn each round.
public enum ControlPolicy: String, Sendable, Codable, CaseIterable {
    /// A policy network on the state, learned by REINFORCE (ALA).
    case learned
    /// Stateless action probabilities per parameter, learned by REINFORCE (a population search).
    case search
    /// Uniformly random actions (the control that isolates what learning adds).
    case random
}

/// Settings of the loss controller.
public struct ControllerConfig: Sendable, Equatable, Codable {
    /// How actions are drawn.
    public var policy = ControlPolicy.learned
    /// Policy hidden units.
    public var hidden = 32
    /// Learning rate of the policy (Adam) or of the stateless logits (plain gradient ascent).
    public var learningRate = 0.01
    /// Entropy bonus weight (keeps exploring).
    public var entropyBonus = 0.01

    /// The defaults.
    public init() {}

    private enum CodingKeys: String, CodingKey { case policy, hidden, learningRate, entropyBonus }

    /// Reads the settings; keys missing (as in configs of the earlier controller) keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = try c.decodeIfPresent(ControlPolicy.self, forKey: .policy) ?? .learned
        hidden = try c.decodeIfPresent(Int.self, forKey: .hidden) ?? 32
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? 0.01
        entropyBonus = try c.decodeIfPresent(Double.self, forKey: .entropyBonus) ?? 0.01
    }
}
