import Foundation
import Testing
import ScoreMetrics
@testable import SampleData

let fontsMini = fixturesDirectory + "/fonts-mini.h5"

/// Sum of bytes, as h5py computes `images.astype(int64).sum()`.
func byteSum(_ values: [UInt8]) -> Int { values.reduce(0) { $0 + Int($1) } }

@Suite("alaverify-samples v1: the fonts-mini fixture")
struct FixtureTests {
    @Test("metadata and identities match how make_fixtures.py built it")
    func metadata() throws {
        let file = try SamplesFile(path: fontsMini)
        #expect(file.layout == .samples)
        #expect(file.kind == .images(height: 32, width: 32, channels: 1))
        #expect(file.count == 7440)
        #expect(file.identityCount == 120)
        #expect(file.identityNames.prefix(2) == ["AR PL SungtiL GB", "Abecedario_guiada"])
        #expect(file.chunkRows == 256)
        // Sorted by identity, 62 glyphs each.
        #expect(file.identities == (0..<7440).map { Int32($0 / 62) })
        #expect(file.sampleAttributeNames.sorted() == ["char", "face"])
        guard case .integers(let chars)? = try file.sampleAttribute("char") else { Issue.record("char"); return }
        let glyphs = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8).map(Int64.init)
        #expect(chars == Array((0..<120).map { _ in glyphs }.joined()))
        #expect(file.fileDescription?.hasPrefix("fonts-mini") == true)
        #expect(file.explicitPairs == nil)
    }

    @Test("whole, batched, gathered and prefetched reads agree with h5py's sums")
    func reads() throws {
        let file = try SamplesFile(path: fontsMini)
        let all = try file.readImages(0..<7440)
        #expect(all.count == 7440 * 1024)
        #expect(byteSum(all) == 447_977_591)  // h5py: images.astype(int64).sum()
        #expect(byteSum(Array(all[0..<1024])) == 33441)
        #expect(byteSum(try file.readImages(300..<520)) == 13_363_672)
        let gathered = try file.readImages(indices: [7439, 0, 7439, 5])
        #expect(byteSum(Array(gathered[0..<1024])) == 73845)
        #expect(Array(gathered[1024..<2048]) == Array(all[0..<1024]))
        #expect(Array(gathered[3072..<4096]) == Array(all[5 * 1024..<6 * 1024]))
        let batches = file.rowBatches(batchRows: 600)
        #expect(batches.first == 0..<768)  // rounded up to whole 256-row chunks
        #expect(batches.last?.upperBound == 7440)
        let prefetcher = BatchPrefetcher(count: batches.count, depth: 2) { (i: Int) throws(DataError) -> [UInt8] in
            try file.readImages(batches[i])
        }
        var joined: [UInt8] = []
        while let batch = try prefetcher.next() { joined += batch }
        #expect(joined == all)
        #expect(prefetcher.stallSeconds >= 0)
    }

    @Test("inspect summarises the fixture")
    func inspect() throws {
        let report = try inspectReport(path: fontsMini)
        let text = report.description
        #expect(report.format == "alaverify-samples")
        #expect(text.contains("N: 7440 samples (images 32x32x1)"))
        #expect(text.contains("K: 120 identities (120 with samples)"))
        #expect(text.contains("samples per identity: 62: 120"))
        // 120 * C(62,2) genuine; C(7440,2) - genuine impostor (check_h5.py prints the same).
        #expect(text.contains("all pairs: 226920 genuine, 27446160 impostor"))
        #expect(text.contains("/samples/images uint8 [7440, 32, 32] chunks [256, 32, 32]"))
        #expect(report.problems.isEmpty)
    }
}

@Suite("samples writer round trips")
struct SamplesWriterTests {
    @Test("features, identities, attributes and explicit pairs survive a round trip")
    func featuresRoundTrip() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("f.h5")
        let writer = try SamplesWriter(path: path, kind: .features(dimension: 3), count: 4, identityNames: ["ann", "bob"], description: "tiny")
        try writer.writeFeatures(at: 0, [1, 2, 3, 4, 5, 6])
        let second: [Float] = [7, 8, 9, -1, .infinity, 0.5]
        try writer.writeFeatures(at: 2, second)
        try writer.writeIdentities([0, 1, 0, 1])
        try writer.writeSampleAttribute("session", [Int32(3), 1, 4, 1])
        try writer.writePairs([SamplePair(left: 0, right: 2, genuine: true), SamplePair(left: 1, right: 2, genuine: false)])
        try writer.close()
        let file = try SamplesFile(path: path)
        #expect(file.kind == .features(dimension: 3))
        let expected: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, -1, .infinity, 0.5]
        #expect(try file.readFeatures(0..<4) == expected)
        let gathered: [Float] = [-1, .infinity, 0.5, 4, 5, 6]
        #expect(try file.readFeatures(indices: [3, 1]) == gathered)
        #expect(file.identities == [0, 1, 0, 1])
        #expect(file.identityNames == ["ann", "bob"])
        #expect(try file.sampleAttribute("session") == .integers([3, 1, 4, 1]))
        #expect(file.explicitPairs == ExplicitPairs(left: [0, 1], right: [2, 2], genuine: [true, false]))
        #expect(file.fileDescription == "tiny")
        let report = try inspectReport(path: path)
        #expect(report.description.contains("explicit pairs: 1 genuine, 1 impostor"))
    }

    @Test("RGB images [N, H, W, C] round trip")
    func rgb() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("rgb.h5")
        let pixels: [UInt8] = (0..<36).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * 7) }
        let writer = try SamplesWriter(path: path, kind: .images(height: 2, width: 2, channels: 3), count: 3, identityNames: ["a", "b"])
        try writer.writeImages(at: 0, pixels)
        try writer.writeIdentities([0, 0, 1])
        try writer.close()
        let file = try SamplesFile(path: path)
        #expect(file.kind == .images(height: 2, width: 2, channels: 3))
        #expect(try file.readImages(0..<3) == pixels)
        #expect(try file.readImages(indices: [2]) == Array(pixels[24..<36]))
    }
}
