import AlaverifyBase
import Foundation
import Testing
@testable import LossAlignment

@Suite struct PolicyNetworkTests {
    @Test func logProbabilityGradientMatchesFiniteDifferences() {
        let net = PolicyNetwork(inputs: 5, hidden: 4, seed: 3)
        let x = [0.3, -0.7, 1.2, 0.05, -0.4]
        for action in 0..<3 {
            let analytic = net.logProbabilityGradient(x, action: action)
            let theta = net.parameters
            for k in theta.indices {
                var plus = net, minus = net
                var tp = theta, tm = theta
                tp[k] += 1e-6
                tm[k] -= 1e-6
                plus.parameters = tp
                minus.parameters = tm
                let numeric = (Foundation.log(plus.forward(x).probabilities[action])
                    - Foundation.log(minus.forward(x).probabilities[action])) / 2e-6
                #expect(abs(numeric - analytic[k]) < 1e-6, "weight \(k), action \(action): \(numeric) vs \(analytic[k])")
            }
        }
    }

    @Test func probabilitiesAreADistribution() {
        let net = PolicyNetwork(inputs: 3, hidden: 8, seed: 1)
        let p = net.forward([1, 2, 3]).probabilities
        #expect(p.count == 3)
        #expect(abs(p.reduce(0, +) - 1) < 1e-12)
        #expect(p.allSatisfy { $0 > 0 })
    }
}

@Suite struct ControllerTests {
    static let margin = ParameterSpec(name: "cos_margin", kind: .margin, lower: 0, upper: 1, step: 0.05)
    static let other = ParameterSpec(name: "angular_margin", kind: .margin, lower: 0, upper: 1, step: 0.05)

    func snapshot(_ cost: Double, halves: [Double] = []) -> ValidationSnapshot {
        ValidationSnapshot(target: cost, neighbours: [], genuineBinMass: [], impostorBinMass: [], halves: halves)
    }

    /// One episode of the toy task: the validation cost is (phi - 0.7)^2 plus seeded noise; each
    /// round the children are judged, and all continue from the best (as a run does). The
    /// controller must have been made with `start` as its initial value.
    func episode(_ controller: inout ALAController, start: Double, rounds: Int, noise: Double, seed: UInt64) -> [Double] {
        var phi = [[Double]](repeating: [start, 0.3], count: controller.children)
        var rng = SeededGenerator(seed: seed ^ 0xBEEF)
        _ = controller.begin(phi: &phi, progress: 0)
        var centers: [Double] = []
        for r in 0..<rounds {
            let snaps = phi.map { p in snapshot((p[0] - 0.7) * (p[0] - 0.7) + noise * (rng.unit() - 0.5)) }
            let step = controller.step(snapshots: snaps, phi: &phi, progress: Double(r + 1) / Double(rounds))
            centers.append(controller.center[0])
            #expect(step.best != nil)
        }
        return centers
    }

    @Test("every policy's population climbs toward the optimum (selection of the better mirrored child)",
          arguments: [ControlPolicy.learned, .search, .random])
    func populationClimbs(_ policy: ControlPolicy) {
        var config = ControllerConfig()
        config.policy = policy
        var controller = ALAController(specs: [Self.margin, Self.other], steered: [0], initial: [0.2, 0.3], children: 2,
                                       targetFAR: 1e-4, config: config, seed: 3)
        let centers = episode(&controller, start: 0.2, rounds: 60, noise: 0.0001, seed: 3)
        #expect(abs(centers.last! - 0.7) < 0.16, "\(policy): ended at \(centers.last!)")
        #expect(controller.center[1] == 0.3, "an unsteered parameter stays")
    }

    @Test("a policy learned over episodes steers a fresh single run toward the optimum, random moves do not; its actions depend on its state")
    func learnedPolicyTransfers() throws {
        var config = ControllerConfig()
        config.learningRate = 0.003
        var policy: PolicyNetwork?
        for e in 0..<120 {
            let start = e % 2 == 0 ? 0.05 : 0.95
            var controller = ALAController(specs: [Self.margin, Self.other], steered: [0], initial: [start, 0.3], children: 2,
                                           targetFAR: 1e-4, config: config, seed: UInt64(100 + e))
            if let policy { try controller.loadPolicy(policy) }
            _ = episode(&controller, start: start, rounds: 10, noise: 0.0001, seed: UInt64(e))
            policy = controller.policy
        }
        // (A slow learning rate: a fast one lets the first episodes' direction take over everywhere.)
        // Fresh single-child episodes from both ends (no comparison, no selection: the policy's
        // moves are applied), with the learned policy and with random moves.
        func distance(_ kind: ControlPolicy, seed: UInt64) throws -> Double {
            var c = config
            c.policy = kind
            var total = 0.0
            for start in [0.05, 0.95] {
                var controller = ALAController(specs: [Self.margin, Self.other], steered: [0], initial: [start, 0.3], children: 1,
                                               targetFAR: 1e-4, config: c, seed: seed)
                if kind == .learned { try controller.loadPolicy(policy!) }
                total += abs(episode(&controller, start: start, rounds: 16, noise: 0.0001, seed: seed).last! - 0.7)
            }
            return total / 2
        }
        var learned = 0.0, random = 0.0
        for seed: UInt64 in 1...5 {
            learned += try distance(.learned, seed: 1000 + seed) / 5
            random += try distance(.random, seed: 1000 + seed) / 5
        }
        #expect(learned < random - 0.1, "after 16 rounds: learned policy \(learned) from the optimum, random \(random)")
        // The action probabilities move with the state (the parameter's value, and the cost it gives).
        var probe = ALAController(specs: [Self.margin, Self.other], steered: [0], initial: [0.2, 0.3], children: 2,
                                  targetFAR: 1e-4, config: config, seed: 1)
        try probe.loadPolicy(policy!)
        probe.center = [0.2, 0.3]
        let below = probe.probabilities(0, probe.features(0, snapshot: snapshot(0.25), progress: 0.5))
        probe.center = [0.95, 0.3]
        let above = probe.probabilities(0, probe.features(0, snapshot: snapshot(0.0625), progress: 0.5))
        #expect(below[2] > below[0] && above[0] > above[2], "at 0.2: \(below), at 0.95: \(above)")
    }

    @Test("pairs compare two different losses around the best child; rewards are centred; only steered parameters move")
    func pairsAroundTheBest() {
        let scale = ParameterSpec(name: "scale", kind: .scale, lower: 1, upper: 64, step: 1)
        let initial: [Double] = [30, 0.35, 0]
        var controller = ALAController(specs: [scale, Self.margin, Self.other], steered: [0, 1], initial: initial,
                                       children: 4, targetFAR: 1e-3, seed: 7)
        var phi = [[Double]](repeating: initial, count: 4)
        func check(_ center: [Double]) {
            for c in 0..<4 {
                for j in 0..<2 {
                    let moves = [-1.0, 0, 1].map { center[j] + $0 * [1, 0.05][j] }
                    #expect(moves.contains { abs($0 - phi[c][j]) < 1e-9 }, "child \(c) parameter \(j): \(phi[c][j])")
                }
                #expect(phi[c][2] == center[2], "the unsteered parameter stays")
            }
            #expect(phi[0] != phi[1] && phi[2] != phi[3], "each pair compares two different losses")
        }
        _ = controller.begin(phi: &phi, progress: 0)
        check(initial)
        let before = phi
        let step = controller.step(snapshots: [0.5, 0.4, 0.6, 0.5].map { snapshot($0) }, phi: &phi, progress: 0.1)
        #expect(step.best == 1)
        #expect(controller.center == before[1], "the next round starts from the best child")
        check(before[1])
        let rewards = step.rewards.compactMap { $0 }
        let total = rewards.reduce(0, +), spread = rewards.max()! - rewards.min()!
        #expect(abs(total) < 1e-12)
        #expect(rewards[1] == rewards.max()!)
        #expect(abs(spread - 1) < 1e-12)
    }

    @Test("the reliability count compares the first pair's ranking on the two validation halves")
    func halvesAgreement() {
        var controller = ALAController(specs: [Self.margin], steered: [0], initial: [0.5], children: 2, targetFAR: 1e-4, seed: 2)
        var phi = [[0.5], [0.5]]
        _ = controller.begin(phi: &phi, progress: 0)
        _ = controller.step(snapshots: [snapshot(0.3, halves: [0.2, 0.4]), snapshot(0.4, halves: [0.3, 0.5])], phi: &phi, progress: 0.2)
        _ = controller.step(snapshots: [snapshot(0.3, halves: [0.2, 0.5]), snapshot(0.4, halves: [0.3, 0.4])], phi: &phi, progress: 0.4)
        _ = controller.step(snapshots: [snapshot(0.3, halves: [0.2, 0.4]), snapshot(0.4, halves: [0.2, 0.5])], phi: &phi, progress: 0.6)
        #expect(controller.halvesAgree == 1 && controller.halvesDisagree == 1, "a tie on a half counts neither")
    }

    @Test func sameSeedGivesTheSameTrajectory() {
        func run(_ seed: UInt64) -> [Double] {
            var c = ALAController(specs: [Self.margin], steered: [0], initial: [0.2], children: 2, targetFAR: 1e-4, seed: seed)
            return episode(&c, start: 0.2, rounds: 30, noise: 0.01, seed: seed)
        }
        #expect(run(9) == run(9))
        #expect(run(9) != run(10))
    }

    @Test func parametersStayInsideTheirRange() {
        let spec = ParameterSpec(name: "scale", kind: .scale, lower: 1, upper: 2, step: 0.4)
        var controller = ALAController(specs: [spec], steered: [0], initial: [1.9], children: 2, targetFAR: nil, seed: 4)
        var phi = [[1.9], [1.9]]
        _ = controller.begin(phi: &phi, progress: 0)
        for _ in 0..<100 {
            _ = controller.step(snapshots: [snapshot(0.5), snapshot(0.4)], phi: &phi, progress: 0.5)
            #expect(phi.allSatisfy { $0[0] >= 1 && $0[0] <= 2 })
        }
    }

    @Test("random draws uniformly and learns nothing; search learns stateless probabilities")
    func randomAndSearch() {
        for policy in [ControlPolicy.random, .search] {
            var config = ControllerConfig()
            config.policy = policy
            var c = ALAController(specs: [Self.margin], steered: [0], initial: [0.2], children: 2, targetFAR: 1e-4, config: config, seed: 5)
            _ = episode(&c, start: 0.2, rounds: 20, noise: 0, seed: 5)
            let p = c.probabilities(0, [])
            let uniform: [Double] = [1.0 / 3, 1.0 / 3, 1.0 / 3]
            if policy == .random { #expect(p == uniform) } else { #expect(p[2] > p[0], "raising won below 0.7: \(p)") }
        }
    }

    @Test func incompatiblePolicyIsRefused() {
        var controller = ALAController(specs: [Self.margin], steered: [0], initial: [0.5], children: 2, targetFAR: 1e-4, seed: 5)
        #expect(throws: ControllerError.self) { try controller.loadPolicy(PolicyNetwork(inputs: 3, seed: 1)) }
    }
}
