import Foundation
import Testing

/// Expects `alaverify args` to fail with `status`, one stderr line containing `needle`, and no
/// file at `unwritten`.
func expectRefused(_ args: [String], status: Int32, _ needle: String, unwritten: String? = nil,
                   environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let r = try CLI.run(args, environment: environment)
    #expect(r.status == status, "\(args): exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && r.stderr.contains(needle), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
    if let unwritten {
        #expect(!FileManager.default.fileExists(atPath: unwritten), "\(unwritten) was written", sourceLocation: sourceLocation)
    }
}

@Suite("bad shards and shard requests: one line, exit 64/65, nothing merged (the built binary)")
struct ShardBadInputTests {
    @Test("--shard 5/4, --shards without auto and --shard auto outside a job array are usage errors")
    func badRequests() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("S.h5").path
        let score = ["score", "--model", run.path, "--split", "test", "--out", out]
        try expectRefused(score + ["--shard", "5/4"], status: 64, "shard 5/4 does not exist", unwritten: dir.appendingPathComponent("S.shard-5-of-4.h5").path)
        try expectRefused(score + ["--shard", "2/3", "--shards", "3"], status: 64, "--shards goes with --shard auto")
        try expectRefused(score + ["--shard", "x"], status: 64, "is not a shard")
        try expectRefused(score + ["--shard", "1/2", "--threshold-from", run.path], status: 64, "a shard holds part of the pairs")
        if ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"] == nil && ProcessInfo.processInfo.environment["JOB_COMPLETION_INDEX"] == nil {
            try expectRefused(score + ["--shard", "auto"], status: 64, "--shard auto needs a job array task")
        }
        try expectRefused(score + ["--shard", "auto"], status: 64, "SLURM_ARRAY_TASK_COUNT",
                          environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": ""])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("missing, duplicate, mismatched, truncated, edited and foreign shards are refused, naming them; nothing is written")
    func badShards() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let three = try scoreInShards(run, dir, shards: 3)
        let two = try scoreInShards(run, dir, shards: 2)
        let json = dir.appendingPathComponent("m.json").path
        let merge = ["metrics", "--merge", "--json", json]
        try expectRefused(merge + [three[0], three[2]], status: 65, "missing 1 of 3 shards: 2", unwritten: json)
        try expectRefused(merge + three + [three[1]], status: 65, "\(three[1]): is shard 2/3 again", unwritten: json)
        try expectRefused(merge + [three[0], three[1], two[1]], status: 65, "\(two[1]): made with another shard count", unwritten: json)
        try expectRefused(merge + [dir.appendingPathComponent("S.h5").path], status: 65, "not an alaverify shard summary", unwritten: json)

        let truncated = dir.appendingPathComponent("T.shard-2-of-3.h5").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: three[1]))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        try expectRefused(merge + [three[0], truncated, three[2]], status: 65, truncated, unwritten: json)

        // One byte of the middle of the file changed: a dataset's checksum or the payload's catches it.
        let edited = dir.appendingPathComponent("E.shard-2-of-3.h5").path
        var changed = bytes
        changed[changed.count * 3 / 5] ^= 0x5A
        try changed.write(to: URL(fileURLWithPath: edited))
        try expectRefused(merge + [three[0], edited, three[2]], status: 65, edited, unwritten: json)

        // Shards of another model (a run trained with another seed).
        let other = dir.appendingPathComponent("other-run")
        let t = try train(other, ["--seed", "11"])
        #expect(t.status == 0, "\(t.stderr)")
        let otherDir = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: otherDir, withIntermediateDirectories: true)
        let foreign = try scoreInShards(other, otherDir, shards: 3)
        try expectRefused(merge + [three[0], three[1], foreign[2]], status: 65, "\(foreign[2]): made with another model", unwritten: json)
    }

    @Test("report --merge refuses the same way; bootstrap intervals and fixed thresholds of shards are usage errors")
    func reportAndBootstrap() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try scoreInShards(run, dir, shards: 2)
        let out = dir.appendingPathComponent("report").path
        try expectRefused(["report", "--merge", files[0], "--out", out], status: 65, "missing 1 of 2 shards: 2",
                          unwritten: out + "/metrics.json")
        try expectRefused(["metrics", "--merge"] + files + ["--ci", "bootstrap"], status: 64, "subject bootstrap")
        try expectRefused(["metrics", "--merge"] + files + ["--polarity", "distance"], status: 64, "--merge reads shard summaries")
        // Fixed thresholds need the scores themselves: refused, not silently dropped.
        try expectRefused(["metrics", "--merge"] + files + ["--threshold", "0.5"], status: 64, "need a scores file")
        try expectRefused(["report", "--merge"] + files + ["--threshold", "0.5", "--out", out], status: 64, "need a scores file",
                          unwritten: out + "/metrics.json")
    }
}
