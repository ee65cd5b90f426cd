import AlaverifyBase
import Foundation

/// Adaptive Loss Alignment on a population of comparable children.
///
/// Every round all children start from the same state (the trunk: weights, optimizer, loss
/// state, sampler), see the same batches and are validated on the same pairs; they differ only
/// in the loss parameters the controller chose for them. Children come in pairs with antithetic
/// draws: for each steered parameter the pair's first child draws an action in {lower, keep,
/// raise} from the policy with a uniform u, the second with 1 - u — mirrored moves while the
/// policy is undecided; once it is confident the second keeps the parameter instead of making
/// the same move, so a pair always compares the policy's move with an alternative and a wrong
/// confident move is caught by the selection. Each child's reward is its
/// validation cost relative to the others' (`(mean - cost) / (max - min)`), so seeds, batches
/// and the trunk's progress cancel out; the run then continues every child from the best one
/// (population-based, as AM-LFS and PBT).
///
/// How actions are drawn (`ControlPolicy`): `.learned`, a policy network on the state (target,
/// progress, validation FRRs around the target, the threshold, the round's improvement, the
/// parameter's value and kind), updated by REINFORCE from every child's transition; `.search`,
/// stateless per-parameter action probabilities updated the same way; `.random`, uniform.
/// Deterministic for a seed.
public struct ALAController: Sendable, Codable {
    /// All loss parameters, in the loss's order.
    public let specs: [ParameterSpec]
    /// The indices of the parameters it steers.
    public let steered: [Int]
    /// Settings.
    public let config: ControllerConfig
    /// The target's level as a policy feature: -log10(FAR) / 6 (0 for other targets).
    public let targetLevel: Double
    /// Children per round: an even number, or 1 (a single run steered by a warm-started policy:
    /// its moves are applied without comparison, and nothing is learned).
    public let children: Int
    /// The learned policy (used with `.learned`).
    public private(set) var policy: PolicyNetwork
    /// Stateless action logits per steered parameter (used with `.search`).
    public private(set) var logits: [[Double]]
    /// Rounds judged so far.
    public private(set) var steps = 0
    /// Rounds whose two validation halves agreed / disagreed on which child of the first pair is better.
    public private(set) var halvesAgree = 0
    public private(set) var halvesDisagree = 0

    var adamM: [Double]
    var adamV: [Double]
    var adamT = 0
    var rng: SeededGenerator
    /// The trunk's parameters and validation cost after the last round.
    var center: [Double]
    var lastCost: Double?
    /// Per steered parameter: +1 when raising it won the last round, -1 when lowering did, 0 otherwise.
    var lastDirection: [Double]
    /// Per steered parameter: the first child's last action (0 lower, 1 keep, 2 raise).
    var lastAction: [Int]
    /// This round's transitions: per child, per steered parameter, the features and the action.
    var pendingFeatures: [[[Double]]] = []
    var pendingActions: [[Int]] = []

    /// Number of features per parameter state.
    public static let featureCount = 8 + ParameterKind.allCases.count

    /// A controller steering `steered` of `specs` from the initial values `initial`, for a target
    /// at FAR `targetFAR` (nil for other targets).
    public init(specs: [ParameterSpec], steered: [Int], initial: [Double], children: Int, targetFAR: Double?,
                config: ControllerConfig = .init(), seed: UInt64) {
        precondition(!specs.isEmpty && initial.count == specs.count && children >= 1 && (children == 1 || children % 2 == 0))
        precondition(!steered.isEmpty && steered.allSatisfy { specs.indices.contains($0) })
        self.specs = specs
        self.steered = steered
        self.config = config
        self.children = children
        targetLevel = targetFAR.map { -log10($0) / 6 } ?? 0
        policy = PolicyNetwork(inputs: Self.featureCount, hidden: config.hidden, seed: seed)
        logits = Array(repeating: [0, 0, 0], count: steered.count)
        adamM = [Double](repeating: 0, count: policy.parameterCount)
        adamV = adamM
        rng = SeededGenerator(seed: seed, stream: 0xC0DE)
        center = initial
        lastDirection = Array(repeating: 0, count: steered.count)
        lastAction = Array(repeating: 1, count: steered.count)
    }

    /// Replaces the policy (warm start from a saved policy); shapes must match.
    public mutating func loadPolicy(_ network: PolicyNetwork) throws(ControllerError) {
        guard network.inputs == policy.inputs, network.hidden == policy.hidden else {
            throw .incompatiblePolicy(
                "policy has \(network.inputs) inputs x \(network.hidden) hidden units, this controller needs \(policy.inputs) x \(policy.hidden)")
        }
        policy = network
    }

    /// The state features of steered parameter `k` (index into `steered`).
    func features(_ k: Int, snapshot: ValidationSnapshot?, progress: Double) -> [Double] {
        let spec = specs[steered[k]]
        var x: [Double] = [progress, targetLevel]
        if let s = snapshot {
            x += [s.target, s.neighbours.first ?? s.target, s.neighbours.dropFirst().first ?? s.target, s.threshold ?? 0]
            x.append(lastCost.map { 10 * ($0 - s.target) } ?? 0)
        } else {
            x += [1, 1, 1, 0, 0]
        }
        x.append((center[steered[k]] - spec.lower) / (spec.upper - spec.lower))
        for kind in ParameterKind.allCases { x.append(kind == spec.kind ? 1 : 0) }
        return x
    }

    /// Action probabilities for steered parameter `k` in state `x`.
    func probabilities(_ k: Int, _ x: [Double]) -> [Double] {
        switch config.policy {
        case .learned: return policy.forward(x).probabilities
        case .search:
            let m = logits[k].max()!
            let e = logits[k].map { exp($0 - m) }
            let z = e.reduce(0, +)
            return e.map { $0 / z }
        case .random: return [1.0 / 3, 1.0 / 3, 1.0 / 3]
        }
    }

    /// The first round's parameters (before any validation).
    public mutating func begin(phi: inout [[Double]], progress: Double) -> ControllerStep {
        assign(phi: &phi, snapshot: nil, progress: progress, rewards: Array(repeating: nil, count: children), best: nil)
    }

    /// One round after every child was validated: rewards from the children's costs, a policy
    /// update, the best child, and the next round's parameters around the best child's.
    public mutating func step(snapshots: [ValidationSnapshot], phi: inout [[Double]], progress: Double) -> ControllerStep {
        precondition(snapshots.count == children && phi.count == children)
        let costs = snapshots.map(\.target)
        let best = costs.indices.min { costs[$0] < costs[$1] || (costs[$0] == costs[$1] && $0 < $1) }!
        let mean = costs.reduce(0, +) / Double(costs.count)
        let range = costs.max()! - costs.min()!
        let rewards = costs.map { range > 0 ? (mean - $0) / range : 0 }
        if !pendingActions.isEmpty && children > 1 { update(rewards: rewards) }
        // Which direction won, per steered parameter, for the next state.
        for k in steered.indices {
            let a = pendingActions.isEmpty ? 1 : pendingActions[best][k]
            lastDirection[k] = Double(a - 1)
            lastAction[k] = pendingActions.isEmpty ? 1 : pendingActions[0][k]
        }
        if snapshots.count >= 2, snapshots[0].halves.count == 2, snapshots[1].halves.count == 2 {
            let a = snapshots[0].halves[0] - snapshots[1].halves[0], b = snapshots[0].halves[1] - snapshots[1].halves[1]
            if a != 0 && b != 0 {
                if (a > 0) == (b > 0) { halvesAgree += 1 } else { halvesDisagree += 1 }
            }
        }
        center = phi[best]
        let step = assign(phi: &phi, snapshot: snapshots[best], progress: progress, rewards: rewards.map { $0 }, best: best)
        lastCost = costs[best]
        steps += 1
        return step
    }

    /// Draws this round's mirrored actions around `center` and writes every child's parameters.
    private mutating func assign(phi: inout [[Double]], snapshot: ValidationSnapshot?, progress: Double, rewards: [Double?],
                                 best: Int?) -> ControllerStep {
        let xs = steered.indices.map { features($0, snapshot: snapshot, progress: progress) }
        let ps = steered.indices.map { probabilities($0, xs[$0]) }
        pendingFeatures = Array(repeating: xs, count: children)
        pendingActions = Array(repeating: Array(repeating: 1, count: steered.count), count: children)
        var actionsAll = Array(repeating: Array(repeating: 1, count: specs.count), count: children)
        var entropy = 0.0
        if children == 1 {
            // One child: the policy's moves are applied as drawn.
            var only = center
            for (k, j) in steered.enumerated() {
                let p = ps[k], u = rng.unit(), s = specs[j]
                let a = u < p[0] ? 0 : (u < p[0] + p[1] ? 1 : 2)
                only[j] = min(max(center[j] + Double(a - 1) * s.step, s.lower), s.upper)
                pendingActions[0][k] = a
                actionsAll[0][j] = a
                entropy -= p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
            }
            phi[0] = only
        }
        for pair in 0..<(children / 2) {
            var first = center, second = center
            for (k, j) in steered.enumerated() {
                let p = ps[k]
                // Antithetic draws: u for the first child, 1 - u for the second, so an undecided
                // policy tests both directions while a confident one moves both children alike.
                let u = rng.unit()
                func draw(_ v: Double) -> Int { v < p[0] ? 0 : (v < p[0] + p[1] ? 1 : 2) }
                let a = draw(u)
                var b = draw(1 - u)
                // The second child is the first's control: where both would move alike, it keeps.
                if b == a && a != 1 { b = 1 }
                let s = specs[j]
                first[j] = min(max(center[j] + Double(a - 1) * s.step, s.lower), s.upper)
                second[j] = min(max(center[j] + Double(b - 1) * s.step, s.lower), s.upper)
                pendingActions[2 * pair][k] = a
                pendingActions[2 * pair + 1][k] = b
                actionsAll[2 * pair][j] = a
                actionsAll[2 * pair + 1][j] = b
                entropy -= p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
            }
            if first == second, let k = steered.indices.first {
                // A pair must compare two different losses: the control moves the first steered parameter.
                let j = steered[k], s = specs[j]
                let b = center[j] < s.upper ? 2 : 0
                second[j] = min(max(center[j] + Double(b - 1) * s.step, s.lower), s.upper)
                pendingActions[2 * pair + 1][k] = b
                actionsAll[2 * pair + 1][j] = b
            }
            phi[2 * pair] = first
            phi[2 * pair + 1] = second
        }
        return ControllerStep(
            step: steps, rewards: rewards, baseline: 0, meanAdvantage: 0,
            entropy: entropy / Double(max(1, max(1, children / 2) * steered.count)), actions: actionsAll,
            probabilities: Array(repeating: ps, count: children), best: best)
    }

    /// REINFORCE on every child's transitions of the round, rewards centred within the population.
    private mutating func update(rewards: [Double]) {
        switch config.policy {
        case .random: return
        case .search:
            for k in steered.indices {
                let p = probabilities(k, [])
                var g = [0.0, 0.0, 0.0]
                for c in 0..<children {
                    let a = pendingActions[c][k]
                    for b in 0..<3 { g[b] += rewards[c] * ((b == a ? 1 : 0) - p[b]) }
                }
                for b in 0..<3 { logits[k][b] += config.learningRate * g[b] / Double(children) }
            }
        case .learned:
            var gradient = [Double](repeating: 0, count: policy.parameterCount)
            var terms = 0
            for c in 0..<children {
                for k in steered.indices {
                    let x = pendingFeatures[c][k]
                    let g = policy.logProbabilityGradient(x, action: pendingActions[c][k])
                    for i in gradient.indices { gradient[i] += rewards[c] * g[i] }
                    if config.entropyBonus > 0 { addEntropyGradient(x, into: &gradient) }
                    terms += 1
                }
            }
            for i in gradient.indices { gradient[i] /= Double(max(terms, 1)) }
            adamAscend(gradient)
        }
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

/// What one controller round did, for `history.jsonl`.
public struct ControllerStep: Sendable {
    /// Rounds judged before this one.
    public var step: Int
    /// Each child's reward for the round just judged (nil at the first round).
    public var rewards: [Double?]
    /// The baseline (0: rewards are centred within the population).
    public var baseline: Double
    /// Mean advantage of the update.
    public var meanAdvantage: Double
    /// Mean policy entropy of the new actions (nats).
    public var entropy: Double
    /// New actions per child and parameter: 0 lower, 1 keep, 2 raise.
    public var actions: [[Int]]
    /// The action probabilities of each steered parameter they were drawn from.
    public var probabilities: [[[Double]]]
    /// The child every child continues from (nil at the first round).
    public var best: Int?
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

extension SeededGenerator: Codable {
    public init(from decoder: Decoder) throws {
        self.init(seed: try decoder.singleValueContainer().decode(UInt64.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(state)
    }
}
