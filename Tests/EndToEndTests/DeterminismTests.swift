import Foundation
import Runs
import Testing

/// OpenBLAS kernel sets (`OPENBLAS_CORETYPE`) this CPU can execute, each with the CPU flags it needs.
/// Haswell and Zen kernels are AVX2 (their sgemm rounds an element differently by its place in
/// the tile grid); SkylakeX is AVX-512; Sandybridge is AVX.
let forcedCoreTypes: [String] = {
    let needs: [(String, [String])] = [
        ("Haswell", ["avx2", "fma"]), ("Zen", ["avx2", "fma"]), ("SkylakeX", ["avx512f", "avx512bw", "avx512dq", "avx512vl"]),
        ("Sandybridge", ["avx"]),
    ]
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let flagLine = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
    let flags = Set(flagLine.split(separator: " ").map(String.init))
    return needs.filter { $0.1.allSatisfy(flags.contains) }.map(\.0)
}()

/// The core types a determinism test runs under: the CPU's own kernels ("") and every forced one it can run.
let coreTypes = [""] + forcedCoreTypes

/// Runs `alaverify train` with a thread count and an OpenBLAS kernel set; checks the log names both.
func trainWith(threads: Int, core: String, _ args: [String]) throws -> CLIResult {
    var env = ["ALAVERIFY_THREADS": "\(threads)"]
    if !core.isEmpty { env["OPENBLAS_CORETYPE"] = core }
    let r = try CLI.run(["train"] + args, environment: env)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("compute: \(threads) thread\(threads == 1 ? "" : "s") (ALAVERIFY_THREADS)"), "\(r.stdout)")
    if !core.isEmpty { #expect(r.stdout.contains("OpenBLAS kernels for \(core)"), "the forced kernels were not used: \(r.stdout)") }
    return r
}

@Suite("results do not depend on the thread count, under every OpenBLAS kernel set this CPU runs (the built binary)")
struct DeterminismTests {
    @Test("this CPU runs at least two forced kernel sets, one of them AVX2 (else the tests below prove little)")
    func enoughKernelSets() {
        #expect(forcedCoreTypes.count >= 2 && forcedCoreTypes.contains("Haswell"), "forced kernel sets available: \(forcedCoreTypes)")
    }

    @Test("a training run gives the same history, checkpoint, model and scores bit for bit with 1 and 2 threads",
          arguments: coreTypes, ["mlp", "cnn"])
    func oneAndTwoThreads(core: String, network: String) throws {
        // The MLP's 1024 x 512 layer is a product large enough to be cut into blocks; the CNN runs
        // two children as parts. Before thread-independent parts, both differed with Haswell/Zen kernels.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flags = network == "mlp"
            ? ["--network", "mlp", "--embedding", "16", "--children", "1", "--loss-control", "fixed", "--steps", "6",
               "--interval", "3", "--batch-identities", "8", "--batch-samples", "4", "--validation-samples", "4"]
            : tinyTraining
        var runs: [URL] = []
        for threads in [1, 2] {
            let run = dir.appendingPathComponent("threads-\(threads)")
            _ = try trainWith(threads: threads, core: core, ["--out", run.path] + flags)
            runs.append(run)
        }
        try expectSameTraining(runs[0], runs[1], "\(network), kernels \(core.isEmpty ? "default" : core): 1 vs 2 threads")
    }

    @Test("alaverify score --model RUN/model.h5 reproduces RUN/scores.h5 with another thread count", arguments: coreTypes)
    func scoreReproducesRunScores(core: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        _ = try trainWith(threads: 1, core: core, ["--out", run.path] + tinyTraining)
        let out = dir.appendingPathComponent("test.h5").path
        var env = ["ALAVERIFY_THREADS": "2"]
        if !core.isEmpty { env["OPENBLAS_CORETYPE"] = core }
        let r = try CLI.run(["score", "--model", run.appendingPathComponent("model.h5").path, "--split", "test", "--out", out],
                            environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try scoreRows(out) == scoreRows(run.appendingPathComponent("scores.h5").path))
    }
}
