import Foundation
import LossAlignment
import RunRecords
import Runs
import SampleData
import Testing

/// A tiny ResNet with a CosFace head on the bundled fixture: 4 channels, 16-d embeddings, batches
/// of 32 shuffled rows, 6 steps validated every 3.
let tinyResNet = [
    "--network", "resnet", "--width", "4", "--embedding", "16", "--batch-size", "32", "--steps", "6", "--interval", "3",
    "--checkpoint-interval", "3", "--validation-samples", "4", "--test-samples", "4", "--loss-control", "fixed",
]

@Suite("alaverify train --network resnet with a margin softmax (the built binary)")
struct ResNetTrainTests {
    @Test("a ResNet with a CosFace head trains on shuffled batches; the class proxies are checkpointed; split.json names the splits")
    func resnetCosFace() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["train", "--out", run.path] + tinyResNet)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("training 1 RESNET child model(s), fixed loss"), "\(r.stdout)")
        #expect(r.stdout.contains("6 steps of 32 shuffled, cosface loss"), "\(r.stdout)")
        let config = try RunConfig.read(try Data(contentsOf: run.appendingPathComponent("config.json")))
        #expect(config.network == .resnet && config.lossFamily == .cosface && config.batchSampling == .shuffled && config.batchSize == 32)
        let checkpoint = try RunFiles.read(path: run.appendingPathComponent("checkpoint.h5").path, formats: ["alaverify-checkpoint"])
        let state = try #require(checkpoint.states.first)
        #expect(state.architecture == "resnet(1x32x32,w=4,stages=3,blocks=1,e=16)")
        #expect(state.lossFamily == "margin-softmax")
        #expect(state.phiNames == ["scale", "cos_margin", "angular_margin"] && state.phi == [30, 0.35, 0])
        let proxies = try #require(state.weights.first { $0.name == "loss/loss.proxies" })
        // One proxy row of 16 per training identity of the split.
        let split = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("split.json"))) as! [String: Any]
        let ids = { (part: String) in ((split[part] as! [String: Any])["identities"] as! [Int]) }
        #expect(proxies.shape == [ids("train").count, 16])
        #expect(Set(ids("train")).isDisjoint(with: ids("test")) && Set(ids("train")).isDisjoint(with: ids("validation"))
                && Set(ids("validation")).isDisjoint(with: ids("test")))
        #expect(ids("train").count + ids("validation").count + ids("test").count == 120)
        let testRows = (split["test"] as! [String: Any])["rows"] as! [Int]
        #expect(testRows.count == ids("test").count * 4)
        // score of the model on the split reproduces the run's scores byte for byte.
        let out = dir.appendingPathComponent("s.h5").path
        let s = try CLI.run(["score", "--model", run.appendingPathComponent("model.h5").path, "--split", "test", "--out", out])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(try scoreRows(out) == scoreRows(run.appendingPathComponent("scores.h5").path))
    }

    @Test("--stop-after then --resume gives the straight ResNet run bit for bit (shuffled sampler, proxies, optimizer)")
    func resnetResume() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = dir.appendingPathComponent("straight"), resumed = dir.appendingPathComponent("resumed")
        let extra = ["--tail-fraction", "0.01", "--set", "tail_weight=4"]
        #expect(try CLI.run(["train", "--out", straight.path] + tinyResNet + extra).status == 0)
        let first = try CLI.run(["train", "--out", resumed.path, "--stop-after", "3"] + tinyResNet + extra)
        #expect(first.status == 0 && first.stdout.contains("stopped after step 3 as asked"), "\(first.stderr)")
        let second = try CLI.run(["train", "--out", resumed.path, "--resume"])
        #expect(second.status == 0, "\(second.stderr)")
        try expectSameTraining(straight, resumed, "ResNet with a tail, resumed vs straight")
    }

    @Test("bad ResNet and margin-softmax settings: one line, exit 64, no run directory", arguments: [
        (["--width", "0"], "--width must lie in 1...256"),
        (["--blocks", "9"], "--blocks must lie in 1...8"),
        (["--batch-size", "1"], "--batch-size must lie in 2...4096"),
        (["--tail-fraction", "2"], "--tail-fraction must lie in [0, 1]"),
        (["--loss", "pairwise", "--batch-size", "64"], "the pairwise loss takes P x K batches"),
        (["--loss", "banana"], "banana"),
        (["--loss-control", "fixed", "--continue-from", "mean"], "--continue-from chooses what a population of children continues from"),
        (["--loss-control", "fixed", "--children", "2", "--continue-from", "best"], "best needs --loss-control ala, search or random"),
        (["--continue-from", "worst"], "worst"),
    ])
    func badSettings(_ c: ([String], String)) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["train", "--out", run.path, "--network", "resnet", "--steps", "4"] + c.0)
        #expect(r.status == 64, "\(c.0): \(r.stderr)")
        #expect(r.stderr.contains(c.1), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "one line: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("config.json").path))
    }
}
