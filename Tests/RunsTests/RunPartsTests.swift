import AlaverifyBase
import Foundation
import RunRecords
import ScoreMetrics
import Testing
import Training
@testable import Runs

@Suite("A run's parts: its config, settings and reward/selection rule")
struct RunPartsTests {
    @Test("config.json: typed values are written as the strings they always were, and read back")
    func configText() throws {
        var config = RunConfig.defaults(data: "d.h5")
        config.lossControl = .fixed
        config.network = .mlp
        let text = try config.json()
        #expect(text.contains(#""target" : "frr@far=1e-3""#) && text.contains(#""network" : "mlp""#))
        #expect(text.contains(#""lossControl" : "fixed""#) && !text.contains(#""loss" :"#))
        #expect(try RunConfig.read(Data(text.utf8)) == config)
        // A config of another spelling of the target reads as the same metric.
        let other = text.replacingOccurrences(of: "frr@far=1e-3", with: "frr@far=0.001")
        #expect(try RunConfig.read(Data(other.utf8)).target == .frrAtFAR(1e-3))
        #expect(throws: (any Error).self) { try RunConfig.read(Data(text.replacingOccurrences(of: "\"mlp\"", with: "\"rnn\"").utf8)) }
    }

    @Test("a setting that cannot work names config keys in the library and the caller's names in its message", arguments: [
        ("steps", "steps must be positive", "--steps must be positive"),
        ("checkpointInterval", "checkpointInterval must be a positive multiple of interval (50)",
         "--checkpoint-interval must be a positive multiple of --interval (50)"),
        ("batch", "a batch may hold at most 4096 samples (identitiesPerBatch x samplesPerIdentity), got 16 x 1000",
         "a batch may hold at most 4096 samples (--identities-per-batch x --samples-per-identity), got 16 x 1000"),
    ])
    func settingMessages(_ c: (String, String, String)) throws {
        var config = RunConfig.defaults(data: "d.h5")
        switch c.0 {
        case "steps": config.steps = 0
        case "checkpointInterval": config.checkpointInterval = 75
        default: config.samplesPerIdentity = 1000
        }
        do {
            try config.check()
            Issue.record("\(c.0): accepted")
        } catch {
            #expect(error.description == c.1 && error.exitStatus == .usage)
            let flag: (RunSetting) -> String = { "--" + $0.rawValue.reduce(into: "") { $0 += $1.isUppercase ? "-" + $1.lowercased() : String($1) } }
            #expect(error.message(naming: flag) == c.2)
        }
        #expect(throws: Never.self) { try RunConfig.defaults(data: "d.h5").check() }
    }

    /// Scores whose metrics are easy to derive by hand: 4 genuine, 8 impostor.
    static let genuine: [Float] = [0.9, 0.7, 0.5, -0.2]
    static let impostor: [Float] = [0.8, 0.3, 0.1, 0.0, -0.1, -0.3, -0.5, -0.9]

    @Test("the target's value comes from the metric engine; the reward and the selection use its cost")
    func targetValueAndCost() throws {
        var config = RunConfig.defaults(data: "d.h5")
        config.bins = 4
        config.rewardBand = 1
        for target in [Metric.frrAtFAR(0.25), .eer, .rocAUC, .partialAUC(0.5)] {
            config.target = target
            let evaluator = TargetEvaluator(config)
            let v = try evaluator.validate(genuine: Self.genuine, impostor: Self.impostor)
            let engine = try SortedScores(ScoreSet(genuine: Self.genuine, impostor: Self.impostor))
                .evaluate(EvaluationOptions(metrics: [target], interval: .none))
            let value = try #require(engine.value(of: target))
            #expect(v.result.value == value && v.result.target == target, "\(target)")
            #expect(v.result.rewardValue == target.cost(value) && v.snapshot.target == target.cost(value), "\(target)")
            #expect(evaluator.cost(v.result) == (target.lowerIsBetter ? value : 1 - value), "\(target)")
            #expect(v.result.eer == engine.eer?.value && v.result.rocAUC == engine.rocAUC)
        }
        // frr@far=0.25: 2 of 8 impostors are accepted at t = 0.3 (score >= t), 1 of 4 genuine falls below it.
        config.target = .frrAtFAR(0.25)
        #expect(try TargetEvaluator(config).validate(genuine: Self.genuine, impostor: Self.impostor).result.value == 0.25)
    }

    @Test("with a FAR band the reward averages FRR at five FARs around the target; neighbours at a/10 and 10a")
    func rewardBand() throws {
        var config = RunConfig.defaults(data: "d.h5")
        config.target = .frrAtFAR(0.25)
        config.rewardBand = 2
        let evaluator = TargetEvaluator(config)
        let v = try evaluator.validate(genuine: Self.genuine, impostor: Self.impostor)
        let sorted = SortedScores(try ScoreSet(genuine: Self.genuine, impostor: Self.impostor))
        let rates = [-1.0, -0.5, 0, 0.5, 1].map { 0.25 * pow(2, $0) }
        #expect(evaluator.rewardRates == rates)
        let expected = rates.map { sorted.operatingPoint(.frrAtFAR($0)).frr ?? 1 }.reduce(0, +) / 5
        #expect(v.result.rewardValue == expected && v.snapshot.target == expected)
        #expect(v.result.frrNeighbours == [0.025, 0.5].map { sorted.operatingPoint(.frrAtFAR($0)).frr ?? 1 })
    }

    @Test("bin masses: the fraction of each class's scores in each of the loss's similarity bins")
    func binMasses() throws {
        var config = RunConfig.defaults(data: "d.h5")
        config.bins = 4
        let v = try TargetEvaluator(config).validate(genuine: Self.genuine, impostor: Self.impostor)
        // Bins [-1, -0.5), [-0.5, 0), [0, 0.5), [0.5, 1].
        #expect(v.snapshot.genuineBinMass == [0, 0.25, 0, 0.75])
        #expect(v.snapshot.impostorBinMass == [0.125, 0.375, 0.375, 0.125])
        #expect(PairwiseBinnedLoss(bins: 4, memoryCapacity: 0).bin(-0.5) == PairwiseBinnedLoss.bin(-0.5, bins: 4))
    }
}
