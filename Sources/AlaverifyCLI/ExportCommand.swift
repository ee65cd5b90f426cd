import AlaverifyBase
import ArgumentParser
import Foundation
import ONNXExport
import RunRecords
import Runs
import SampleData
import ScoreMetrics
import Training

/// `alaverify export`: a trained model as a standard ONNX model, with its operating threshold.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained model's embedding network as an ONNX model (opset 17) for onnxruntime and other runtimes.",
        discussion: """
            The graph takes 'images' float32 [N, 1, H, W] holding raw pixel values (0-255; the input \
            normalisation is inside the graph) and returns 'embedding' float32 [N, D] of unit L2 norm; \
            the score of two samples is the dot product of their embeddings (cosine similarity), \
            accepted iff score >= threshold. The MLP, the CNN and the ResNet export.

            metadata_props: alaverify_version, architecture, data_sha256, target and threshold: the \
            target's threshold on the run's validation split, as train recorded it in model.h5 or, for \
            a model without one (a checkpoint's child, an older model), recomputed exactly as validation \
            computed it when the training data is at hand (the path in the model's config, or --data \
            with the same SHA-256); with threshold_source, validation_far and validation_frr. Without \
            either, the threshold is left out and the command says so.

            The file is written under a temporary name and renamed, so a failed export leaves no file. \
            Exit codes: 0 written; 64 usage error (an output that cannot be written); 65 bad input \
            (not a model or checkpoint file, another format version, truncated, data that differ from \
            the training data); 70 internal error.

            Examples:
              alaverify export --model runs/ala --onnx model.onnx
              alaverify export --model runs/ala/checkpoint.h5 --child 1 --onnx child1.onnx --data fonts.h5
            """)

    @Option(help: "A run folder of alaverify train (its model.h5), a model.h5, or a checkpoint.h5 (with --child).")
    var model: String

    @Option(help: "The child model of a checkpoint.h5 to export (0-based).")
    var child: Int = 0

    @Option(help: "Output ONNX file.")
    var onnx: String

    @Option(help: "The training data (default: the path in the model's config) for the validation threshold.")
    var data: String?

    func run() throws {
        try requireWritableOutput(onnx, "--onnx")
        let path = RunDirectory.isFolder(model) ? RunDirectory(model).model : model
        let trained = try TrainedModel(path: path, child: child)
        let config = trained.config
        var metadata: [(key: String, value: String)] = [
            ("alaverify_version", alaverifyVersion), ("architecture", trained.network.architecture),
            ("data_sha256", config.dataChecksum), ("target", config.target.description),
        ]
        var note: String
        switch try validationThreshold(trained, path: path) {
        case .success(let t):
            metadata += [
                ("threshold", "\(t.threshold)"), ("threshold_rule", "accept iff dot(embedding_a, embedding_b) >= threshold"),
                ("threshold_source", t.source), ("validation_far", "\(t.far)"), ("validation_frr", "\(t.frr)"),
            ]
            note = "threshold \(t.threshold) at \(config.target) \(t.source) (FAR \(t.far), FRR \(t.frr))"
        case .failure(let reason):
            note = "no threshold in the metadata: \(reason)"
        }
        let bytes = try ONNXGraph.model(trained.network, name: "alaverify-\(config.network.rawValue)", producerVersion: alaverifyVersion, metadata: metadata)
        try AtomicFile.write(bytes, to: onnx)
        print("wrote \(onnx): \(trained.network.architecture), images [N, \(trained.network.sampleShape.extents.map(String.init).joined(separator: ", "))] -> embedding [N, \(trained.network.embeddingSize)], ONNX opset \(ONNXGraph.opset); \(note)")
    }

    /// The target's threshold on the run's validation set, as training validated it.
    struct Threshold {
        var threshold: Float
        var far: Double
        var frr: Double
        /// Where it comes from, for the metadata and the message.
        var source: String
    }

    /// The threshold `train` recorded in a `model.h5`, else the one recomputed on the run's
    /// validation split from the training data, else why there is none. `--data` that differs
    /// from the training data is an error; a missing default data file only leaves it out.
    func validationThreshold(_ trained: TrainedModel, path: String) throws -> Result<Threshold, ThresholdUnavailable> {
        let config = trained.config
        if let data, FileManager.default.fileExists(atPath: data), !config.dataChecksum.isEmpty,
           try SHA256.hexDigest(ofFile: data) != config.dataChecksum {
            throw DataError(file: data, "not the model's training data (its SHA-256 differs from the one the model records), so its validation split is not the run's")
        }
        guard config.target.isOperatingPoint || config.target == .eer else {
            return .failure(ThresholdUnavailable("the target \(config.target) has no threshold"))
        }
        func pick(_ list: [FixedThreshold], source: String) -> Result<Threshold, ThresholdUnavailable> {
            guard let t = list.first(where: { $0.chosenFor == config.target }), let rates = t.chosenOn else {
                return .failure(ThresholdUnavailable("no threshold reaches \(config.target) on the validation split"))
            }
            let pairs = "\(rates.genuineCount + rates.impostorCount) pairs"
            return .success(Threshold(threshold: Float(t.threshold), far: rates.far, frr: rates.frr, source: "\(source) (\(pairs))"))
        }
        if try HDF5File(path: path).stringAttribute("format") == RunFiles.modelFormat, let recorded = try? ThresholdSources.model(path: path) {
            return pick(recorded, source: "recorded by train on the validation split")
        }
        let dataPath = data ?? config.data
        guard FileManager.default.fileExists(atPath: dataPath) else {
            if data != nil { throw DataError(file: dataPath, "no such file") }
            return .failure(ThresholdUnavailable("the model records none and the training data \(dataPath) is not here (give it with --data)"))
        }
        guard try config.dataChecksum.isEmpty || SHA256.hexDigest(ofFile: dataPath) == config.dataChecksum else {
            return .failure(ThresholdUnavailable("the model records none and \(dataPath) changed since training (SHA-256 differs); give the training data with --data"))
        }
        // The run's validation set (its split and per-identity choice), through the code train records thresholds with.
        let samples = try SamplesFile(path: dataPath)
        let s = config.split
        let parts = try IdentitySplit.byFractions(
            identityCount: samples.identityCount, train: s.train, validation: s.validation, test: s.test, seed: s.seed, file: dataPath)
        var rows = parts.samples(.validation, identities: samples.identities)
        if let cap = config.validationSamplesPerIdentity {
            rows = RunData.capped(rows, identities: samples.identities, cap: cap, seed: config.seed)
        }
        let images = try ImageSet(pixels: samples.readImages(indices: rows), labels: rows.map { samples.identities[$0] })
        let document = try JSONValue.parse(Data(try TargetEvaluator(config).deploymentThresholds(trained.network, on: images).utf8))
        switch MetricsJSON.readThresholds(document, kind: .model, file: path, sha256: nil) {
        case .success(let list): return pick(list, source: "recomputed on the validation split of \(dataPath)")
        case .failure(let e): throw InternalError("recomputing the validation thresholds: \(e.reason)")
        }
    }

    /// Why the export carries no threshold.
    struct ThresholdUnavailable: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
