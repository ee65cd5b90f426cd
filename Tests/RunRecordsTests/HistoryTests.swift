import AlaverifyBase
import Foundation
import ScoreMetrics
import TestSupport
import Testing
@testable import RunRecords

func parsedHand() throws -> TrainingHistory { try TrainingHistory.parse(Array(handHistory.utf8)) }

@Suite("Training history: parsing")
struct TrainingHistoryTests {
    @Test("records, names, children, steps and actions as written")
    func parsesTheHandHistory() throws {
        let h = try parsedHand()
        #expect(h.target == .frrAtFAR(1e-3))
        #expect(h.parameterNames == ["scale", "genuine_margin", "balance", "genuine_weight[0]", "genuine_weight[1]", "impostor_weight[0]", "impostor_weight[1]"])
        #expect(h.records.count == 6)
        #expect(h.children == [0, 1] && h.steps == [10, 20, 30] && h.hasActions)
        let r = h.records[4]
        #expect(r.step == 30 && r.child == 0 && r.loss == 1.0 && r.value == 0.4 && r.eer == 0.16 && r.rocAUC == 0.84)
        #expect(r.parameters == [3.0, 0.6, 0.45, 0.4, 1.2, 0.7, 1.6])
        #expect(r.actions == [1, 1, -1, -1, 1, -1, 1] && r.reward == -1 && r.baseline == 0.05 && r.policyEntropy == 0.9)
        #expect(h.records[0].reward == nil)
    }

    @Test("best: strictly better replaces, so a later tie keeps the earlier model")
    func bestFollowsTheTrainer() throws {
        let h = try parsedHand()
        let best = try #require(h.best)
        #expect(best.step == 20 && best.child == 0 && best.value == 0.3)
    }

    @Test("best of a higher-is-better target is the largest value")
    func bestOfAnArea() throws {
        var h = try parsedHand()
        h.target = .rocAUC
        let best = try #require(h.best)
        #expect(best.step == 10 && best.child == 1 && best.value == 0.55)
    }

    static let good = #"{"step":10,"child":0,"loss":1.5,"validation":{"target":"eer","value":0.5},"loss_parameters":{"a":1.0,"b":2.0}}"#

    /// (id, text, expected line, expected message fragment)
    static let malformed: [(String, String, Int, String)] = [
        ("invalid JSON", good + "\n{\"step\":20,", 2, "invalid JSON"),
        ("not an object", good + "\n[1,2]\n", 2, "expected a JSON object"),
        ("missing step", #"{"child":0,"loss":1,"validation":{"target":"eer","value":0.5},"loss_parameters":{"a":1,"b":2}}"#, 1, "'step'"),
        ("negative child", good.replacingOccurrences(of: "\"child\":0", with: "\"child\":-1"), 1, "'child'"),
        ("loss as text", good.replacingOccurrences(of: "\"loss\":1.5", with: "\"loss\":\"x\""), 1, "'loss'"),
        ("unknown target", good.replacingOccurrences(of: "\"eer\"", with: "\"frr@far=2\""), 1, "validation.target"),
        ("target changes", good + "\n" + good.replacingOccurrences(of: "10", with: "20").replacingOccurrences(of: "\"eer\"", with: "\"roc_auc\""), 2, "differs"),
        ("no value", good.replacingOccurrences(of: ",\"value\":0.5", with: ""), 1, "'validation.value'"),
        ("parameter as text", good.replacingOccurrences(of: "\"a\":1.0", with: "\"a\":\"one\""), 1, "loss parameter 'a'"),
        ("parameters change", good + "\n" + good.replacingOccurrences(of: "10", with: "20").replacingOccurrences(of: "\"b\"", with: "\"c\""), 2, "differ from the earlier lines"),
        ("actions too short", good.replacingOccurrences(of: "}}", with: "},\"actions\":[1]}"), 1, "'actions' must be an array of 2"),
        ("action out of range", good.replacingOccurrences(of: "}}", with: "},\"actions\":[2,0]}"), 1, "only -1, 0 or +1"),
        ("reward as text", good.replacingOccurrences(of: "}}", with: "},\"reward\":\"up\"}"), 1, "'reward'"),
        ("steps out of order", good.replacingOccurrences(of: "10", with: "20") + "\n" + good, 2, "step 10 comes after step 20"),
        ("duplicate record", good + "\n" + good, 2, "a second record for step 10, child 0"),
        ("blank lines count", "\n\n" + good + "\n\n{oops}\n", 5, "invalid JSON"),
    ]

    @Test("a malformed line is reported with its line number", arguments: malformed)
    func malformedLine(_ c: (String, String, Int, String)) {
        #expect(throws: HistoryError.self, "\(c.0)") { try TrainingHistory.parse(Array(c.1.utf8)) }
        do {
            _ = try TrainingHistory.parse(Array(c.1.utf8))
        } catch {
            #expect(error.line == c.2, "\(c.0): \(error)")
            #expect(error.message.contains(c.3), "\(c.0): \(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("an empty or blank file has no records", arguments: ["", "\n", "  \n\r\n"])
    func empty(_ text: String) {
        #expect(throws: HistoryError(line: 0, "no validation records (the run stopped before its first validation)")) {
            try TrainingHistory.parse(Array(text.utf8))
        }
    }

    @Test("null loss is NaN and not drawn; numbers written as integers are accepted")
    func lenientNumbers() throws {
        let text = #"{"step":5,"child":0,"loss":null,"validation":{"target":"eer","value":1,"eer":null},"loss_parameters":{"a":1}}"#
        let h = try TrainingHistory.parse(Array(text.utf8))
        #expect(h.records[0].loss.isNaN && h.records[0].value == 1 && h.records[0].eer == nil)
    }
}

@Suite("History records: the one type that writes, reads and truncates history.jsonl")
struct HistoryRecordTests {
    static let names = ["scale", "genuine_weight[0]"]

    static func record(step: Int = 50, child: Int = 1, controller: Bool = true, stream: Bool = true) -> HistoryRecord {
        HistoryRecord(
            step: step, child: child, loss: Double(Float(0.693)),
            validation: ValidationResult(target: .frrAtFAR(1e-3), value: 0.5, rewardValue: 0.45, eer: nil, rocAUC: 0.9, frrNeighbours: [0.6, 0.3]),
            lossParameters: NamedValues(names: names, values: [2, 1.5]), trainedLossParameters: NamedValues(names: names, values: [2, 1]),
            actions: controller ? [1, 0] : nil, reward: nil, baseline: controller ? 0 : nil, policyEntropy: controller ? 1.0986 : nil,
            data: stream ? DataStreamStats(batches: 4, stallSeconds: 0.25, readSeconds: 1) : nil)
    }

    @Test("a record is one line with the keys in the trainer's order, and reads back equal")
    func lineAndBack() throws {
        let line = try TrainingHistory.line(Self.record())
        let loss = "\(Double(Float(0.693)))"
        #expect(line == #"{"step":50,"child":1,"loss":"# + loss + #","validation":{"target":"frr@far=1e-3","value":0.5,"reward_value":0.45,"eer":null,"roc_auc":0.9,"frr_neighbours":[0.6, 0.3]},"loss_parameters":{"scale":2.0,"genuine_weight[0]":1.5},"trained_loss_parameters":{"scale":2.0,"genuine_weight[0]":1.0},"actions":[1, 0],"reward":null,"baseline":0.0,"policy_entropy":1.0986,"data":{"streamed_batches":4,"stall_seconds":0.25,"read_seconds":1.0}}"# + "\n")
        #expect(try TrainingHistory.record(Array(line.utf8).dropLast()) == Self.record())
        // A fixed-loss run in memory: no controller keys (not even a null reward), no data.
        let fixed = try TrainingHistory.line(Self.record(controller: false, stream: false))
        #expect(!fixed.contains("actions") && !fixed.contains("reward\":") && !fixed.contains("data"))
        #expect(try TrainingHistory.record(Array(fixed.utf8).dropLast()) == Self.record(controller: false, stream: false))
    }

    @Test("every record of the hand history, written again, reads back to itself")
    func handHistoryRewrites() throws {
        let lines = handHistory.split(separator: "\n")
        let rewritten = try parsedHand().records.map(TrainingHistory.line)
        #expect(rewritten.count == lines.count)
        // The text itself may differ: the hand-written file spells some numbers as integers.
        for (text, record) in zip(rewritten, try parsedHand().records) {
            #expect(try TrainingHistory.record(Array(text.utf8).dropLast()) == record)
        }
    }

    @Test("truncation on resume keeps the records up to the checkpoint's step, in order, and drops the rest")
    func truncation() {
        let kept = TrainingHistory.truncated(Array((handHistory + "{oops}\n").utf8), after: 20)
        let lines = kept.split(separator: "\n")
        #expect(lines.count == 4 && kept.hasSuffix("\n"))
        #expect(lines.allSatisfy { handHistory.contains($0) })
        #expect(TrainingHistory.truncated(Array(handHistory.utf8), after: 5) == "")
        #expect(TrainingHistory.truncated(Array(handHistory.utf8), after: 30).split(separator: "\n").count == 6)
    }

    @Test("a history file starts empty for a new run, keeps the covered records on resume, and appends lines")
    func historyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("alaverify-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("history.jsonl").path
        try handHistory.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            let resumed = try HistoryFile(path: path, keepingUpTo: 10)
            try resumed.append(Self.record(step: 20, child: 0))
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 3)
        #expect(text.hasSuffix(try TrainingHistory.line(Self.record(step: 20, child: 0))))
        #expect(try text.split(separator: "\n").map { try TrainingHistory.record(Array($0.utf8)).step } == [10, 10, 20])
        _ = try HistoryFile(path: path, keepingUpTo: nil)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "")
    }

    @Test("a run folder names its files, and its score file is scores.h5 before a hand-made CSV")
    func runDirectory() throws {
        let run = RunDirectory("runs/a")
        #expect([run.config, run.history, run.checkpoint, run.model, run.policy, run.scores]
            == ["runs/a/config.json", "runs/a/history.jsonl", "runs/a/checkpoint.h5", "runs/a/model.h5", "runs/a/policy.h5", "runs/a/scores.h5"])
        #expect(RunDirectory.fileNames(withPolicy: false) == ["config.json", "split.json", "history.jsonl", "checkpoint.h5", "model.h5", "scores.h5"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("alaverify-rundir-\(UUID().uuidString)").path
        let folder = RunDirectory(dir)
        #expect(folder.isEmpty && !RunDirectory.isFolder(dir) && folder.scoreFile == nil)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "label,score\n".write(toFile: dir + "/scores.csv", atomically: true, encoding: .utf8)
        #expect(folder.scoreFile == dir + "/scores.csv" && !folder.isEmpty && RunDirectory.isFolder(dir))
        try "x".write(toFile: folder.scores, atomically: true, encoding: .utf8)
        #expect(folder.scoreFile == folder.scores)
    }
}
