import AlaverifyBase
import Foundation
import ScoreMetrics
import Shards

extension MetricsCommand {
    /// `metrics --merge SHARD...`: one system, the merged shards.
    func runMerged() throws {
        let (shards, name) = try input.mergedShards(files, names: names)
        let interactive = isatty(2) != 0
        let metrics: SystemMetrics
        do {
            metrics = try shards.evaluate(selection.options(curveMetrics: !pointsOnly)) { done, total in
                if interactive { FileHandle.standardError.write(Data("\rsecond pass: \(done)/\(total) pairs".utf8)) }
            }
        } catch let error as MergeError {
            throw ErrorInFile(file: shards.source, error)
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        let system = NamedMetrics(name: name, source: shards.source, metrics: metrics)
        let document = MetricsJSON.document([system]).serialized()
        if json == "-" { return print(document) }
        print(MetricsTable.render(system), terminator: "")
        if let json { try AtomicFile.write(document + "\n", to: json) }
    }
}

extension ScoreInputOptions {
    /// The shard summaries `metrics --merge` and `report --merge` read, and the name of the one
    /// system they make (`--name`, else the shards' source). Polarity and format do not apply to
    /// shard summaries (similarity scores in their own files), and a merge gives one system.
    func mergedShards(_ paths: [String], names: [String]) throws -> (shards: ShardSet, name: String) {
        guard polarity == .similarity, format == .auto else {
            throw UsageError("--merge reads shard summaries of similarity scores: --polarity and --format do not apply")
        }
        guard names.count <= 1 else { throw UsageError("--merge gives one system: give --name once") }
        let shards = try ShardSet(paths: paths)
        return (shards, names.first ?? (shards.source as NSString).lastPathComponent)
    }
}
