import Foundation
import TestSupport
import Testing

/// The repository root as a path (the binary runs there unless told otherwise).
private let packageRoot = CLI.packageRoot.path

@Suite("alaverify gate end to end")
struct GateEndToEndTests {
    @Test("An absolute protocol path works from any working folder, and the baseline's scores are found")
    func absoluteProtocolElsewhere() throws {
        let elsewhere = try temporaryDirectory().path
        let run = try CLI.run([
            "gate", "--protocol", packageRoot + "/protocols/demo-pixels8.yaml", "--replicates", "200",
            "--baseline", packageRoot + "/reports/baseline.json",
        ], in: URL(fileURLWithPath: elsewhere))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("gate: PASS"))
        // The committed baseline's score file is found, so the significance gate is the paired one.
        #expect(run.stdout.contains("paired subject bootstrap"), "\(run.stdout)")
    }

    @Test("The original passes, a deliberately degraded system fails; JUnit and Markdown are written")
    func degradedFails() throws {
        let dir = try temporaryDirectory().path
        let bad = dir + "/degraded.csv"
        try degradedCopy(of: packageRoot + "/fixtures/demo-pixels8.csv", to: bad, genuineShift: 0.15, sigma: 0.1, seed: 5)

        let ok = try CLI.run([
            "gate", "--protocol", "protocols/demo-pixels8.yaml", "--replicates", "200",
            "--junit", dir + "/ok.xml", "--markdown", dir + "/ok.md",
        ])
        #expect(ok.status == 0, "stderr: \(ok.stderr)")
        #expect(ok.stdout.contains("gate: PASS"))
        #expect(ok.stderr.isEmpty)
        let okXML = try String(contentsOfFile: dir + "/ok.xml", encoding: .utf8)
        #expect(okXML.contains("failures=\"0\""))
        #expect(okXML.components(separatedBy: "<testcase ").count - 1 == 5)
        #expect(try String(contentsOfFile: dir + "/ok.md", encoding: .utf8).contains("PASS"))

        let failed = try CLI.run([
            "gate", "--protocol", "protocols/demo-pixels8.yaml", bad, "--replicates", "200",
            "--junit", dir + "/bad.xml", "--markdown", dir + "/bad.md",
        ])
        #expect(failed.status == 1, "stderr: \(failed.stderr)")
        #expect(failed.stdout.contains("gate: FAIL"))
        #expect(failed.stdout.contains("FRR at FAR 5% vs baseline"))
        let xml = try String(contentsOfFile: dir + "/bad.xml", encoding: .utf8)
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 5)
        #expect(xml.contains("<failure type=\"GateFailed\" message=\"change +"))
        #expect(xml.contains("name=\"FRR at FAR 5% vs baseline\""))
        #expect(!xml.contains("failures=\"0\""))
        #expect(try String(contentsOfFile: dir + "/bad.md", encoding: .utf8).contains("FAIL"))
        // No temporary files are left beside the outputs.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test("--update-baseline writes a baseline (temp file + rename, also over an existing one) and says what changed")
    func updateBaseline() throws {
        let dir = try temporaryDirectory().path
        let baseline = dir + "/baseline.json"
        let first = try CLI.run([
            "gate", "--protocol", "protocols/demo-pixels8.yaml", "fixtures/demo-pixels32.csv", "--baseline", baseline,
            "--replicates", "200", "--update-baseline",
        ])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("baseline written: \(baseline)"))
        #expect(first.stdout.contains("new baseline (there was none)"))
        let second = try CLI.run([
            "gate", "--protocol", "protocols/demo-pixels8.yaml", "--baseline", baseline, "--replicates", "200",
            "--update-baseline",
        ])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stdout.contains("frr@far=0.05: 0.886905 -> 0.8875"))
        let text = try String(contentsOfFile: baseline, encoding: .utf8)
        #expect(text.contains("\"protocol\": \"demo-pixels8\""))
        #expect(text.contains("demo-pixels8.csv"))
    }

    struct BadInput: CustomTestStringConvertible, Sendable {
        var id: String
        var arguments: [String]
        var protocolText: String?
        var status: Int32
        var fragment: String
        var testDescription: String { id }
    }

    static let badInputs: [BadInput] = [
        BadInput(id: "missing baseline file", arguments: ["--baseline", "/nonexistent/b.json"], protocolText: nil,
                 status: 65, fragment: "/nonexistent/b.json: no such file"),
        BadInput(id: "more bootstrap replicates than memory allows", arguments: ["--replicates", "99999999999"], protocolText: nil,
                 status: 64, fragment: "--replicates must lie in 100...100000"),
        BadInput(id: "unknown metric in the protocol",
                 arguments: [], protocolText: "name: x\nscores: ../fixtures/demo-pixels8.csv\ngates:\n  - {metric: frr@fra=0.05, max: 1}\n",
                 status: 64, fragment: "line 4: gates[0].metric: invalid metric 'frr@fra=0.05'"),
        BadInput(id: "gate on a metric the data cannot estimate",
                 arguments: [], protocolText: "name: x\nscores: ../fixtures/demo-pixels8.csv\ngates:\n  - {metric: frr@far=1e-4, max: 1}\n",
                 status: 65, fragment: "frr@far=1e-4 is not estimable"),
        BadInput(id: "regression gate with no baseline",
                 arguments: [], protocolText: "name: x\nscores: ../fixtures/demo-pixels8.csv\ngates:\n  - {metric: eer, max_regression: 0.01}\n",
                 status: 64, fragment: "compares against a baseline, but none is given"),
        BadInput(id: "baseline of another protocol",
                 arguments: ["--baseline", "reports/baseline.json"],
                 protocolText: "name: other\nscores: ../fixtures/demo-pixels8.csv\ngates:\n  - {metric: eer, max_regression: 0.01}\n",
                 status: 65, fragment: "is the baseline of protocol 'demo-pixels8', not 'other'"),
    ]

    @Test("Bad input exits 64/65 with one line on stderr", arguments: badInputs)
    func badInput(_ c: BadInput) throws {
        let dir = try temporaryDirectory().path
        var protocolPath = "protocols/demo-pixels8.yaml"
        if let text = c.protocolText {
            // Beside the real protocols so that ../fixtures resolves.
            protocolPath = "protocols/.test-\(UUID().uuidString).yaml"
            try text.write(toFile: packageRoot + "/" + protocolPath, atomically: true, encoding: .utf8)
        }
        defer { if c.protocolText != nil { try? FileManager.default.removeItem(atPath: packageRoot + "/" + protocolPath) } }
        let r = try CLI.run(["gate", "--protocol", protocolPath, "--replicates", "100", "--junit", dir + "/j.xml"] + c.arguments)
        #expect(r.status == c.status, "stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("alaverify: "))
        #expect(r.stderr.contains(c.fragment), "stderr: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
