import Foundation
import Testing
@testable import Reports

/// The built `alaverify` next to the test bundle (.build/debug/alaverify).
func alaverifyBinary() throws -> URL {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [bundle.appendingPathComponent("alaverify"), bundle.deletingLastPathComponent().appendingPathComponent("alaverify")]
    candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/alaverify"))
    return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }, "alaverify is not built (swift build)")
}

/// The package root (for the fixtures).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

func run(_ arguments: [String]) throws -> Run {
    let process = Process()
    process.executableURL = try alaverifyBinary()
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

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
        let first = try run(args)
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

        let again = try run(args)
        #expect(again.status == 64)
        #expect(again.stderr.split(separator: "\n").count == 1)
        #expect(again.stderr.contains("not empty") && again.stderr.contains("--force"))

        let forced = try run(args + ["--force"])
        #expect(forced.status == 0)
        // The command line differs (--force), so compare what does not record it.
        let json1 = try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))
        let rerun = temporaryFolder("e2e-rerun")
        defer { try? FileManager.default.removeItem(atPath: rerun) }
        _ = try run(args.map { $0 == out ? rerun : $0 })
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
        let r = try run(c.0.map { $0 == "@TMP@" ? tmp : $0 })
        #expect(r.status == c.1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(c.2), "\(r.stderr)")
    }

    @Test("--help states the exit code of an unwritable output folder")
    func help() throws {
        let r = try run(["report", "--help"])
        #expect(r.status == 0)
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("64 usage error, including a non-empty DIR without --force and an output folder that cannot be created or written"))
    }
}
