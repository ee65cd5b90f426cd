import Foundation
import Testing

/// The Slurm cluster the Slurm tests submit to: `SLURM_CONF` of a running cluster, given as
/// `ALAVERIFY_SLURM_CONF` (`make test` and `make test-slurm` start a one-node cluster with
/// scripts/slurm_cluster.sh and set it when the machine can run one).
let slurmConf = ProcessInfo.processInfo.environment["ALAVERIFY_SLURM_CONF"]

/// `ALAVERIFY_REQUIRE_SLURM` (set by `.ci/run`): without a cluster the Slurm tests fail instead
/// of being skipped.
let slurmRequired = !(ProcessInfo.processInfo.environment["ALAVERIFY_REQUIRE_SLURM"] ?? "").isEmpty

/// The cluster's configuration, or a failure naming what is missing (the suite runs without one
/// only when it is required).
func requireCluster(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try #require(slurmConf, "ALAVERIFY_REQUIRE_SLURM is set but ALAVERIFY_SLURM_CONF is not: no Slurm cluster to test on",
                 sourceLocation: sourceLocation)
}

/// Runs a shell command with the cluster's configuration; returns its status and output.
func slurmShell(_ command: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    process.environment = ProcessInfo.processInfo.environment.merging(["SLURM_CONF": slurmConf ?? ""]) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Submits `folder/submit.sh` and waits (up to 5 minutes) until its jobs have left the queue;
/// returns the array and merge job ids.
func submitAndWait(_ folder: URL) throws -> (array: String, merge: String) {
    let submit = try slurmShell("bash \(folder.path)/submit.sh")
    #expect(submit.status == 0, "\(submit.output)")
    let ids = try String(contentsOf: folder.appendingPathComponent("jobs"), encoding: .utf8).split(separator: " ").map {
        $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let deadline = Date().addingTimeInterval(300)
    while Date() < deadline {
        let queue = try slurmShell("squeue -h -j \(ids.joined(separator: ",")) -o %i")
        if queue.status == 0 && queue.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { break }
        Thread.sleep(forTimeInterval: 0.5)
    }
    return (ids[0], ids[1])
}

/// `JobState=...` of every job (or array task) of an id, from `scontrol show job`.
func jobStates(_ id: String) throws -> [String] {
    let show = try slurmShell("scontrol show job \(id)")
    return show.output.components(separatedBy: .whitespacesAndNewlines).filter { $0.hasPrefix("JobState=") || $0.hasPrefix("ExitCode=") }
}

@Suite(
    "Slurm for real: an array of shard jobs and a merge job on a one-node cluster (the built binary)",
    .enabled(if: slurmConf != nil || slurmRequired,
             "NOT RUN: needs a running Slurm cluster, ALAVERIFY_SLURM_CONF (make test starts one as root with slurm installed: make slurm-deps)"),
    .serialized)
struct SlurmTests {
    @Test("a 4-shard array and its merge job give the unsharded metrics, byte for byte")
    func arrayAndMerge() throws {
        _ = try requireCluster()
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("eval")
        let data = CLI.packageRoot.appendingPathComponent("fixtures/fonts-mini.h5").path
        let g = try CLI.run(["slurm", "--shards", "4", "--out", folder.path, "--far", "1e-3", "--far", "1e-2", "--",
                             "--model", run.path, "--data", data, "--split", "test"])
        #expect(g.status == 0, "\(g.stderr)")
        let jobs = try submitAndWait(folder)
        let logs = try slurmShell("cat \(folder.path)/logs/*").output
        #expect(try jobStates(jobs.merge).first == "JobState=COMPLETED", "\(logs)")
        let unsharded = folder.appendingPathComponent("scores.h5").path
        let s = try CLI.run(["score", "--model", run.path, "--data", data, "--split", "test", "--out", unsharded])
        #expect(s.status == 0, "\(s.stderr)")
        let expected = try metricsJSON([unsharded, "--far", "1e-3", "--far", "1e-2", "--ci", "conservative"], in: dir, "u.json")
        let merged = FileManager.default.contents(atPath: folder.appendingPathComponent("metrics.json").path)
        #expect(expected != nil && merged == expected)
    }

    @Test("a shard that exits 65 fails the array job; the merge is cancelled and writes nothing")
    func failedShardCancelsMerge() throws {
        _ = try requireCluster()
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Task 3 reads a truncated copy of the data (a real exit 65 of alaverify score).
        let data = CLI.packageRoot.appendingPathComponent("fixtures/fonts-mini.h5").path
        let broken = dir.appendingPathComponent("broken.h5").path
        try Data(try Data(contentsOf: URL(fileURLWithPath: data)).prefix(4096)).write(to: URL(fileURLWithPath: broken))
        /// A path as a bash pattern-substitution operand (slashes escaped).
        func escaped(_ path: String) -> String { path.replacingOccurrences(of: "/", with: "\\/") }
        let wrapper = try write("""
            #!/bin/bash
            if [ "${SLURM_ARRAY_TASK_ID:-}" = 3 ]; then exec \(CLI.binary) "${@/#\(escaped(data))/\(escaped(broken))}"; fi
            exec \(CLI.binary) "$@"
            """, "alaverify-task3-fails", in: dir)
        chmod(wrapper, 0o755)
        let folder = dir.appendingPathComponent("eval")
        let g = try CLI.run(["slurm", "--shards", "4", "--out", folder.path, "--alaverify", wrapper, "--",
                             "--model", run.path, "--data", data, "--split", "test"])
        #expect(g.status == 0, "\(g.stderr)")
        let jobs = try submitAndWait(folder)
        let arrayStates = try jobStates(jobs.array)
        #expect(arrayStates.contains("JobState=FAILED") && arrayStates.contains("ExitCode=65:0"), "\(arrayStates)")
        #expect(try jobStates(jobs.merge).first == "JobState=CANCELLED")
        let log = try String(contentsOf: folder.appendingPathComponent("logs/shard-3.out"), encoding: .utf8)
        #expect(log.contains("alaverify: \(broken):"), "\(log)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("metrics.json").path))
    }
}

@Suite("alaverify slurm writes the job scripts (no cluster needed; the built binary)")
struct SlurmScriptTests {
    @Test("an array of shard jobs, a merge job after every shard (afterok, cancelled on failure), a submit script; all valid bash")
    func scripts() throws {
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("eval")
        let r = try CLI.run(["slurm", "--shards", "5", "--out", folder.path, "--far", "1e-4", "--sbatch", "--time=1:00:00",
                             "--shard-sbatch", "--cpus-per-task=2", "--openblas-coretype", "Haswell", "--",
                             "--model", run.path, "--data", "fixtures/fonts-mini.h5", "--split", "all"])
        #expect(r.status == 0, "\(r.stderr)")
        let text = { (name: String) in (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        let shards = text("shards.sbatch"), merge = text("merge.sbatch"), submit = text("submit.sh")
        #expect(shards.contains("#SBATCH --array=1-5") && shards.contains("#SBATCH --time=1:00:00") && shards.contains("#SBATCH --cpus-per-task=2"))
        #expect(shards.contains("--shard auto --out \(folder.path)/scores.h5") && shards.contains("export OPENBLAS_CORETYPE=Haswell"))
        // The data path is made absolute: jobs run in the job folder.
        #expect(shards.contains("--data \(CLI.packageRoot.appendingPathComponent("fixtures/fonts-mini.h5").path)"))
        #expect(merge.contains("metrics --merge \(folder.path)/scores.shard-*-of-5.h5 --metric frr@far=1e-4"))
        #expect(!merge.contains("--cpus-per-task") && merge.contains("--json \(folder.path)/metrics.json"))
        #expect(submit.contains("--dependency=afterok:$array --kill-on-invalid-dep=yes merge.sbatch"))
        for name in ["shards.sbatch", "merge.sbatch", "submit.sh"] {
            #expect(try slurmShell("bash -n \(folder.path)/\(name)").status == 0, "\(name) is not valid bash")
        }
    }

    @Test("score arguments that do not parse, or that set what the jobs set, are usage errors", arguments: [
        (["--model", "m", "--data", "d", "--out", "x.h5"], "--out is set by the jobs"),
        (["--model", "m", "--split", "test"], "give --data in the score arguments"),
        (["--model", "m", "--data", "d", "--split", "nope", "--templates", "0", "--bogus"], "the score arguments after --"),
    ])
    func badArguments(scoreArguments: [String], message: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("eval").path
        try expectRefused(["slurm", "--shards", "2", "--out", folder, "--"] + scoreArguments, status: 64, message,
                          unwritten: folder + "/submit.sh")
    }
}
