import Foundation
import TestSupport
import Testing

/// A path in the temporary folder for one test's output, not yet created (removed first if it exists).
func temporaryFolder(_ tag: String) -> String {
    let path = NSTemporaryDirectory() + "alaverify-report-\(tag)-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.removeItem(atPath: path)
    return path
}

@Suite("alaverify report (the built binary)", .serialized)
struct CommandTests {
    @Test("writes the PNGs, metrics.json and summary.md; a second run needs --force; bytes repeat")
    func endToEnd() throws {
        let out = temporaryFolder("e2e")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let args = ["report", "fixtures/demo-pixels32.csv", "fixtures/demo-pixels8.csv", "--out", out, "--far", "1e-3", "--far", "1e-6", "--ci", "wilson"]
        let first = try CLI.run(args)
        #expect(first.status == 0, "\(first.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names == ["det.png", "hist-1-demo-pixels32.csv.png", "hist-2-demo-pixels8.csv.png", "metrics.json", "roc.png", "summary.md"])
        // The unresolvable target is drawn and warned about, not refused.
        #expect(first.stderr.contains("frr@far=1e-6 not estimable"))
        let det = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out + "/det.png")))
        let image = try decodePNG(det)
        #expect(image.width == 1040 && image.height == 760)
        let text = Dictionary(try textChunks(det), uniquingKeysWith: { a, _ in a })
        #expect(text["alaverify:command"]?.hasPrefix("alaverify report fixtures/demo-pixels32.csv") == true)
        #expect(text["alaverify:inputs"]?.contains("fixtures/demo-pixels8.csv") == true)

        let again = try CLI.run(args)
        #expect(again.status == 64)
        #expect(again.stderr.split(separator: "\n").count == 1)
        #expect(again.stderr.contains("not empty") && again.stderr.contains("--force"))

        let forced = try CLI.run(args + ["--force"])
        #expect(forced.status == 0)
        // The command line differs (--force), so compare what does not record it.
        let json1 = try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))
        let rerun = temporaryFolder("e2e-rerun")
        defer { try? FileManager.default.removeItem(atPath: rerun) }
        _ = try CLI.run(args.map { $0 == out ? rerun : $0 })
        #expect(try Data(contentsOf: URL(fileURLWithPath: rerun + "/metrics.json")) == json1)
        // Across processes (another hash seed) the image data are the same bytes.
        for name in ["det.png", "roc.png", "hist-1-demo-pixels32.csv.png"] {
            let a = try pngChunks([UInt8](Data(contentsOf: URL(fileURLWithPath: out + "/" + name)))).filter { $0.type == "IDAT" }.map(\.data)
            let b = try pngChunks([UInt8](Data(contentsOf: URL(fileURLWithPath: rerun + "/" + name)))).filter { $0.type == "IDAT" }.map(\.data)
            #expect(!a.isEmpty && a == b, "\(name) pixels differ between processes")
        }
        let names2 = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names2.contains { $0.contains(".tmp-") })
    }

    @Test("bad places and inputs give one line and SPEC's exit code", arguments: [
        (["report", "fixtures/demo-pixels8.csv", "--out", "/proc/alaverify-cannot-write"], Int32(64), "cannot create"),
        (["report", "fixtures/demo-pixels8.csv", "--out", "fixtures/demo-pixels8.csv"], Int32(64), "not a folder"),
        (["report", "Sources", "--out", "@TMP@"], Int32(65), "run folder has no scores"),
        (["report", "no-such-file.csv", "--out", "@TMP@"], Int32(65), "no such file"),
        (["report", "fixtures/demo-pixels8.csv", "--out", "@TMP@", "--axes", "linear"], Int32(64), "axes"),
        (["report", "--out", "@TMP@"], Int32(64), "at least one"),
    ])
    func failures(_ c: ([String], Int32, String)) throws {
        let tmp = temporaryFolder("fail")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try CLI.run(c.0.map { $0 == "@TMP@" ? tmp : $0 })
        #expect(r.status == c.1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(c.2), "\(r.stderr)")
    }

    @Test("--help states the exit code of an unwritable output folder")
    func help() throws {
        let r = try CLI.run(["report", "--help"])
        #expect(r.status == 0)
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("64 usage error, including a non-empty DIR without --force and an output folder that cannot be created or written"))
    }
}

@Suite("alaverify report on a run folder with history.jsonl (the built binary)", .serialized)
struct TrainingReportCommandTests {
    /// A run folder holding the fixture's scores as scores.csv and `history` as history.jsonl.
    func runFolder(_ tag: String, history: String) throws -> String {
        let dir = temporaryFolder("run-\(tag)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("fixtures/demo-pixels8.csv").path, toPath: dir + "/scores.csv")
        try history.write(toFile: dir + "/history.jsonl", atomically: true, encoding: .utf8)
        return dir
    }

    @Test("the training figures and section are written, and repeat byte for byte")
    func trainingFigures() throws {
        let folder = try runFolder("ok", history: handHistory)
        let out = temporaryFolder("train-out")
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: out) }
        let name = (folder as NSString).lastPathComponent
        let first = try CLI.run(["report", folder, "--out", out, "--ci", "none"])
        #expect(first.status == 0, "\(first.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        for suffix in ["target", "parameters", "controller"] { #expect(names.contains("train-1-\(name)-\(suffix).png")) }
        let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
        #expect(summary.contains("## Training: \(name)") && summary.contains("at step 20, child 0"))
        #expect(summary.contains("| `\(folder)/history.jsonl` |"))
        let bytes = try names.map { try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0)) }
        // The same command again (the command line is part of every PNG's metadata).
        try FileManager.default.removeItem(atPath: out)
        let second = try CLI.run(["report", folder, "--out", out, "--ci", "none"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try names.map { try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0)) } == bytes)
    }

    @Test("a malformed history line: exit 65, one line naming the file and the line, nothing written")
    func malformedHistory() throws {
        var lines = handHistory.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: "\"actions\":[1,1,0,-1,1,0,1]", with: "\"actions\":[1,1,0]")
        let folder = try runFolder("bad", history: lines.joined(separator: "\n"))
        let out = temporaryFolder("train-bad-out")
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["report", folder, "--out", out])
        #expect(r.status == 65)
        #expect(r.stderr == "alaverify: \(folder)/history.jsonl: line 4: 'actions' must be an array of 7 values -1, 0 or +1, one per loss parameter\n")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).isEmpty)
    }
}
