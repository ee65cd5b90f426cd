import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing

/// The hand-checked system used throughout:
/// genuine {0.9, 0.8, 0.3}, impostor {0.5, 0.2, 0.1, NaN}; nG = 3, nI = 4.
let handSystem = "label,score\n1,0.9\n1,0.8\n1,0.3\n0,0.5\n0,0.2\n0,0.1\n0,nan\n"

@Suite struct MetricsCommandTests {
    @Test func tableReportsHandDerivedOperatingPoint() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write(handSystem, "hand.csv", in: dir)
        let r = try CLI.run(["metrics", path, "--far", "0.25", "--ci", "none"])
        #expect(r.status == 0, "\(r.stderr)")
        // frr@far=0.25: K = floor(0.25 * 4) = 1; v = 2nd largest finite impostor = 0.2; the smallest
        // observed score above it is the genuine 0.3 -> FAR = #{0.5}/4 = 0.25, FRR = 0/3.
        let row = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("frr@far=0.25") })
        let cells = row.split(separator: " ").map(String.init)
        #expect(cells == ["frr@far=0.25", "0.3", "2.500e-01", "0.000000", "-", "1", "4", "0", "3"])
        // EER: the polyline runs (0.25, 1/3) at t=0.5 to (0.25, 0) at t=0.3 and crosses FAR=FRR at 0.25.
        #expect(r.stdout.contains("EER        0.250000  at threshold 0.5"))
        // AUC: 0.9 and 0.8 beat all 4 impostors (NaN ranks as -inf), 0.3 beats 3: 11/12.
        #expect(r.stdout.contains("ROC AUC    0.916667"))
        #expect(r.stdout.contains("NOT ESTIMABLE"))  // 0.25 * 4 = 1 < 3
    }

    @Test func jsonFollowsTheSpecSchema() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write(handSystem, "hand.csv", in: dir)
        let r = try CLI.run(["metrics", path, "--far", "0.25", "--frr", "0.34", "--json", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONValue.parse(Data(r.stdout.utf8))
        #expect(doc["schema"] == .string("alaverify.metrics/1"))
        guard case .array(let systems)? = doc["systems"], let system = systems.first else {
            Issue.record("no systems in \(r.stdout)")
            return
        }
        #expect(system["counts"]?["genuine"] == .int(3))
        #expect(system["counts"]?["impostor"] == .int(4))
        #expect(system["counts"]?["impostor_failed"] == .int(1))
        #expect(system["roc_auc"]?.doubleValue == 11.0 / 12.0)
        // AP: thresholds 0.9, 0.8 (precision 1), 0.3 (TP 3, FP 1: precision 3/4) -> (1 + 1 + 0.75) / 3.
        #expect(abs((system["average_precision"]?.doubleValue ?? 0) - 2.75 / 3) < 1e-12)
        guard case .array(let points)? = system["operating_points"], points.count == 2 else {
            Issue.record("expected two operating points")
            return
        }
        #expect(points[0]["name"] == .string("frr@far=0.25"))
        #expect(points[0]["threshold"]?.doubleValue == 0.3)
        #expect(points[0]["false_accepts"] == .int(1))
        #expect(points[0]["estimable"] == .bool(false))
        // far@frr=0.34: floor(0.34 * 3) = 1 false reject allowed -> t = 2nd smallest genuine = 0.8;
        // FAR = #{i >= 0.8} / 4 = 0, FRR = 1/3.
        #expect(points[1]["threshold"]?.doubleValue == 0.8)
        #expect(points[1]["far"]?.doubleValue == 0)
        #expect(points[1]["false_rejects"] == .int(1))
    }

    @Test func rejectAllThresholdIsTheStringInf() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every genuine score lies below the top impostor: K = floor(0.4 * 2) = 0 leaves no observed
        // score above v = 0.5, so only the reject-all threshold +inf satisfies FAR <= 0.4.
        let path = try write("label,score\n1,0.1\n0,0.5\n0,0.2\n", "allbad.csv", in: dir)
        let r = try CLI.run(["metrics", path, "--far", "0.4", "--json", "-", "--ci", "none"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"threshold\": \"inf\""))
        #expect(r.stdout.contains("\"frr\": 1.0"))
    }

    @Test func distancePolarityReportsThresholdInInputUnits() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The hand system as distances d = 1 - s: genuine {0.1, 0.2, 0.7}, impostor {0.5, 0.8, 0.9}.
        let path = try write("label,score\n1,0.1\n1,0.2\n1,0.7\n0,0.5\n0,0.8\n0,0.9\n", "dist.csv", in: dir)
        let r = try CLI.run(["metrics", path, "--polarity", "distance", "--far", "0.34", "--json", "-", "--ci", "none"])
        #expect(r.status == 0, "\(r.stderr)")
        // K = floor(0.34 * 3) = 1: accept iff distance <= t; the 2nd smallest impostor distance is 0.8,
        // the largest observed distance below it is the genuine 0.7 -> t = 0.7, FA = {0.5}, FRR = 0.
        let doc = try JSONValue.parse(Data(r.stdout.utf8))
        guard case .array(let systems)? = doc["systems"], case .array(let points)? = systems[0]["operating_points"]
        else { Issue.record("bad JSON"); return }
        #expect(points[0]["threshold"]?.doubleValue == 0.7)
        #expect(points[0]["false_accepts"] == .int(1))
        #expect(points[0]["false_rejects"] == .int(0))
        #expect(systems[0]["accept"] == .string("distance <= threshold"))
    }

    @Test func bobFormatsAndTSVGiveTheSameNumbersAsCSV() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write("label,score,left_id,right_id\n1,0.9,a,a\n1,0.4,b,b\n0,0.5,a,b\n0,0.1,b,c\n0,0.3,a,c\n", "s.csv", in: dir)
        let tsv = try write("label\tscore\tleft_id\tright_id\n1\t0.9\ta\ta\n1\t0.4\tb\tb\n0\t0.5\ta\tb\n0\t0.1\tb\tc\n0\t0.3\ta\tc\n", "s.tsv", in: dir)
        let bob4 = try write("a a p1 0.9\nb b p2 0.4\na b p3 0.5\nb c p4 0.1\na c p5 0.3\n", "s.bob4", in: dir)
        let bob5 = try write("a m1 a p1 0.9\nb m2 b p2 0.4\na m1 b p3 0.5\nb m2 c p4 0.1\na m1 c p5 0.3\n", "s.bob5", in: dir)
        var outputs = [String]()
        for path in [csv, tsv, bob4, bob5] {
            let r = try CLI.run(["metrics", path, "--far", "0.34", "--json", "-", "--ci", "none", "--name", "x"])
            #expect(r.status == 0, "\(path): \(r.stderr)")
            outputs.append(r.stdout.replacingOccurrences(of: path, with: "SOURCE"))
        }
        #expect(Set(outputs).count == 1, "\(outputs)")
        #expect(outputs[0].contains("\"impostor_identity_pairs\": 3"))
    }

    @Test func jsonFileIsWrittenAndTheTableStillPrinted() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write(handSystem, "hand.csv", in: dir)
        let out = dir.appendingPathComponent("m.json").path
        let r = try CLI.run(["metrics", path, "--far", "0.25", "--json", out])
        #expect(r.status == 0)
        #expect(r.stdout.contains("frr@far=0.25"))
        let written = try String(contentsOfFile: out, encoding: .utf8)
        let direct = try CLI.run(["metrics", path, "--far", "0.25", "--json", "-"]).stdout
        #expect(written == direct)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("tmp") }
        #expect(leftovers.isEmpty)
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        var id: String
        var content: String
        var message: String
        var fileName = "bad.csv"
        var testDescription: String { id }
    }

    static let badInputs: [BadInput] = [
        BadInput(id: "malformed row", content: "label,score\n1,0.5\n0,0.1,7\n", message: "line 3: expected 2 columns"),
        BadInput(id: "unknown label", content: "label,score\n1,0.5\nmaybe,0.1\n", message: "line 3: unknown label 'maybe'"),
        BadInput(id: "non-numeric score", content: "label,score\n1,0.5\n0,abc\n", message: "line 3: score 'abc' is not a number"),
        BadInput(id: "hex float", content: "label,score\n1,0.5\n0,0x1p3\n", message: "line 3: score '0x1p3' is not a number"),
        BadInput(id: "empty score", content: "label,score\n1,0.5\n0,\n", message: "line 3: the score is empty"),
        BadInput(id: "no impostors", content: "label,score\n1,0.5\n1,0.7\n", message: "no impostor scores"),
        BadInput(id: "no genuine", content: "label,score\n0,0.5\n", message: "no genuine scores"),
        BadInput(id: "empty file", content: "", message: "the file is empty"),
        BadInput(id: "header only", content: "label,score\n", message: "no genuine scores"),
        BadInput(id: "header without score", content: "label,value\n1,0.5\n", message: "line 1: the header must name the columns label and score"),
        BadInput(id: "bob wrong column count", content: "a a p 0.5\nb c\n", message: "line 2: expected 4 whitespace-separated columns",
                 fileName: "bad.scores"),
    ]

    @Test(arguments: badInputs)
    func badInputExits65WithOneLineNamingFileAndLine(_ bad: BadInput) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write(bad.content, bad.fileName, in: dir)
        let r = try CLI.run(["metrics", path])
        #expect(r.status == 65)
        #expect(r.stderr.hasPrefix("alaverify: \(path): "), "\(r.stderr)")
        #expect(r.stderr.contains(bad.message), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "one line: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: [
        ["--far", "2"], ["--far", "0"], ["--far", "1"], ["--far", "abc"], ["--metric", "frr@fa=1e-4"],
        ["--metric", "frr@far=2"], ["--frr", "-0.1"], ["--threshold-rule", "median"], ["--replicates", "100000000"],
    ])
    func malformedTargetsExit64(_ flags: [String]) throws {
        let r = try CLI.run(["metrics", "fixtures/demo-pixels32.csv"] + flags)
        #expect(r.status == 64, "\(flags): \(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "one line: \(r.stderr)")
    }

    @Test func missingFileExits65() throws {
        let r = try CLI.run(["metrics", "/nonexistent/scores.csv"])
        #expect(r.status == 65)
        #expect(r.stderr == "alaverify: /nonexistent/scores.csv: no such file\n")
    }

    @Test func aFolderGivenAsScoreFileExits65() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["metrics", dir.path])
        #expect(r.status == 65)
        #expect(r.stderr == "alaverify: \(dir.path): is a folder, not a file\n")
    }

    @Test func bundledFixtureHasSubjectIntervalsAndEstimabilityVerdicts() throws {
        let r = try CLI.run(["metrics", "fixtures/demo-pixels8.csv", "--far", "1e-2", "--far", "1e-3", "--json", "-",
                             "--replicates", "200"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONValue.parse(Data(r.stdout.utf8))
        guard case .array(let systems)? = doc["systems"], case .array(let points)? = systems[0]["operating_points"]
        else { Issue.record("bad JSON"); return }
        // 60 identities -> 60 * 59 / 2 = 1,770 impostor identity pairs.
        #expect(points[0]["impostor_identity_pairs"] == .int(1770))
        // 1e-2 * 1,770 = 17.7 >= 3; 1e-3 * 1,770 = 1.77 < 3.
        #expect(points[0]["estimable_by_subjects"] == .bool(true))
        #expect(points[1]["estimable_by_subjects"] == .bool(false))
        #expect(points[0]["ci"]?["method"] == .string("bootstrap-subjects"))
        let frr = points[0]["frr"]?.doubleValue ?? -1
        guard case .array(let ci)? = points[0]["ci95"], ci.count == 2 else { Issue.record("no ci95"); return }
        #expect((ci[0].doubleValue ?? 2) <= frr && frr <= (ci[1].doubleValue ?? -1))
    }
}

@Suite struct MetricsOutputFileTests {
    @Test func existingJSONIsReplacedWhole() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write(handSystem, "hand.csv", in: dir)
        let out = try write("old content\n", "m.json", in: dir)
        let r = try CLI.run(["metrics", path, "--far", "0.25", "--json", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("{\n  \"schema\""))
    }

    @Test func unwritableOutputKeepsTheOldFileAndSaysWhy() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write(handSystem, "hand.csv", in: dir)
        let r = try CLI.run(["metrics", path, "--json", dir.appendingPathComponent("missing/m.json").path])
        #expect(r.status == 64)
        // Refused before any work: no table on stdout.
        #expect(r.stderr == "alaverify: --json \(dir.path)/missing/m.json: the folder \(dir.path)/missing does not exist\n")
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: [
        ["gate", "--protocol", "protocols/demo-pixels8.yaml", "--junit", "/proc/alaverify/x.xml"],
        ["gate", "--protocol", "protocols/demo-pixels8.yaml", "--markdown", "/proc/x.md"],
        ["gate", "--protocol", "protocols/demo-pixels8.yaml", "--baseline", "fixtures", "--update-baseline"],
        ["metrics", "fixtures/demo-pixels8.csv", "--json", "/proc/x.json"],
        ["score", "--model", "fixtures/fonts-mini.h5", "--out", "/proc/x.h5"],
    ])
    func outputsThatCannotBeWrittenAreRefusedFirst(_ args: [String]) throws {
        let r = try CLI.run(args)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1 && r.stderr.hasPrefix("alaverify: --"), "\(r.stderr)")
    }
}
