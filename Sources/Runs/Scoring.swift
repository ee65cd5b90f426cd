import Foundation
import RunRecords
import SampleData
import ScoreMetrics
import Training

/// A trained model loaded from a `model.h5`, or one child of a `checkpoint.h5`, ready to embed samples.
public final class TrainedModel {
    /// The run's configuration (network, split).
    public let config: RunConfig
    /// The network with the saved weights.
    public let network: EmbeddingNetwork

    /// Loads a `model.h5`, or child `child` of a `checkpoint.h5`; refuses other formats and
    /// weights that do not fit the recorded network.
    public init(path: String, child: Int = 0) throws(DataError) {
        let contents = try RunFiles.read(path: path, formats: [RunFiles.modelFormat, RunFiles.checkpointFormat])
        guard let json = contents.documents["config"], let config = try? RunConfig.read(Data(json.utf8)) else {
            throw DataError(file: path, location: "/config_json", "missing or unreadable run configuration")
        }
        guard contents.states.indices.contains(child) else {
            throw DataError(file: path, contents.states.isEmpty ? "no model state" : "has children 0...\(contents.states.count - 1), not \(child)")
        }
        let state = contents.states[child]
        let network: EmbeddingNetwork
        do { network = try config.network.build(config, seed: 0) } catch { throw DataError(file: path, error.description) }
        guard state.architecture == network.architecture else {
            throw DataError(file: path, "the weights are for \(state.architecture), the recorded config builds \(network.architecture)")
        }
        let targets = network.parameters.map { ("model/\($0.name)", $0.value) } + network.buffers.map { ("buffer/\($0.name)", $0.tensor) }
        for (name, tensor) in targets {
            guard let a = state.weights.first(where: { $0.name == name }), a.values.count == tensor.count else {
                throw DataError(file: path, location: "/child\(child)/weights", "missing or mis-sized weights '\(name)'")
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

/// Writes all pairs (i < j) of unit-norm embeddings into a score file (`alaverify-scores` v1, or
/// NumPy `.npz` for a path ending in `.npz`), in pair order, block by block of the pair matrix (`PairBlocks`), so that the scores are never all in
/// memory: `alaverify score` and a run's `scores.h5` go through here and agree bit for bit.
/// - Complexity: O(n^2 * dimension) time; O(`PairBlocks.tile` * n) memory.
public func writeAllPairScores(
    path: String, embeddings: [Float], dimension: Int, labels: [Int32], progress: ((Int, Int) -> Void)? = nil
) throws(DataError) {
    let n = labels.count
    let total = n * (n - 1) / 2
    guard total > 0 else { throw DataError(file: path, "fewer than two samples to compare") }
    let writer = try ScoreFiles.streamWriter(path: path, count: total)
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
                try writer.append(scores: s, labels: l, left: a, right: b)
                progress?(writer.written, total)
            }
        }
    } catch let error as DataError {
        throw error
    } catch {
        throw DataError(file: path, "\(error)")
    }
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

extension TrainingRun {
    /// Scores the test split with the best model into `scores.h5` (the writer of `alaverify
    /// score`, which reproduces the file byte for byte) and evaluates it.
    func finish() throws -> RunSummary {
        guard let best = state.best else { throw RunError.internalFailure("no validation was run") }
        let contents: RunFiles.Contents
        do { contents = try RunFiles.read(path: directory.model, formats: [RunFiles.modelFormat]) } catch { throw RunError.data(error) }
        // The first child's trainer embeds with the best weights, then gets its own back.
        let evaluator = population.members[0]
        let saved = evaluator.state()
        try evaluator.restore(contents.states[0])
        let test = data.test
        let embeddings = test.pixels.withUnsafeBufferPointer { evaluator.model.embed($0, count: test.count) }
        try evaluator.restore(saved)
        let path = directory.scores
        try writeAllPairScores(path: path, embeddings: embeddings, dimension: evaluator.model.embeddingSize, labels: test.labels)
        guard case .float(let set) = try ScoresHDF5.read(path: path) else {
            throw RunError.internalFailure("\(path): the scores written are not float32")
        }
        let metrics = try SortedScores(set).evaluate(EvaluationOptions(
            metrics: [.frrAtFAR(1e-2), .frrAtFAR(1e-3), .frrAtFAR(1e-4)], replicates: 200, seed: config.seed))
        return RunSummary(
            bestValidation: best.cost, bestChild: best.child, bestStep: best.step, test: metrics,
            trainingSeconds: state.trainingSeconds, validationSeconds: state.validationSeconds,
            controllerSeconds: state.controllerSeconds, data: data.streamStats)
    }
}
