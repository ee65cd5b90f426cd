import Foundation
import Runs
import Testing

/// Checks a refused run: the exit status, exactly one stderr line carrying `fragments`, and
/// nothing written to the run directory.
func expectRefused(_ r: CLIResult, status: Int32, _ fragments: [String], runDirectory: URL, _ id: String) {
    #expect(r.status == status, "\(id): exit \(r.status), stderr: \(r.stderr)")
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty && lines[0].hasPrefix("alaverify: "), "\(id): \(r.stderr)")
    for f in fragments { #expect(r.stderr.contains(f), "\(id): '\(f)' not in \(r.stderr)") }
    let written = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory.path)) ?? []
    #expect(written.isEmpty, "\(id): wrote \(written)")
}

@Suite("alaverify train refuses bad input before training")
struct TrainBadInputTests {
    /// (id, extra flags, exit status, fragments of the one stderr line)
    static let flagCases: [(String, [String], Int32, [String])] = [
        ("unestimable target", ["--target", "frr@far=1e-7"], 64,
         ["--target frr@far=1e-7 is not estimable on the validation split", "1e-07 x ", "--split", "--validation-samples"]),
        ("unknown target spelling", ["--target", "frr@fa=0.1"], 64, ["--target", "unknown metric 'frr@fa'", "expected one of frr@far=X"]),
        ("target rate outside (0, 1)", ["--target", "far@frr=1.5"], 64, ["--target", "strictly between 0 and 1"]),
        ("learning rate too large", ["--learning-rate", "5"], 64, ["--learning-rate must lie in (0, 1], got 5.0"]),
        ("learning rate zero", ["--learning-rate", "0"], 64, ["--learning-rate must lie in (0, 1]"]),
        ("unknown --set parameter", ["--set", "temperature=1"], 64, ["unknown loss parameter 'temperature'", "scale, genuine_margin"]),
        ("--set without a number", ["--set", "scale=big"], 64, ["--set takes name=value, got 'scale=big'"]),
        ("loss parameter out of range", ["--set", "scale=100"], 64, ["scale=100.0 is outside [0.5, 64.0]"]),
        ("bin weight out of range", ["--set", "impostor_weight[3]=-1"], 64, ["impostor_weight[3]=-1.0 is outside [0.0, 4.0]"]),
        ("no bins", ["--bins", "0"], 64, ["--bins must lie in 1...64"]),
        ("warm-up longer than the run", ["--warmup-steps", "9"], 64, ["--warmup-steps must lie in 0...steps (8), got 9"]),
        ("missing data file", ["--data", "/nonexistent/samples.h5"], 65, ["/nonexistent/samples.h5"]),
        // Each of these once crashed (division by zero) or ran out of memory instead of refusing.
        ("zero steps", ["--steps", "0"], 64, ["--steps must be positive, got 0"]),
        ("zero interval", ["--interval", "0"], 64, ["--interval must be positive, got 0"]),
        ("a CNN too wide for memory", ["--width", "2000"], 64, ["--width must lie in 1...256, got 2000"]),
        ("a batch too large", ["--batch-samples", "2000"], 64, ["at most 4096 samples", "got 4 x 2000"]),
        ("test templates of one sample", ["--test-samples", "1"], 64, ["--test-samples must be at least 2"]),
        ("a protocol without data", ["--protocol", "protocols/demo-pixels8.yaml"], 64,
         ["protocols/demo-pixels8.yaml has no 'data' key", "--data F.h5"]),
    ]

    @Test("bad flags: exit 64/65, one line, no run directory", arguments: flagCases)
    func badFlags(_ c: (String, [String], Int32, [String])) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        expectRefused(try train(run, c.1), status: c.2, c.3, runDirectory: run, c.0)
    }

    @Test("a data file with too few identities for a split: exit 65 naming the split")
    func tooFewIdentities() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try writeSamples(in: dir, name: "three.h5", identities: 3, perIdentity: 4, size: 32)
        let run = dir.appendingPathComponent("run")
        expectRefused(try train(run, ["--data", data]), status: 65, [data, "split has", "identities; at least 2 are needed (the file has 3)"],
                      runDirectory: run, "3 identities")
    }

    @Test("images of the wrong size: exit 65 naming the size the networks take")
    func wrongImageSize() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try writeSamples(in: dir, name: "small.h5", identities: 20, perIdentity: 4, size: 16)
        let run = dir.appendingPathComponent("run")
        expectRefused(try train(run, ["--data", data]), status: 65, [data, "the networks take 32x32 images, found 16x16"],
                      runDirectory: run, "16x16")
    }

    @Test("a policy from another loss family (--bins 4 -> --bins 8) is refused; so is a file that is not a policy")
    func policyOfAnotherFamily() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = dir.appendingPathComponent("bins4")
        let r = try train(small, ["--bins", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        let config = try RunConfig.read(try Data(contentsOf: small.appendingPathComponent("config.json")))
        #expect(config.bins == 4)
        let policy = small.appendingPathComponent("policy.h5").path
        let run = dir.appendingPathComponent("bins8")
        expectRefused(try train(run, ["--bins", "8", "--policy", policy]), status: 64,
                      [policy, "the policy was trained for loss parameters [", "impostor_weight[3]]", "impostor_weight[7]]"],
                      runDirectory: run, "bins 4 policy on a bins 8 run")
        // The same policy fits a run of its own family.
        let again = dir.appendingPathComponent("again")
        let ok = try train(again, ["--bins", "4", "--policy", policy])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("warm start: policy from \(policy)"))
        let model = small.appendingPathComponent("model.h5").path
        let notPolicy = dir.appendingPathComponent("not-a-policy")
        expectRefused(try train(notPolicy, ["--policy", model]), status: 65, [model, "not an alaverify-policy file"],
                      runDirectory: notPolicy, "model.h5 as a policy")
    }

    @Test("resuming with a config edited to another architecture is refused and changes no file")
    func checkpointOfAnotherArchitecture() throws {
        let source = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try FileManager.default.copyItem(at: source, to: run)
        let configURL = run.appendingPathComponent("config.json")
        var config = try RunConfig.read(try Data(contentsOf: configURL))
        #expect(config.width == 4)
        config.width = 8
        try config.json().write(to: configURL, atomically: true, encoding: .utf8)
        let before = snapshot(run)
        let r = try CLI.run(["train", "--out", run.path, "--resume"])
        #expect(r.status == 65, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(run.appendingPathComponent("checkpoint.h5").path))
        #expect(r.stderr.contains("checkpoint is for") && r.stderr.contains("this model is"), "\(r.stderr)")
        #expect(snapshot(run) == before)
    }

    @Test("--resume with flags that would change the recorded run is refused, not silently ignored")
    func resumeWithChangingFlags() throws {
        let source = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        try FileManager.default.copyItem(at: source, to: run)
        let before = snapshot(run)
        let r = try CLI.run(["train", "--out", run.path, "--resume", "--steps", "16", "--set", "scale=4"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr == "alaverify: --resume continues the run as recorded in \(run.path)/config.json; --steps, --set cannot change it (start a new run with another --out)\n")
        #expect(snapshot(run) == before)
    }
}
