import AlaverifyBase
import Foundation
import Runs
import SampleData
import ScoreMetrics
import Testing

/// Dev: G {0.9, 0.8, 0.3}, I {0.5, 0.25, 0.125}. Eval: G {0.375, 0.25, 0.875, NaN}, I {0.5, 0.375, 0.125, 0.25}.
let handDev = "label,score\n1,0.9\n1,0.8\n1,0.3\n0,0.5\n0,0.25\n0,0.125\n"
let handEval = "label,score\n1,0.375\n1,0.25\n1,0.875\n1,nan\n0,0.5\n0,0.375\n0,0.125\n0,0.25\n"

/// The Wilson 95% interval, written out here (z = probit(0.975)).
func wilson95(_ k: Int, _ n: Int) -> (Double, Double) {
    let z = 1.959963984540054, p = Double(k) / Double(n), nn = Double(n)
    let d = 1 + z * z / nn, c = (p + z * z / (2 * nn)) / d
    let h = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot() / d
    return (max(0, c - h), min(1, c + h))
}

func fixedThresholds(_ stdout: String) throws -> [JSONValue] {
    let doc = try JSONValue.parse(Data(stdout.utf8))
    guard case .array(let systems)? = doc["systems"], case .array(let points)? = systems.first?["fixed_thresholds"] else {
        Issue.record("no fixed_thresholds in \(stdout)")
        return []
    }
    return points
}

@Suite("Fixed thresholds end to end: metrics, score, report, gate")
struct FixedThresholdCommandTests {
    @Test("metrics --dev: the dev threshold applied to eval, hand-derived counts, drift, HTER at dev's EER threshold, provenance")
    func devEval() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dev = try write(handDev, "dev.csv", in: dir), eval = try write(handEval, "eval.csv", in: dir)
        let r = try CLI.run(["metrics", "--dev", dev, eval, "--far", "0.34", "--threshold", "0.3125", "--json", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        let points = try fixedThresholds(r.stdout)
        #expect(points.count == 3)
        guard points.count == 3 else { return }
        // frr@far=0.34 on dev: K = floor(0.34 * 3) = 1, v = 0.25, t = 0.3 (genuine). On eval at 0.3:
        // accepted {0.5, 0.375} -> FAR 2/4; rejected {0.25, NaN} -> FRR 2/4.
        let p = points[0]
        #expect(p["name"] == .string("frr@far=0.34") && p["threshold"]?.doubleValue == 0.3 && p["rule"] == .string("roc"))
        #expect(p["source"]?["kind"] == .string("dev") && p["source"]?["file"] == .string(dev))
        #expect(p["source"]?["sha256"] == .string(SHA256.hex(fileAt: dev)!))
        #expect(p["chosen_on"]?["false_accepts"] == .int(1) && p["chosen_on"]?["far"]?.doubleValue == 1.0 / 3)
        #expect(p["false_accepts"] == .int(2) && p["false_rejects"] == .int(2))
        #expect(p["far"]?.doubleValue == 0.5 && p["frr"]?.doubleValue == 0.5)
        #expect(p["far_drift"]?.doubleValue == 0.5 / 0.34)
        // No identities: Wilson intervals at the fixed threshold.
        let (lo, hi) = wilson95(2, 4)
        #expect(abs((p["far_ci"]?["lower"]?.doubleValue ?? -1) - lo) < 1e-12 && abs((p["far_ci"]?["upper"]?.doubleValue ?? -1) - hi) < 1e-12)
        #expect(p["far_ci"]?["method"] == .string("wilson"))
        // Dev's DET passes (1/3, 1/3) at t = 0.5: EER 1/3 there. Eval at 0.5: FA {0.5} = 1/4,
        // FR {0.375, 0.25, NaN} = 3/4, HTER 1/2.
        let e = points[1]
        #expect(e["name"] == .string("eer") && e["threshold"]?.doubleValue == 0.5 && e["rule"] == .string("eer"))
        #expect(e["far"]?.doubleValue == 0.25 && e["frr"]?.doubleValue == 0.75 && e["hter"]?.doubleValue == 0.5)
        // Given 0.3125: FA {0.5, 0.375} = 2, FR {0.25, NaN} = 2.
        let g = points[2]
        #expect(g["name"] == .string("threshold=0.3125") && g["source"]?["kind"] == .string("given") && g["rule"] == .null)
        #expect(g["false_accepts"] == .int(2) && g["false_rejects"] == .int(2))

        let table = try CLI.run(["metrics", "--dev", dev, eval, "--far", "0.34", "--ci", "none"])
        #expect(table.status == 0)
        let row = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("dev frr@far=0.34") })
        #expect(row.split(separator: " ").map(String.init) == [
            "dev", "frr@far=0.34", "0.3", "0.34", "3.333e-01", "5.000e-01", "-", "1.47", "0.500000", "-", "0.500000", "2", "4", "2", "4",
        ])
    }

    @Test("bad input: one line, exit 64/65, no JSON written", arguments: [
        ("nan threshold", ["--threshold", "nan"], Int32(64), "a threshold must be a finite number"),
        ("infinite threshold", ["--threshold", "inf"], Int32(64), "a threshold must be a finite number"),
        ("dev without impostors", ["--dev", "{genuine-only}"], Int32(65), "genuine-only.csv"),
        ("dev without genuine", ["--dev", "{impostor-only}"], Int32(65), "impostor-only.csv"),
        ("distance thresholds for similarity scores", ["--threshold-from", "{distance-json}"], Int32(64), "are for distance scores"),
        ("calibration on separated scores", ["--calibrate", "{separated}"], Int32(65), "do not overlap"),
        ("points only with a dev file", ["--points-only", "--dev", "{separated}"], Int32(64), "--points-only"),
    ])
    func badInput(_ name: String, _ flags: [String], _ status: Int32, _ message: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let eval = try write(handEval, "eval.csv", in: dir)
        let files = [
            "{genuine-only}": try write("label,score\n1,0.5\n1,0.7\n", "genuine-only.csv", in: dir),
            "{impostor-only}": try write("label,score\n0,0.5\n0,0.7\n", "impostor-only.csv", in: dir),
            "{separated}": try write("label,score\n1,0.9\n1,0.8\n0,0.1\n0,0.2\n", "separated.csv", in: dir),
            "{distance-json}": try write("""
                {"schema": "alaverify.metrics/1", "systems": [{"name": "d", "polarity": "distance",
                 "operating_points": [{"name": "frr@far=0.1", "threshold": 0.4, "rule": "roc"}]}]}
                """, "distance.json", in: dir),
        ]
        let json = dir.appendingPathComponent("out.json").path
        let r = try CLI.run(["metrics", eval, "--json", json] + flags.map { files[$0] ?? $0 })
        #expect(r.status == status, "\(name): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(name): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: json), "\(name)")
    }

    @Test("metrics --cllr and --calibrate: hand-derived Cllr and minCllr, the fitted map and its provenance")
    func calibration() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Scores 0 (LLR 0) everywhere: Cllr 1 bit; one tied block: minCllr 1 bit.
        let flat = try write("label,score\n1,0\n1,0\n0,0\n0,0\n0,0\n", "flat.csv", in: dir)
        let r = try CLI.run(["metrics", flat, "--cllr", "--json", "-", "--ci", "none"])
        #expect(r.status == 0, "\(r.stderr)")
        let system = try #require({ () -> JSONValue? in
            if case .array(let s)? = try JSONValue.parse(Data(r.stdout.utf8))["systems"] { return s.first }
            return nil
        }())
        #expect(system["calibration"]?["cllr"]?.doubleValue == 1)
        #expect(abs((system["calibration"]?["min_cllr"]?.doubleValue ?? 0) - 1) < 1e-15)
        let dev = try write(handDev, "dev.csv", in: dir), eval = try write(handEval, "eval.csv", in: dir)
        let c = try CLI.run(["metrics", eval, "--calibrate", dev, "--json", "-", "--ci", "none"])
        #expect(c.status == 0, "\(c.stderr)")
        let doc = try JSONValue.parse(Data(c.stdout.utf8))
        #expect(doc["calibration_fitted_on"]?["sha256"] == .string(SHA256.hex(fileAt: dev)!))
        let scale = try #require(doc["calibration_fitted_on"]?["scale"]?.doubleValue)
        let offset = try #require(doc["calibration_fitted_on"]?["offset"]?.doubleValue)
        // The calibrated Cllr of eval, recomputed here from the map (the NaN genuine is left out).
        var costG = 0.0, costI = 0.0
        for s in [0.375, 0.25, 0.875] { costG += log2(1 + exp(-(scale * s + offset))) }
        for s in [0.5, 0.375, 0.125, 0.25] { costI += log2(1 + exp(scale * s + offset)) }
        let want = (costG / 3 + costI / 4) / 2
        guard case .array(let systems)? = doc["systems"] else { Issue.record("no systems"); return }
        let got = try #require(systems[0]["calibration"]?["calibrated"]?["cllr"]?.doubleValue)
        #expect(abs(got - want) < 1e-12)
        #expect(systems[0]["calibration"]?["failed_left_out"] == .int(1))
    }

    @Test("train records thresholds in model.h5; metrics and score evaluate new scores at them; a model without them is refused")
    func modelThresholds() throws {
        let run = try straightRun.get()
        let model = run.appendingPathComponent("model.h5").path
        let contents = try RunFiles.read(path: model, formats: ["alaverify-model"])
        let document = try JSONValue.parse(Data(try #require(contents.documents["thresholds"]).utf8))
        #expect(document["schema"] == .string("alaverify.thresholds/1"))
        let recorded = try ThresholdSources.model(path: run.path)
        #expect(recorded.map(\.name).contains("eer") && recorded.contains { $0.chosenFor == .frrAtFAR(1e-3) })
        // Validation FAR of a recorded frr@far=a threshold never exceeds a (SPEC's roc rule).
        for t in recorded { if case .frrAtFAR(let a)? = t.chosenFor { #expect(try #require(t.chosenOn).far <= a) } }

        let scores = run.appendingPathComponent("scores.h5").path
        let r = try CLI.run(["metrics", scores, "--threshold-from", run.path, "--ci", "none", "--json", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        // Counts recomputed here from the scores file at each recorded threshold.
        guard case .float(let set) = try ScoresHDF5.read(path: scores) else { Issue.record("not float32"); return }
        let points = try fixedThresholds(r.stdout)
        #expect(points.count == recorded.count)
        for (p, t) in zip(points, recorded) {
            #expect(p["threshold"]?.doubleValue == t.threshold && p["source"]?["kind"] == .string("model"))
            #expect(p["false_accepts"] == .int(set.impostor.filter { Double($0) >= t.threshold }.count))
            #expect(p["false_rejects"] == .int(set.genuine.filter { $0.isNaN || Double($0) < t.threshold }.count))
        }

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fresh = dir.appendingPathComponent("new.h5").path
        let s = try CLI.run(["score", "--model", run.path, "--split", "test", "--out", fresh, "--threshold-from", model])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(s.stdout.contains("at fixed thresholds") && s.stdout.contains("model frr@far=1e-3"))

        // A model written before thresholds were recorded: the same file without the document.
        let old = dir.appendingPathComponent("old-model.h5").path
        try RunFiles.write(path: old, format: RunFiles.modelFormat, states: contents.states, documents: ["config": contents.documents["config"]!])
        let refused = try CLI.run(["metrics", scores, "--threshold-from", old])
        #expect(refused.status == 65 && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("old-model.h5: records no deployment thresholds"))
        let out = dir.appendingPathComponent("never.h5").path
        let noScore = try CLI.run(["score", "--model", run.path, "--split", "test", "--out", out, "--threshold-from", old])
        #expect(noScore.status == 65 && !FileManager.default.fileExists(atPath: out), "\(noScore.stderr)")
    }

    @Test("report --dev marks the dev thresholds on the eval DET and tabulates target and achieved rates")
    func report() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("r").path
        let r = try CLI.run([
            "report", "fixtures/demo-pixels8-eval.csv", "--dev", "fixtures/demo-pixels8-dev.csv", "--far", "0.05",
            "--replicates", "100", "--out", out,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
        #expect(summary.contains("## At fixed thresholds"))
        #expect(summary.contains("| demo-pixels8-eval.csv | dev frr@far=0.05 | 0.525919 | 5.00% | 5.00% | 5.17% ["))
        let metrics = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json")))
        guard case .array(let systems)? = metrics["systems"], case .array(let fixed)? = systems[0]["fixed_thresholds"] else {
            Issue.record("no fixed thresholds in metrics.json")
            return
        }
        // 1,440 of the 27,840 eval impostor comparisons reach the dev threshold 0.525919.
        #expect(fixed[0]["false_accepts"] == .int(1440) && fixed[0]["impostor"] == .int(27840))
    }

    @Test("gate at a shipped threshold: the deploy protocol passes; a tighter FAR limit fails; missing sources are refused")
    func gate() throws {
        let ok = try CLI.run(["gate", "--protocol", "protocols/demo-pixels8-deploy.yaml", "--replicates", "200"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("FAR at the shipped threshold             0.0517241"))
        #expect(ok.stdout.contains("at threshold 0.525919 from"))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = CLI.packageRoot.path
        func protocolFile(_ gates: String, extra: String = "") throws -> String {
            try write("""
                name: deploy-test
                scores: \(root)/fixtures/demo-pixels8-eval.csv
                \(extra)
                gates:
                \(gates)
                """, "p-\(UUID().uuidString).yaml", in: dir)
        }
        let dev = "dev: \(root)/fixtures/demo-pixels8-dev.csv"
        let tight = try protocolFile("  - {metric: far, threshold_from: dev, at: frr@far=0.05, max: 0.05}", extra: dev)
        let failed = try CLI.run(["gate", "--protocol", tight])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stdout.contains("FAR 0.0517241 > 0.05 at threshold 0.525919"))
        let noDev = try protocolFile("  - {metric: far, threshold_from: dev, at: frr@far=0.05, max: 0.05}")
        let r64 = try CLI.run(["gate", "--protocol", noDev])
        #expect(r64.status == 64 && r64.stderr.contains("names no dev: score file"), "\(r64.stderr)")
        let badKey = try protocolFile("  - {metric: far, threshold_from: dev, at: frr@far=0.05, max_regression: 0.01}", extra: dev)
        let r64b = try CLI.run(["gate", "--protocol", badKey])
        #expect(r64b.status == 64 && r64b.stderr.contains("takes a max or min limit"), "\(r64b.stderr)")
        let unresolvable = try protocolFile("  - {metric: far, threshold: 0.9, max: 0.00001}")
        let r65 = try CLI.run(["gate", "--protocol", unresolvable])
        #expect(r65.status == 65 && r65.stderr.contains("rule of 3"), "\(r65.stderr)")
        let given = try protocolFile("  - {metric: frr, threshold: 0.525919, max: 0.9, use: ci95_upper}")
        // FRR there is 739/840 = 0.88 <= 0.9, but the upper end of its interval is above 0.9.
        let r1 = try CLI.run(["gate", "--protocol", given, "--replicates", "200"])
        #expect(r1.status == 1, "\(r1.stderr)")
        #expect(r1.stdout.contains("FRR at t=0.525919 ci95_upper <= 0.9") && r1.stdout.contains("0.879762"))
    }
}
