import AlaverifyBase
import Foundation

/// What a loss parameter controls, so the shared policy can tell parameters apart.
public enum ParameterKind: String, Sendable, CaseIterable, Codable {
    case genuineBinWeight = "genuine_bin_weight"
    case impostorBinWeight = "impostor_bin_weight"
    case margin
    case scale
    case balance
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

/// Validation statistics of one child model at one controller step.
public struct ValidationSnapshot: Sendable, Equatable {
    /// The target metric on the validation split, oriented so that lower is better
    /// (e.g. FRR@FAR; 1 - AUC for AUC-like targets).
    public var target: Double
    /// The same kind of metric at a stricter and a looser operating point (FRR at a/10 and a*10).
    public var neighbours: [Double]
    /// Fraction of genuine validation pairs per similarity bin (sums to 1).
    public var genuineBinMass: [Double]
    /// Fraction of impostor validation pairs per similarity bin (sums to 1).
    public var impostorBinMass: [Double]

    /// Creates a snapshot.
    public init(target: Double, neighbours: [Double], genuineBinMass: [Double], impostorBinMass: [Double]) {
        self.target = target
        self.neighbours = neighbours
        self.genuineBinMass = genuineBinMass
        self.impostorBinMass = impostorBinMass
    }
}

/// How rewards are formed from successive target values.
public enum RewardShape: String, Sendable, CaseIterable, Codable {
    /// The sign of the improvement (the paper's choice): +1, 0 or -1.
    case sign
    /// The improvement itself, divided by a running estimate of its noise.
    case scaled
}

/// Settings of the ALA controller.
public struct ControllerConfig: Sendable, Equatable, Codable {
    /// Target-metric deltas kept in the state.
    public var history = 3
    /// Policy hidden units.
    public var hidden = 32
    /// Adam learning rate of the policy.
    public var learningRate = 0.01
    /// Moving-average factor of the REINFORCE baseline.
    public var baselineMomentum = 0.9
    /// Entropy bonus weight (keeps exploring).
    public var entropyBonus = 0.01
    /// Reward shape.
    public var reward = RewardShape.sign
    /// Future controller steps whose improvements are summed into one action's reward.
    public var horizon = 1
    /// Discount of later improvements within the horizon.
    public var discount = 0.9
    /// Improvements smaller than this count as zero (noise floor of the metric).
    public var deadband = 0.0

    /// The defaults.
    public init() {}
}

/// One action taken for one parameter of one child, waiting for its reward.
struct PendingAction: Sendable, Codable {
    var features: [[Double]]
    var actions: [Int]
    /// Which actions were allowed per parameter (bounds mask some out).
    var allowed: [[Bool]]
    var step: Int
}

/// Adaptive Loss Alignment: a REINFORCE policy that raises, keeps or lowers each loss parameter
/// every K training steps, rewarded by the improvement of the validation target.
///
/// Several child models share the policy; their transitions are pooled into one update.
/// Deterministic for a seed: each child draws its actions from its own seeded stream.
public struct ALAController: Sendable, Codable {
    /// The loss parameters it steers, in the loss's order.
    public let specs: [ParameterSpec]
    /// Settings.
    public let config: ControllerConfig
    /// The shared policy.
    public private(set) var policy: PolicyNetwork
    /// The REINFORCE baseline (moving average of rewards).
    public private(set) var baseline = 0.0
    /// Controller steps taken.
    public private(set) var steps = 0
    /// Running mean absolute improvement (for `RewardShape.scaled`).
    public private(set) var improvementScale = 0.0

    var adamM: [Double]
    var adamV: [Double]
    var adamT = 0
    var children: [ChildState]

    struct ChildState: Sendable, Codable {
        var rng: SeededGenerator
        var targets: [Double] = []
        var lastActions: [Int]
        /// The change each parameter actually made at the last step (0 when clamped).
        var lastChange: [Double]
        var initial: [Double]
        var pending: [PendingAction] = []
    }

    /// Number of features per parameter state.
    public static func featureCount(history: Int) -> Int { 3 + 1 + history + 2 + 2 + ParameterKind.allCases.count + 3 + 1 }

    /// Creates a controller for `children` models starting from `initial` parameter values.
    public init(specs: [ParameterSpec], initial: [Double], children: Int, config: ControllerConfig = .init(), seed: UInt64) {
        precondition(!specs.isEmpty && initial.count == specs.count && children >= 1)
        self.specs = specs
        self.config = config
        policy = PolicyNetwork(inputs: Self.featureCount(history: config.history), hidden: config.hidden, seed: seed)
        adamM = [Double](repeating: 0, count: policy.parameterCount)
        adamV = adamM
        self.children = (0..<children).map { c in
            ChildState(
                rng: SeededGenerator(seed: seed, stream: 0xC0DE + UInt64(c)),
                lastActions: [Int](repeating: 1, count: specs.count),
                lastChange: [Double](repeating: 0, count: specs.count), initial: initial)
        }
    }

    /// Replaces the policy (warm start from a saved policy); shapes must match.
    public mutating func loadPolicy(_ network: PolicyNetwork) throws(ControllerError) {
        guard network.inputs == policy.inputs, network.hidden == policy.hidden else {
            throw .incompatiblePolicy(
                "policy has \(network.inputs) inputs x \(network.hidden) hidden units, this controller needs \(policy.inputs) x \(policy.hidden)")
        }
        policy = network
    }

    /// The state features of parameter j for a child.
    func features(child c: Int, parameter j: Int, phi: [Double], snapshot: ValidationSnapshot, progress: Double) -> [Double] {
        let spec = specs[j]
        let width = spec.upper - spec.lower
        let child = children[c]
        var x = [Double]()
        x.reserveCapacity(policy.inputs)
        x.append(progress)
        x.append((phi[j] - spec.lower) / width)
        x.append((phi[j] - child.initial[j]) / width)
        x.append(snapshot.target)
        let t = child.targets
        for h in 0..<config.history {
            // Recent improvements, scaled up so typical rate changes (1e-3..1e-1) are visible.
            let k = t.count - 1 - h
            x.append(k >= 1 ? 10 * (t[k - 1] - t[k]) : 0)
        }
        let n = snapshot.neighbours
        x.append(n.count > 0 ? n[0] : snapshot.target)
        x.append(n.count > 1 ? n[1] : snapshot.target)
        var g = 0.0, i = 0.0
        if let bin = spec.bin {
            if bin < snapshot.genuineBinMass.count { g = snapshot.genuineBinMass[bin] }
            if bin < snapshot.impostorBinMass.count { i = snapshot.impostorBinMass[bin] }
        }
        x.append(g)
        x.append(i)
        for kind in ParameterKind.allCases { x.append(kind == spec.kind ? 1 : 0) }
        for a in 0..<3 { x.append(child.lastActions[j] == a ? 1 : 0) }
        // The direction the last change suggests: +1 when raising helped or lowering hurt, -1 for
        // the opposite, 0 when the parameter did not move or the target did not change.
        let improvement = t.count >= 2 ? t[t.count - 2] - t[t.count - 1] : 0
        let moved = child.lastChange[j]
        x.append(moved == 0 || improvement == 0 ? 0 : ((moved > 0) == (improvement > 0) ? 1 : -1))
        return x
    }

    /// One controller step: records each child's new validation result, turns improvements
    /// into rewards for earlier actions, updates the shared policy, then samples new actions.
    ///
    /// - Parameters:
    ///   - snapshots: one per child, taken after the last K training steps.
    ///   - phi: each child's current loss parameters; updated in place (clamped to the ranges).
    ///   - progress: training progress t/T in [0, 1].
    /// - Returns: what happened, for the run's history.
    public mutating func step(snapshots: [ValidationSnapshot], phi: inout [[Double]], progress: Double) -> ControllerStep {
        precondition(snapshots.count == children.count && phi.count == children.count)
        var rewarded: [(PendingAction, Double)] = []
        var rewards = [Double?](repeating: nil, count: children.count)
        for c in children.indices {
            children[c].targets.append(snapshots[c].target)
            let t = children[c].targets
            // An action taken at controller step s is judged by the improvements over the next
            // `horizon` steps, discounted.
            var keep: [PendingAction] = []
            for p in children[c].pending {
                let age = t.count - 1 - p.step
                if age >= config.horizon {
                    var r = 0.0
                    for u in 1...config.horizon {
                        let delta = t[p.step + u - 1] - t[p.step + u]
                        r += pow(config.discount, Double(u - 1)) * shape(delta)
                    }
                    rewarded.append((p, r))
                    if rewards[c] == nil { rewards[c] = r }
                } else {
                    keep.append(p)
                }
            }
            children[c].pending = keep
            if t.count >= 2 { updateScale(abs(t[t.count - 2] - t[t.count - 1])) }
        }
        var entropy = 0.0
        var advantageMean = 0.0
        if !rewarded.isEmpty {
            let meanReward = rewarded.map(\.1).reduce(0, +) / Double(rewarded.count)
            var gradient = [Double](repeating: 0, count: policy.parameterCount)
            var terms = 0
            for (p, r) in rewarded {
                let advantage = r - baseline
                advantageMean += advantage / Double(rewarded.count)
                for j in p.actions.indices {
                    let g = maskedLogProbabilityGradient(p.features[j], action: p.actions[j], allowed: p.allowed[j])
                    for k in gradient.indices { gradient[k] += advantage * g[k] }
                    if config.entropyBonus > 0 { addEntropyGradient(p.features[j], into: &gradient) }
                    terms += 1
                }
            }
            for k in gradient.indices { gradient[k] /= Double(terms) }
            adamAscend(gradient)
            baseline = config.baselineMomentum * baseline + (1 - config.baselineMomentum) * meanReward
        }
        var actions = [[Int]]()
        var probabilities = [[[Double]]]()
        for c in children.indices {
            var feats = [[Double]]()
            var masks = [[Bool]]()
            var acts = [Int]()
            var probs = [[Double]]()
            for j in specs.indices {
                let x = features(child: c, parameter: j, phi: phi[c], snapshot: snapshots[c], progress: progress)
                let s = specs[j]
                let p = policy.forward(x).probabilities
                // Actions that cannot move the parameter (at a bound) are masked out.
                var allowed = p
                if phi[c][j] <= s.lower { allowed[0] = 0 }
                if phi[c][j] >= s.upper { allowed[2] = 0 }
                let u = children[c].rng.unit() * allowed.reduce(0, +)
                let a = u < allowed[0] ? 0 : (u < allowed[0] + allowed[1] ? 1 : 2)
                entropy -= p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
                feats.append(x)
                masks.append(allowed.map { $0 > 0 })
                acts.append(a)
                probs.append(p)
                let before = phi[c][j]
                phi[c][j] = min(max(phi[c][j] + Double(a - 1) * s.step, s.lower), s.upper)
                children[c].lastChange[j] = phi[c][j] - before
            }
            children[c].lastActions = acts
            children[c].pending.append(PendingAction(features: feats, actions: acts, allowed: masks, step: children[c].targets.count - 1))
            actions.append(acts)
            probabilities.append(probs)
        }
        steps += 1
        return ControllerStep(
            step: steps, rewards: rewards, baseline: baseline, meanAdvantage: advantageMean,
            entropy: entropy / Double(children.count * specs.count), actions: actions, probabilities: probabilities)
    }

    /// Gradient of log of the renormalised probability over the allowed actions:
    /// grad log p_a - sum_b in allowed (p_b / Z) grad log p_b.
    func maskedLogProbabilityGradient(_ x: [Double], action: Int, allowed: [Bool]) -> [Double] {
        var g = policy.logProbabilityGradient(x, action: action)
        if allowed.allSatisfy({ $0 }) { return g }
        let p = policy.forward(x).probabilities
        let z = (0..<3).reduce(0.0) { $0 + (allowed[$1] ? p[$1] : 0) }
        for b in 0..<3 where allowed[b] {
            let gb = policy.logProbabilityGradient(x, action: b)
            for k in g.indices { g[k] -= p[b] / z * gb[k] }
        }
        return g
    }

    func shape(_ delta: Double) -> Double {
        let d = abs(delta) <= config.deadband ? 0 : delta
        switch config.reward {
        case .sign: return d > 0 ? 1 : (d < 0 ? -1 : 0)
        case .scaled: return improvementScale > 0 ? max(-3, min(3, d / improvementScale)) : (d > 0 ? 1 : (d < 0 ? -1 : 0))
        }
    }

    mutating func updateScale(_ magnitude: Double) {
        improvementScale = improvementScale == 0 ? magnitude : 0.9 * improvementScale + 0.1 * magnitude
    }

    /// Adds the gradient of the policy entropy H(pi(.|x)) times the bonus weight.
    func addEntropyGradient(_ x: [Double], into gradient: inout [Double]) {
        let p = policy.forward(x).probabilities
        // With w_a = -p_a (log p_a + H), sum_a w_a = 0, so sum_a w_a * grad log p_a = grad H.
        let h = -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
        for a in 0..<3 where p[a] > 0 {
            let weight = -p[a] * (log(p[a]) + h)
            let g = policy.logProbabilityGradient(x, action: a)
            for k in gradient.indices { gradient[k] += config.entropyBonus * weight * g[k] }
        }
    }

    mutating func adamAscend(_ gradient: [Double]) {
        adamT += 1
        let beta1 = 0.9, beta2 = 0.999, eps = 1e-8
        var theta = policy.parameters
        let c1 = 1 - pow(beta1, Double(adamT)), c2 = 1 - pow(beta2, Double(adamT))
        for k in theta.indices {
            adamM[k] = beta1 * adamM[k] + (1 - beta1) * gradient[k]
            adamV[k] = beta2 * adamV[k] + (1 - beta2) * gradient[k] * gradient[k]
            theta[k] += config.learningRate * (adamM[k] / c1) / ((adamV[k] / c2).squareRoot() + eps)
        }
        policy.parameters = theta
    }
}

/// What one controller step did, for `history.jsonl`.
public struct ControllerStep: Sendable {
    /// Controller step number (1-based).
    public var step: Int
    /// The reward credited this step to each child's earliest judged action (nil before any).
    public var rewards: [Double?]
    /// The baseline after the update.
    public var baseline: Double
    /// Mean advantage of the update.
    public var meanAdvantage: Double
    /// Mean policy entropy of the new actions (nats).
    public var entropy: Double
    /// New actions per child and parameter: 0 lower, 1 keep, 2 raise.
    public var actions: [[Int]]
    /// The action probabilities they were drawn from.
    public var probabilities: [[[Double]]]
}

/// A controller problem a user can act on.
public enum ControllerError: AlaverifyError, Sendable, Equatable {
    /// A saved policy that does not fit this loss family or controller.
    case incompatiblePolicy(String)

    public var description: String {
        switch self { case .incompatiblePolicy(let why): return "incompatible policy: \(why)" }
    }

    public var exitStatus: ExitStatus { .usage }
}
