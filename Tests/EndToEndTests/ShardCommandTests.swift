import AlaverifyBase
import Foundation
import Testing

/// Scores the shared tiny run's test split into `dir/S.h5` and into `n` shards of it; returns the
/// shard paths.
func scoreInShards(_ run: URL, _ dir: URL, shards n: Int, extra: [String] = []) throws -> [String] {
    let out = dir.appendingPathComponent("S.h5").path
    let base = ["score", "--model", run.path, "--split", "test", "--out", out] + extra
    if !FileManager.default.fileExists(atPath: out) {
        let r = try CLI.run(base)
        #expect(r.status == 0, "\(r.stderr)")
    }
    return try (1...n).map { i in
        let r = try CLI.run(base + ["--shard", "\(i)/\(n)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("shard \(i)/\(n)"), "\(r.stdout)")
        return dir.appendingPathComponent("S.shard-\(i)-of-\(n).h5").path
    }
}

/// The bytes `alaverify metrics ARGS --json F` writes.
func metricsJSON(_ args: [String], in dir: URL, _ name: String) throws -> Data? {
    let path = dir.appendingPathComponent(name).path
    let r = try CLI.run(["metrics"] + args + ["--json", path])
    #expect(r.status == 0, "metrics \(args): \(r.stderr)")
    return FileManager.default.contents(atPath: path)
}

let mergeRequests: [[String]] = [
    ["--ci", "none"],
    ["--ci", "wilson", "--far", "1e-3", "--frr", "0.1", "--metric", "pauc@far=0.01"],
    ["--ci", "conservative", "--threshold-rule", "impostor", "--far", "0.05", "--far", "1e-4", "--level", "0.9"],
    ["--ci", "wilson", "--points-only", "--frr", "0.02"],
]

@Suite("score --shard and metrics/report --merge: the unsharded metrics, byte for byte (the built binary)")
struct ShardCommandTests {
    @Test("merged shards give the unsharded metrics JSON byte for byte", arguments: [1, 2, 3, 7])
    func mergedEqualsUnsharded(shards n: Int) throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try scoreInShards(run, dir, shards: n)
        let unsharded = dir.appendingPathComponent("S.h5").path
        for (k, request) in mergeRequests.enumerated() {
            let expected = try metricsJSON([unsharded] + request, in: dir, "u\(k).json")
            let merged = try metricsJSON(["--merge"] + files.reversed() + request, in: dir, "m\(k).json")
            #expect(expected != nil && merged == expected, "\(n) shards, \(request)")
        }
    }

    @Test("report --merge writes the unsharded report's metrics.json and every figure")
    func reportMerged() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try scoreInShards(run, dir, shards: 3)
        let flags = ["--ci", "conservative", "--far", "1e-3"]
        let a = try CLI.run(["report", dir.appendingPathComponent("S.h5").path, "--out", dir.appendingPathComponent("u").path] + flags)
        let b = try CLI.run(["report", "--merge"] + files + ["--out", dir.appendingPathComponent("m").path] + flags)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("m").path).sorted()
        #expect(names == ["det.png", "hist-1-S.h5.png", "metrics.json", "roc.png", "summary.md"])
        let u = FileManager.default.contents(atPath: dir.appendingPathComponent("u/metrics.json").path)
        #expect(u != nil && u == FileManager.default.contents(atPath: dir.appendingPathComponent("m/metrics.json").path))
    }

    @Test("a merged run's default interval is the conservative one, and it contains the subject bootstrap's")
    func conservativeContainsBootstrap() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try scoreInShards(run, dir, shards: 2)
        let targets = ["--far", "1e-3", "--far", "1e-2", "--frr", "0.1"]
        let boot = try #require(try metricsJSON([dir.appendingPathComponent("S.h5").path] + targets, in: dir, "b.json"))
        let merged = try #require(try metricsJSON(["--merge"] + files + targets, in: dir, "m.json"))
        func intervals(_ data: Data) throws -> [(method: String, lower: Double, upper: Double)] {
            guard case .array(let systems)? = try JSONValue.parse(data)["systems"],
                  case .array(let points)? = systems.first?["operating_points"] else { return [] }
            return points.compactMap { p in
                guard case .string(let m)? = p["ci"]?["method"], let lo = p["ci"]?["lower"]?.doubleValue,
                      let hi = p["ci"]?["upper"]?.doubleValue else { return nil }
                return (m, lo, hi)
            }
        }
        let b = try intervals(boot), m = try intervals(merged)
        #expect(b.count == 3 && m.count == 3)
        for (x, y) in zip(b, m) {
            #expect(x.method == "bootstrap-subjects" && y.method == "conservative")
            #expect(y.lower <= x.lower && y.upper >= x.upper, "conservative \(y) does not contain bootstrap \(x)")
        }
    }

    @Test("gate --metrics on the merged metrics JSON decides as on the unsharded one: a passing and a failing protocol")
    func gateMerged() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try scoreInShards(run, dir, shards: 3)
        let request = ["--far", "0.05", "--ci", "conservative"]
        _ = try #require(try metricsJSON(["--merge"] + files + request, in: dir, "merged.json"))
        _ = try #require(try metricsJSON([dir.appendingPathComponent("S.h5").path] + request, in: dir, "unsharded.json"))
        for (name, limit, status) in [("pass", "0.9999", Int32(0)), ("fail", "0.0001", Int32(1))] {
            let proto = try write("""
                name: shards-\(name)
                scores: S.h5
                report: [frr@far=0.05, eer, roc_auc]
                gates:
                  - {name: ROC AUC floor, metric: roc_auc, min: 0.5}
                  - {name: FRR at FAR 5%, metric: frr@far=0.05, max: \(limit), use: ci95_upper}

                """, "\(name).yaml", in: dir)
            var outputs = [String]()
            for json in ["merged.json", "unsharded.json"] {
                let path = dir.appendingPathComponent(json).path
                let g = try CLI.run(["gate", "--protocol", proto, "--metrics", path])
                #expect(g.status == status, "\(name) \(json): \(g.stdout) \(g.stderr)")
                #expect(g.stdout.contains(status == 0 ? "gate: PASS" : "gate: FAIL"), "\(g.stdout)")
                outputs.append(g.stdout.replacingOccurrences(of: path, with: "METRICS"))
            }
            #expect(outputs[0] == outputs[1])
        }
    }

    @Test("template comparisons merge exactly too")
    func templates() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try scoreInShards(run, dir, shards: 3, extra: ["--templates", "4"])
        let request = ["--ci", "wilson", "--far", "1e-2"]
        let expected = try metricsJSON([dir.appendingPathComponent("S.h5").path] + request, in: dir, "u.json")
        let merged = try metricsJSON(["--merge"] + files + request, in: dir, "m.json")
        #expect(expected != nil && expected == merged)
    }

    @Test("--shard auto takes the shard from a Slurm array task or a Kubernetes Indexed Job")
    func autoShard() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("S.h5").path
        let args = ["score", "--model", run.path, "--split", "test", "--shard", "auto", "--out", out]
        let slurm = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"]
        let a = try CLI.run(args, environment: slurm)
        #expect(a.status == 0, "\(a.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("S.shard-2-of-3.h5").path))
        let b = try CLI.run(args + ["--shards", "2"], environment: ["JOB_COMPLETION_INDEX": "0"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("S.shard-1-of-2.h5").path))
    }
}
