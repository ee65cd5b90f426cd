import AlaverifyBase
import Foundation
import Runs
import SampleData
import ScoreMetrics
import Testing
import Training

/// A JSON document without the keys that legitimately differ between a streamed and an
/// in-memory run or between two runs: wall-clock `...Seconds`, streaming totals (`data`) and
/// the `stream` setting itself.
func jsonWithoutStreaming(_ text: String) throws -> NSDictionary {
    guard var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw TrainFailure(message: "not a JSON object: \(text.prefix(80))")
    }
    for key in object.keys where key.hasSuffix("Seconds") || key == "data" || key == "stream" { object[key] = nil }
    return object as NSDictionary
}

/// Expects two run directories to hold the same training: every history record (without its
/// `data` totals), every state in the checkpoint, model and policy bit for bit, and the same test scores.
func expectSameTraining(_ a: URL, _ b: URL, _ what: String) throws {
    func history(_ dir: URL) throws -> [NSDictionary] {
        try String(contentsOf: dir.appendingPathComponent("history.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try jsonWithoutStreaming(String($0)) }
    }
    let ha = try history(a), hb = try history(b)
    #expect(ha.count == hb.count && ha == hb, "\(what): history differs")
    for (file, format) in [("checkpoint.h5", "alaverify-checkpoint"), ("model.h5", "alaverify-model"), ("policy.h5", "alaverify-policy")] {
        // A fixed-loss run has no policy: both runs have the file or neither.
        let exists = [a, b].map { FileManager.default.fileExists(atPath: $0.appendingPathComponent(file).path) }
        #expect(exists[0] == exists[1], "\(what): \(file) exists in one run only")
        if file == "policy.h5" && !exists[0] { continue }
        let x = try RunFiles.read(path: a.appendingPathComponent(file).path, formats: [format])
        let y = try RunFiles.read(path: b.appendingPathComponent(file).path, formats: [format])
        #expect(x.states.count == y.states.count, "\(what): \(file)")
        for (s, t) in zip(x.states, y.states) {
            #expect(stateBits(s) == stateBits(t), "\(what): \(file): weights differ")
            #expect(s.generator == t.generator && s.source == t.source && s.step == t.step, "\(what): \(file): RNG, sampler or step differs")
            #expect(s.lossIntegers == t.lossIntegers, "\(what): \(file): loss state differs")
        }
        #expect(Set(x.documents.keys) == Set(y.documents.keys), "\(what): \(file)")
        for (name, text) in x.documents {
            #expect(try jsonWithoutStreaming(text) == jsonWithoutStreaming(y.documents[name] ?? ""), "\(what): \(file): \(name) differs")
        }
    }
    #expect(try scoreRows(a.appendingPathComponent("scores.h5").path) == scoreRows(b.appendingPathComponent("scores.h5").path), "\(what): scores")
}

/// The `data` object of every history line.
func streamingRecords(_ dir: URL) throws -> [JSONValue] {
    try String(contentsOf: dir.appendingPathComponent("history.jsonl"), encoding: .utf8).split(separator: "\n")
        .compactMap { try JSONValue.parse(Data($0.utf8))["data"] }
}

@Suite("alaverify train --stream (the built binary)")
struct TrainStreamTests {
    @Test("--stream trains the same weights as the in-memory run and reports its stall time")
    func streamMatchesMemory() throws {
        let straight = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let r = try train(run, ["--stream"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("the train split (3720 samples) is streamed"))
        #expect(r.stdout.contains("data: stall "))
        // Two children x 8 steps; the stall share is printed next to it.
        #expect(r.stdout.contains("data: streamed 16 batches, stall "), "\(r.stdout)")
        #expect(r.stdout.contains("% of training), reads "))
        let config = try RunConfig.read(try Data(contentsOf: run.appendingPathComponent("config.json")))
        #expect(config.stream == true)
        try expectSameTraining(straight, run, "streamed vs in memory")
        let records = try streamingRecords(run)
        #expect(records.count == 4)
        #expect(records.map { $0["streamed_batches"] } == [.int(8), .int(8), .int(16), .int(16)])
        for record in records {
            guard case .number(let stall)? = record["stall_seconds"], case .number(let read)? = record["read_seconds"] else {
                Issue.record("no stall/read seconds in \(record)")
                continue
            }
            #expect(stall >= 0 && read >= 0)
        }
        // The in-memory run keeps its message and writes no streaming totals.
        #expect(try streamingRecords(straight).isEmpty)
    }

    @Test("--stream --stop-after then --resume (which keeps streaming) gives the straight run's weights bit for bit")
    func streamResumeIsBitIdentical() throws {
        let straight = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let halfway = try trainHalfway(run, ["--stream"])
        // The prefetch threads had drawn ahead; the checkpoint holds the sampler after the 4th consumed batch.
        let progress = try JSONValue.parse(Data((halfway.documents["progress"] ?? "").utf8))
        #expect(progress["data"]?["batches"] == .int(8))
        let second = try CLI.run(["train", "--out", run.path, "--resume"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("resumed from"))
        #expect(second.stdout.contains("is streamed"))
        #expect(second.stdout.contains("data: streamed 16 batches"), "\(second.stdout)")
        try expectSameTraining(straight, run, "streamed, stopped and resumed vs straight")
        #expect(try streamingRecords(run).map { $0["streamed_batches"] } == [.int(8), .int(8), .int(16), .int(16)])
    }

    @Test("an in-memory run stopped halfway and resumed with --stream gives the straight run's weights bit for bit")
    func resumeSwitchesToStreaming() throws {
        let straight = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try trainHalfway(run)
        let second = try CLI.run(["train", "--out", run.path, "--resume", "--stream"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("is streamed"))
        // Only the second half was streamed: 2 children x 4 steps.
        #expect(second.stdout.contains("data: streamed 8 batches"), "\(second.stdout)")
        try expectSameTraining(straight, run, "in memory, resumed streamed vs straight")
        #expect(try streamingRecords(run).map { $0["streamed_batches"] } == [.int(8), .int(8)])
    }
}
