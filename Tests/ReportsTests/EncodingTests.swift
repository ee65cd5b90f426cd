import AlaverifyBase
import CCairo
import Foundation
import ScoreMetrics
import TestSupport
import Testing
@testable import Reports

@Suite("PNG encoding, metadata and determinism")
struct EncodingTests {
    static let provenance = ReportProvenance(
        version: "9.9.9", command: "alaverify report a.csv --out r",
        inputs: [("a.csv", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")])

    @Test("libpng reads back exactly the pixels that were encoded")
    func readBack() throws {
        let image = try DETPlot(series: [try demoSeries()]).render()
        let png = try PNGEncoder.encode(image, text: [PNGText("Software", "test")])
        let decoded = try decodePNG(png)
        #expect(decoded.width == image.width && decoded.height == image.height)
        #expect(decoded.pixels == image.pixels)
    }

    @Test("un-premultiplied RGBA: a translucent fill over white reads back as its blend")
    func colourOrder() throws {
        let canvas = try Canvas(width: 4, height: 2)
        canvas.fill(Rect(x: 0, y: 0, width: 2, height: 2), Color(1, 0, 0))
        canvas.fill(Rect(x: 2, y: 0, width: 2, height: 2), Color(0, 0, 1, 0.5))
        let image = try canvas.image()
        #expect(image.pixel(0, 0) == (255, 0, 0, 255))
        let p = image.pixel(3, 1)
        #expect(p.a == 255 && abs(Int(p.r) - 127) <= 1 && abs(Int(p.g) - 127) <= 1 && p.b == 255)
        let back = try decodePNG(try PNGEncoder.encode(image))
        #expect(back.pixels == image.pixels)
    }

    @Test("every figure carries the tEXt provenance, chunks are well formed, no time chunk")
    func metadata() throws {
        let report = try Report.build(series: [try demoSeries(name: "alpha")], axes: .probit, provenance: EncodingTests.provenance)
        let pngs = report.files.filter { $0.name.hasSuffix(".png") }
        #expect(pngs.map(\.name) == ["det.png", "roc.png", "hist-1-alpha.png"])
        for file in pngs {
            let chunks = try pngChunks(file.bytes)
            #expect(chunks.first?.type == "IHDR" && chunks.last?.type == "IEND")
            #expect(chunks.allSatisfy { $0.crcValid })
            #expect(!chunks.contains { $0.type == "tIME" })
            let text = Dictionary(try textChunks(file.bytes), uniquingKeysWith: { a, _ in a })
            #expect(text["Software"] == "alaverify 9.9.9")
            #expect(text["alaverify:command"] == "alaverify report a.csv --out r")
            #expect(text["alaverify:inputs"] == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.csv")
            let metrics = try JSONValue.parse(Data(try #require(text["alaverify:metrics"]).utf8))
            guard case .array(let systems) = metrics else { Issue.record("metrics is not an array"); continue }
            #expect(systems.first?["name"] == .string("alpha"))
            #expect(systems.first?["operating_points"] != nil)
            // tEXt comes before the image data.
            let firstText = try #require(chunks.firstIndex { $0.type == "tEXt" })
            let firstData = try #require(chunks.firstIndex { $0.type == "IDAT" })
            #expect(firstText < firstData)
        }
    }

    @Test("equal input gives byte-identical files; other provenance gives other bytes")
    func determinism() throws {
        let a = try Report.build(series: [try demoSeries(), try demoSeries(name: "b", genuineMean: 4, seed: 9)], axes: .probit, provenance: EncodingTests.provenance)
        let b = try Report.build(series: [try demoSeries(), try demoSeries(name: "b", genuineMean: 4, seed: 9)], axes: .probit, provenance: EncodingTests.provenance)
        #expect(a.files.map(\.name) == b.files.map(\.name))
        for (x, y) in zip(a.files, b.files) { #expect(x.bytes == y.bytes, "\(x.name) differs between runs") }
        var other = EncodingTests.provenance
        other.command += " --force"
        let c = try Report.build(series: [try demoSeries(), try demoSeries(name: "b", genuineMean: 4, seed: 9)], axes: .probit, provenance: other)
        #expect(c.files[0].bytes != a.files[0].bytes)
    }

    @Test("summary.md: one row per system, one column per operating point, images linked, n.e. flagged")
    func summary() throws {
        let report = try Report.build(series: [try demoSeries(name: "a|b", targets: [1e-3, 1e-6])], axes: .probit, provenance: EncodingTests.provenance)
        let md = String(decoding: try #require(report.files.first { $0.name == "summary.md" }).bytes, as: UTF8.self)
        #expect(md.contains("| system | genuine | impostor | EER | ROC AUC | AP | frr@far=1e-3 | frr@far=1e-6 |"))
        #expect(md.contains("| a\\|b | 1,000 | 100,000 |"))
        #expect(md.contains("⚠ n.e."))
        #expect(md.contains("![DET curve (normal-deviate axes)](det.png)"))
        #expect(md.contains("![ROC curve (log FAR axis)](roc.png)"))
        let json = try JSONValue.parse(Data(try #require(report.files.first { $0.name == "metrics.json" }).bytes))
        #expect(json["schema"] == .string("alaverify.metrics/1"))
    }

    @Test("a keyword longer than 79 characters is refused")
    func badKeyword() throws {
        let image = RGBAImage(width: 1, height: 1, pixels: [0, 0, 0, 255])
        #expect(throws: ReportError.self) { try PNGEncoder.encode(image, text: [PNGText(String(repeating: "k", count: 80), "v")]) }
    }

    @Test("a Cairo failure is one ReportError naming the operation and Cairo's message")
    func cairoFunnel() throws {
        #expect(throws: ReportError("drawing failed: out of memory")) { try cairoCheck(CAIRO_STATUS_NO_MEMORY, "drawing") }
        #expect(throws: ReportError("creating a 100000x1 drawing surface failed: invalid value (typically too big) for the size of the input (surface, pattern, etc.)")) {
            _ = try Canvas(width: 100_000, height: 1)
        }
        let canvas = try Canvas(width: 2, height: 2)
        canvas.fill(Rect(x: 0, y: 0, width: 1, height: 1), .black)
        #expect(try canvas.image().pixels.prefix(4) == [0, 0, 0, 255])
    }
}
