import Foundation
import SampleData
import ScoreMetrics
import Training

/// A trained model loaded from `model.h5`, ready to embed samples.
public final class TrainedModel {
    /// The run's configuration (network, split).
    public let config: RunConfig
    /// The network with the saved weights.
    public let network: EmbeddingNetwork

    /// Loads `model.h5`; refuses other formats and weights that do not fit the recorded network.
    public init(path: String) throws(DataError) {
        let contents = try RunFiles.read(path: path, formats: ["alaverify-model"])
        guard let json = contents.documents["config"], let config = try? RunConfig.read(Data(json.utf8)) else {
            throw DataError(file: path, location: "/config_json", "missing or unreadable run configuration")
        }
        guard let state = contents.states.first else { throw DataError(file: path, "no model state") }
        let network: EmbeddingNetwork
        do { network = try TrainingRun.network(config, seed: 0) } catch { throw DataError(file: path, error.description) }
        guard state.architecture == network.architecture else {
            throw DataError(file: path, "the weights are for \(state.architecture), the recorded config builds \(network.architecture)")
        }
        let targets = network.parameters.map { ("model/\($0.name)", $0.value) } + network.buffers.map { ("buffer/\($0.name)", $0.tensor) }
        for (name, tensor) in targets {
            guard let a = state.weights.first(where: { $0.name == name }), a.values.count == tensor.count else {
                throw DataError(file: path, location: "/child0/weights", "missing or mis-sized weights '\(name)'")
            }
            a.values.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: tensor.count) }
        }
        self.config = config
        self.network = network
    }

    /// Unit-norm embeddings of images `[n, 32, 32]`.
    public func embed(_ pixels: [UInt8], count: Int) -> [Float] {
        pixels.withUnsafeBufferPointer { network.embed($0, count: count) }
    }
}

/// Writes all pairs (i < j) of unit-norm embeddings into an `alaverify-scores` v1 file,
/// streaming blocks of rows so that the scores are never all in memory.
/// - Complexity: O(n^2 * dimension) time; O(`PairBlocks.tile` * n) memory.
public func writeAllPairScores(
    path: String, embeddings: [Float], dimension: Int, labels: [Int32], progress: ((Int, Int) -> Void)? = nil
) throws(DataError) {
    let n = labels.count
    let total = n * (n - 1) / 2
    guard total > 0 else { throw DataError(file: path, "fewer than two samples to compare") }
    let writer = try HDF5Writer(path: path)
    try writer.setAttribute("format", ScoresHDF5.format)
    try writer.setAttribute("format_version", ScoresHDF5.formatVersion)
    let scores = try writer.createDataset("/scores/score", shape: [total], of: Float.self)
    let labelSet = try writer.createDataset("/scores/label", shape: [total], of: UInt8.self)
    let leftSet = try writer.createDataset("/scores/left_identity", shape: [total], of: Int32.self)
    let rightSet = try writer.createDataset("/scores/right_identity", shape: [total], of: Int32.self)
    var written = 0
    var s = [Float](), l = [UInt8](), a = [Int32](), b = [Int32]()
    do {
        try embeddings.withUnsafeBufferPointer { e in
            try PairBlocks.forEachBand(e.baseAddress!, count: n, dimension: dimension) { start, rows, gram in
                s.removeAll(keepingCapacity: true); l.removeAll(keepingCapacity: true)
                a.removeAll(keepingCapacity: true); b.removeAll(keepingCapacity: true)
                for r in 0..<rows {
                    let i = start + r
                    for j in (i + 1)..<max(n, i + 1) {
                        s.append(gram[r * n + j])
                        l.append(labels[i] == labels[j] ? 1 : 0)
                        a.append(labels[i])
                        b.append(labels[j])
                    }
                }
                try scores.writeRows(at: written, s)
                try labelSet.writeRows(at: written, l)
                try leftSet.writeRows(at: written, a)
                try rightSet.writeRows(at: written, b)
                written += s.count
                progress?(written, total)
            }
        }
    } catch let error as DataError {
        throw error
    } catch {
        throw DataError(file: path, "\(error)")
    }
    scores.close(); labelSet.close(); leftSet.close(); rightSet.close()
    try writer.close()
}

/// Mean of unit-norm embeddings per template, renormalised (IJB-style template comparison).
public func templateEmbeddings(_ embeddings: [Float], dimension: Int, templates: [Template]) -> [Float] {
    var out = [Float](repeating: 0, count: templates.count * dimension)
    for (t, template) in templates.enumerated() {
        var sumSquares: Float = 0
        for i in template.samples {
            for d in 0..<dimension { out[t * dimension + d] += embeddings[i * dimension + d] }
        }
        for d in 0..<dimension { sumSquares += out[t * dimension + d] * out[t * dimension + d] }
        let norm = max(sumSquares.squareRoot(), 1e-12)
        for d in 0..<dimension { out[t * dimension + d] /= norm }
    }
    return out
}
