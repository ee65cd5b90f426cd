import AlaverifyBase
import Foundation
import Runs
import SampleData
import ScoreMetrics
import Testing
import Training

@Suite("alaverify train and score (the built binary)")
struct TrainCommandTests {
    @Test("the run directory holds the config, history, checkpoint, model, policy and test scores")
    func runDirectory() throws {
        let dir = try straightRun.get()
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(names == ["config.json", "split.json", "history.jsonl", "checkpoint.h5", "model.h5", "policy.h5", "scores.h5"])
        let config = try RunConfig.read(try Data(contentsOf: dir.appendingPathComponent("config.json")))
        #expect(config.steps == 8 && config.interval == 4 && config.children == 2 && config.width == 4 && config.embedding == 16)
        #expect(config.lossControl == .ala && config.target == .frrAtFAR(1e-3) && config.warmupSteps == 0)
        #expect(config.continueFrom == .mean && config.mergesByMean, "a new population continues from its mean")
        // One history line per child per validation: steps 4 and 8, children 0 and 1, in that order.
        let lines = try String(contentsOf: dir.appendingPathComponent("history.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        var seen = [[Int]]()
        for line in lines {
            let record = try JSONValue.parse(Data(line.utf8))
            guard case .int(let step)? = record["step"], case .int(let child)? = record["child"] else {
                Issue.record("no step/child in \(line)")
                continue
            }
            seen.append([step, child])
            #expect(record["validation"]?["target"] == .string("frr@far=1e-3"))
            guard case .object(let parameters)? = record["loss_parameters"], case .array(let actions)? = record["actions"] else {
                Issue.record("no loss_parameters/actions in \(line)")
                continue
            }
            #expect(parameters.count == 4 + 2 * 8 && actions.count == parameters.count)
        }
        #expect(seen == [[4, 0], [4, 1], [8, 0], [8, 1]])
        // The checkpoint is at the last step for both children; the model is one child's state.
        let checkpoint = try RunFiles.read(path: dir.appendingPathComponent("checkpoint.h5").path, formats: ["alaverify-checkpoint"])
        #expect(checkpoint.states.map(\.step) == [8, 8])
        #expect(checkpoint.states[0].weights == checkpoint.states[1].weights, "after a round the children continue from one state")
        let model = try RunFiles.read(path: dir.appendingPathComponent("model.h5").path, formats: ["alaverify-model"])
        #expect(model.states.count == 1 && model.documents["config"] != nil)
        let policy = try RunFiles.read(path: dir.appendingPathComponent("policy.h5").path, formats: ["alaverify-policy"])
        #expect(policy.documents["controller"] != nil)
        // The test split's all-pairs scores carry identities.
        let set = try ScoresHDF5.read(path: dir.appendingPathComponent("scores.h5").path)
        #expect(set.genuineCount > 0 && set.impostorCount > 0)
    }

    @Test("alaverify report RUN reads the history the trainer wrote: training figures and section")
    func reportOfTheRun() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("report")
        let r = try CLI.run(["report", run.path, "--out", out.path, "--ci", "none"])
        #expect(r.status == 0, "\(r.stderr)")
        let name = run.lastPathComponent
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        for suffix in ["target", "parameters", "controller"] { #expect(names.contains("train-1-\(name)-\(suffix).png"), "\(names)") }
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("## Training: \(name)"))
        #expect(summary.contains("2 child models · 2 validations (steps 4–8) · loss control: ALA"))
        #expect(summary.contains("| genuine_weight[0…7] |"))
    }

    @Test("--stop-after then --resume gives the straight run's history, checkpoint, model, policy and scores bit for bit")
    func resumeIsBitIdentical() throws {
        let straight = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try trainHalfway(run)
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("scores.h5").path))
        let second = try CLI.run(["train", "--out", run.path, "--resume"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("resumed from"))

        let history = try Data(contentsOf: run.appendingPathComponent("history.jsonl"))
        #expect(history == (try Data(contentsOf: straight.appendingPathComponent("history.jsonl"))))
        // Every state in checkpoint, model and policy bit for bit, the JSON documents without their
        // wall-clock seconds, and the test scores.
        try expectSameTraining(straight, run, "resumed vs straight")
        // The files without timings are the same bytes: their JSON documents have a stable key order.
        for name in ["config.json", "model.h5", "policy.h5", "scores.h5"] {
            #expect(try Data(contentsOf: run.appendingPathComponent(name)) == (try Data(contentsOf: straight.appendingPathComponent(name))), "\(name)")
        }
    }

    @Test("alaverify score --model RUN/model.h5 --split test reproduces RUN/scores.h5 exactly")
    func scoreReproducesTheRunScores() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("test.h5").path
        let r = try CLI.run(["score", "--model", run.appendingPathComponent("model.h5").path, "--split", "test", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try scoreRows(run.appendingPathComponent("scores.h5").path)
        let found = try scoreRows(out)
        #expect(found.count == expected.count)
        #expect(found == expected)
    }

    @Test("score takes a run folder or a checkpoint's child; inspect reports a checkpoint's step and best child")
    func scoreRunFolderAndCheckpointChild() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // One validation, at the last step: model.h5 is the best child's state at that step, which
        // the checkpoint holds when the population continues from its best child (from their
        // mean, the checkpoint's children hold the mean instead).
        let run = dir.appendingPathComponent("run")
        let trained = try train(run, ["--steps", "4", "--interval", "4", "--checkpoint-interval", "4", "--continue-from", "best"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let inspected = try CLI.run(["inspect", run.appendingPathComponent("checkpoint.h5").path])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let lines = inspected.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("format: alaverify-checkpoint v1") && lines.contains("step: 4") && lines.contains("children: 2"))
        let best = try #require(lines.first { $0.hasPrefix("best: ") }, "\(inspected.stdout)")
        let child = try #require(["0", "1"].first { best.hasSuffix("(child \($0), step 4)") }, "\(best)")
        let fromFolder = dir.appendingPathComponent("folder.h5").path
        let fromCheckpoint = dir.appendingPathComponent("checkpoint.h5").path
        #expect(try CLI.run(["score", "--model", run.path, "--out", fromFolder]).status == 0)
        let r = try CLI.run(["score", "--model", run.appendingPathComponent("checkpoint.h5").path, "--child", child, "--out", fromCheckpoint])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: fromFolder)) == (try Data(contentsOf: URL(fileURLWithPath: fromCheckpoint))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: fromFolder)) == (try Data(contentsOf: run.appendingPathComponent("scores.h5"))))
        let missing = try CLI.run(["score", "--model", run.appendingPathComponent("checkpoint.h5").path, "--child", "2", "--out", fromCheckpoint])
        #expect(missing.status == 65 && missing.stderr.hasSuffix("checkpoint.h5: has children 0...1, not 2\n"), "\(missing.stderr)")
    }

    @Test("score refuses a selection without genuine pairs before any work", arguments: [
        ["--samples-per-identity", "1"], ["--templates", "62"],
    ])
    func scoreWithoutGenuinePairs(_ flags: [String]) throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("s.h5").path
        let r = try CLI.run(["score", "--model", run.appendingPathComponent("model.h5").path, "--split", "test", "--out", out] + flags)
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("so there is no genuine pair"), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "one line: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("--templates 4: fewer comparisons, each the cosine of two templates' mean unit-norm embeddings")
    func templates() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("templates.h5").path
        let modelPath = run.appendingPathComponent("model.h5").path
        let r = try CLI.run(["score", "--model", modelPath, "--split", "test", "--templates", "4", "--seed", "3", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")

        // The expected templates, built here from the model, the split and the seed.
        let model = try TrainedModel(path: modelPath)
        let samples = try SamplesFile(path: CLI.packageRoot.appendingPathComponent(model.config.data).path)
        let s = model.config.split
        let split = try IdentitySplit.byFractions(
            identityCount: samples.identityCount, train: s.train, validation: s.validation, test: s.test, seed: s.seed)
        let indices = split.samples(.test, identities: samples.identities)
        let embeddings = model.embed(try samples.readImages(indices: indices), count: indices.count)
        let d = model.network.embeddingSize
        let labels = indices.map { samples.identities[$0] }
        let groups = try Template.make(items: Array(indices.indices), identities: labels, size: 4, seed: 3)
        #expect(groups.allSatisfy { $0.samples.count == 4 })
        #expect(groups.count <= indices.count / 4 && groups.count > 1)
        #expect(r.stdout.contains("all pairs of \(groups.count) templates of 4"))
        let means: [[Double]] = groups.map { g in
            var m = [Double](repeating: 0, count: d)
            for i in g.samples { for k in 0..<d { m[k] += Double(embeddings[i * d + k]) } }
            let norm = m.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return m.map { $0 / norm }
        }
        let file = try HDF5File(path: out)
        let scores: [Float] = try file.dataset("/scores/score").read()
        let flags: [UInt8] = try file.dataset("/scores/label").read()
        #expect(scores.count == groups.count * (groups.count - 1) / 2)
        #expect(scores.count < indices.count * (indices.count - 1) / 2)
        // Rows come in pair order (i < j); check every one against the mean embeddings.
        var row = 0
        var worst = 0.0
        for i in groups.indices {
            for j in (i + 1)..<groups.count {
                let cosine = zip(means[i], means[j]).reduce(0) { $0 + $1.0 * $1.1 }
                worst = max(worst, abs(Double(scores[row]) - cosine))
                #expect(flags[row] == (groups[i].identity == groups[j].identity ? 1 : 0))
                row += 1
            }
        }
        #expect(worst < 1e-5, "largest difference from the mean-embedding cosine: \(worst)")
    }
}
