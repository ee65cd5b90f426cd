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
    static let spec = ParameterSpec(name: "margin", kind: .margin, lower: 0, upper: 1, step: 0.05)

    /// Toy task: the validation target is (phi - 0.7)^2 plus seeded noise; a working controller
    /// moves phi from 0.2 toward 0.7, because raising is rewarded below 0.7 and lowering above.
    func run(seed: UInt64, steps: Int, children: Int, noise: Double) -> [[Double]] {
        trajectory(seed: seed, steps: steps, children: children, noise: noise).last!
    }

    /// Every child's parameters after every controller step.
    func trajectory(seed: UInt64, steps: Int, children: Int, noise: Double) -> [[[Double]]] {
        var history = [[[Double]]]()
        var controller = ALAController(specs: [Self.spec], initial: [0.2], children: children, seed: seed)
        var phi = [[Double]](repeating: [0.2], count: children)
        var rng = SeededGenerator(seed: seed ^ 0xBEEF)
        for s in 0..<steps {
            let snapshots = phi.map { p in
                ValidationSnapshot(
                    target: (p[0] - 0.7) * (p[0] - 0.7) + noise * (rng.unit() - 0.5), neighbours: [], genuineBinMass: [],
                    impostorBinMass: [])
            }
            _ = controller.step(snapshots: snapshots, phi: &phi, progress: Double(s) / Double(steps))
            history.append(phi)
        }
        return history
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func learnsToMoveAParameterTowardTheOptimum(seed: UInt64) {
        let phi = run(seed: seed, steps: 300, children: 4, noise: 0.001)
        let mean = phi.map { $0[0] }.reduce(0, +) / Double(phi.count)
        // A policy that never learned would random-walk around its start (0.2) or drift to an edge.
        #expect(abs(mean - 0.7) < 0.15, "seed \(seed): children ended at \(phi.map { $0[0] })")
    }

    @Test func sameSeedGivesTheSameTrajectory() {
        let a = trajectory(seed: 9, steps: 50, children: 2, noise: 0.01)
        #expect(a == trajectory(seed: 9, steps: 50, children: 2, noise: 0.01))
        #expect(a != trajectory(seed: 10, steps: 50, children: 2, noise: 0.01))
    }

    @Test func parametersStayInsideTheirRange() {
        let spec = ParameterSpec(name: "scale", kind: .scale, lower: 1, upper: 2, step: 0.4)
        var controller = ALAController(specs: [spec], initial: [1.9], children: 1, seed: 4)
        var phi = [[1.9]]
        for _ in 0..<100 {
            let snap = ValidationSnapshot(target: 0.5, neighbours: [], genuineBinMass: [], impostorBinMass: [])
            _ = controller.step(snapshots: [snap], phi: &phi, progress: 0.5)
            #expect(phi[0][0] >= 1 && phi[0][0] <= 2)
        }
    }

    @Test func signRewardCreditsImprovementToThePreviousAction() {
        var controller = ALAController(specs: [Self.spec], initial: [0.5], children: 1, seed: 5)
        var phi = [[0.5]]
        func snap(_ t: Double) -> ValidationSnapshot {
            ValidationSnapshot(target: t, neighbours: [], genuineBinMass: [], impostorBinMass: [])
        }
        let first = controller.step(snapshots: [snap(0.30)], phi: &phi, progress: 0)
        #expect(first.rewards == [nil])  // nothing to judge yet
        let second = controller.step(snapshots: [snap(0.25)], phi: &phi, progress: 0.1)
        #expect(second.rewards == [1])  // target fell: improvement
        let third = controller.step(snapshots: [snap(0.40)], phi: &phi, progress: 0.2)
        #expect(third.rewards == [-1])
        let fourth = controller.step(snapshots: [snap(0.40)], phi: &phi, progress: 0.3)
        #expect(fourth.rewards == [0])
    }

    @Test func incompatiblePolicyIsRefused() {
        var controller = ALAController(specs: [Self.spec], initial: [0.5], children: 1, seed: 5)
        #expect(throws: ControllerError.self) { try controller.loadPolicy(PolicyNetwork(inputs: 3, seed: 1)) }
    }
}
