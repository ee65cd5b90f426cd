import AlaverifyBase
import Foundation
import RunRecords
import Runs
import SampleData
import ScoreMetrics
import Shards

extension ScoreCommand {
    /// The shard `--shard` asks for (nil without it); usage errors for a bad one.
    func resolvedShard() throws -> ShardSpec? {
        guard let shard else {
            if shards != nil { throw UsageError("--shards goes with --shard auto") }
            return nil
        }
        if shard == "auto" {
            if let shards, shards < 1 { throw UsageError("--shards must be at least 1, got \(shards)") }
            return try ShardSpec.fromEnvironment(ProcessInfo.processInfo.environment, shards: shards)
        }
        if shards != nil { throw UsageError("--shards goes with --shard auto (--shard \(shard) names the count)") }
        do { return try ShardSpec.parse(shard) } catch { throw UsageError("--shard: \(error.description)") }
    }

    /// Embeds the items of the shard's tiles, scores its blocks and writes its summary.
    func scoreShard(
        _ spec: ShardSpec, _ trained: TrainedModel, samples: SamplesFile, dataPath: String, indices: [Int], labels: [Int32],
        templates: [Template]?
    ) throws {
        let started = Date()
        let file = spec.fileName(for: out)
        let itemLabels = templates?.map(\.identity) ?? labels
        let layout = ShardLayout(items: itemLabels.count, shards: spec.count)
        let blocks = layout.blocks(ofShard: spec.index)
        let tiles = ShardScoring.tiles(of: blocks)
        let d = trained.network.embeddingSize
        let embeddings = try ShardScoring.embed(
            network: trained.network, samples: samples, indices: indices, templates: templates, tiles: tiles)
        let embedded = Date()
        let interactive = isatty(2) != 0
        let total = blocks.reduce(0) { $0 + layout.pairs(in: $1) }
        let result = ShardScoring.score(blocks: blocks, embeddings: embeddings, dimension: d, labels: itemLabels) { done in
            if interactive { FileHandle.standardError.write(Data("\r\(done)/\(total) pairs".utf8)) }
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        let owned = layout.ownedTiles(ofShard: spec.index)
        var ownedRows = [Float]()
        for t in owned { ownedRows += embeddings[(t * ShardLayout.tile * d)..<((t * ShardLayout.tile + layout.itemsInTile(t)) * d)] }
        let modelPath = RunDirectory.isFolder(model) ? RunDirectory(model).model : model
        let run = ShardRun(
            model: .init(path: modelPath, sha256: try digest(modelPath)), child: child,
            data: .init(path: dataPath, sha256: try digest(dataPath)),
            selection: .init(split: split, samplesPerIdentity: samplesPerIdentity, templates: self.templates, seed: seed),
            items: itemLabels.count, dimension: d, tile: ShardLayout.tile,
            labelsSHA256: itemLabels.withUnsafeBytes { SHA256.hex($0) }, shards: spec.count, output: out, version: alaverifyVersion)
        let genuineFailed = result.genuineScores.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        let manifest = ShardManifest(
            shard: spec.index, run: run, blocks: blocks.count, pairs: result.pairs, genuine: result.genuineScores.count,
            impostor: result.pairs - result.genuineScores.count, genuineFailed: genuineFailed,
            impostorFailed: result.impostor.failures, impostorNegativeInfinities: result.impostor.negativeInfinities,
            impostorPositiveInfinities: result.impostor.positiveInfinities)
        try ShardFile.write(
            ShardSummary(
                manifest: manifest, labels: itemLabels, tiles: owned.map { Int32($0) }, embeddings: ownedRows,
                genuineScores: result.genuineScores, genuineLeft: result.genuineLeft, genuineRight: result.genuineRight,
                impostor: result.impostor),
            to: file)
        let seconds = Date().timeIntervalSince(started), scoring = Date().timeIntervalSince(embedded)
        print(String(
            format: "wrote %@: shard %@, %d of %d blocks, %d of %d pairs (%d genuine); embedded %d of %d tiles; %.1f s (scoring %.1f s)",
            file, spec.description, blocks.count, layout.orderedBlocks().count, result.pairs, layout.totalPairs,
            result.genuineScores.count, tiles.count, layout.tiles, seconds, scoring))
    }

    private func digest(_ path: String) throws -> String {
        do { return try SHA256.hexDigest(ofFile: path) } catch {
            throw DataError(file: path, "cannot read: \((error as NSError).localizedDescription)")
        }
    }
}
