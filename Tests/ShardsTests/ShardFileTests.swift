import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics
@testable import Shards
import Testing

/// A small summary: 300 items (2 tiles), shard `index` of 2.
func sampleSummary(index: Int = 1, empty: Bool = false) -> ShardSummary {
    let run = ShardRun(
        model: .init(path: "run/model.h5", sha256: String(repeating: "a", count: 64)), child: 0,
        data: .init(path: "d.h5", sha256: String(repeating: "b", count: 64)),
        selection: .init(split: "test", samplesPerIdentity: nil, templates: nil, seed: 0), items: 300, dimension: 4,
        tile: ShardLayout.tile, labelsSHA256: "c", shards: 2, output: "S.h5", version: "0.1.0")
    var histogram = RadixHistogram()
    if !empty { for x: Float in [0.1, 0.2, .nan, -.infinity] { histogram.add(x) } }
    let genuine: [Float] = empty ? [] : [0.9, .nan]
    let manifest = ShardManifest(
        shard: index, run: run, blocks: empty ? 0 : 1, pairs: genuine.count + histogram.total + histogram.failures,
        genuine: genuine.count, impostor: histogram.total + histogram.failures, genuineFailed: empty ? 0 : 1,
        impostorFailed: histogram.failures, impostorNegativeInfinities: histogram.negativeInfinities,
        impostorPositiveInfinities: histogram.positiveInfinities)
    return ShardSummary(
        manifest: manifest, labels: (0..<300).map { Int32($0 / 10) }, tiles: empty ? [] : [1],
        embeddings: empty ? [] : (0..<(44 * 4)).map { Float($0) }, genuineScores: genuine,
        genuineLeft: empty ? [] : [0, 1], genuineRight: empty ? [] : [2, 3], impostor: histogram)
}

@Suite("shard summary files: what is written is read back, and an edited file is refused")
struct ShardFileTests {
    @Test("a summary round-trips (also an empty shard: no blocks, no tiles, no genuine scores)", arguments: [false, true])
    func roundTrip(empty: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("S.shard-1-of-2.h5").path
        let s = sampleSummary(empty: empty)
        try ShardFile.write(s, to: path)
        let back = try ShardFile.read(path)
        #expect(back.manifest == s.manifest)
        #expect(back.labels == s.labels && back.tiles == s.tiles && back.embeddings == s.embeddings)
        #expect(back.genuineScores.map(\.bitPattern) == s.genuineScores.map(\.bitPattern))
        #expect(back.genuineLeft == s.genuineLeft && back.genuineRight == s.genuineRight && back.impostor == s.impostor)
    }

    @Test("a dataset rewritten with the payload checksum left as it was is refused as edited (exit 65)",
          arguments: ["/genuine/score", "/manifest_json", "/impostor/histogram"])
    func editedDataset(dataset: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = dir.appendingPathComponent("A.h5").path, edited = dir.appendingPathComponent("B.h5").path
        var s = sampleSummary()
        try ShardFile.write(s, to: original)
        let digest = try #require(try HDF5File(path: original).stringAttribute("payload_sha256"))
        // What an h5py user changing one value does: the datasets rewritten, the attribute kept.
        switch dataset {
        case "/genuine/score": s.genuineScores[0] = 0.95
        case "/impostor/histogram": s.impostor.counts[100] += 1
        default: s.manifest.run.output = "T.h5"
        }
        let manifest = try ShardFile.manifestText(s.manifest, path: edited)
        let w = try HDF5Writer(path: edited)
        try w.setAttribute("format", ShardFile.format)
        try w.setAttribute("format_version", ShardFile.formatVersion)
        try w.setAttribute("payload_sha256", digest)
        try w.writeStrings("/manifest_json", [manifest])
        try w.write("/labels", s.labels)
        try w.write("/embedding/tiles", s.tiles)
        try w.write("/embedding/values", s.embeddings, shape: [s.embeddings.count / 4, 4])
        try w.write("/genuine/score", s.genuineScores)
        try w.write("/genuine/left", s.genuineLeft)
        try w.write("/genuine/right", s.genuineRight)
        try w.write("/impostor/histogram", s.impostor.counts)
        try w.close()
        do {
            _ = try ShardFile.read(edited)
            Issue.record("an edited \(dataset) was read")
        } catch {
            #expect(error.exitStatus == .dataError)
            #expect(error.description.contains(edited) && error.description.contains("edited or damaged"), "\(error)")
        }
    }
}
