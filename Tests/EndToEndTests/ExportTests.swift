import Foundation
import RunRecords
import Runs
import SampleData
import Testing
import TestSupport

/// Tiny runs of each network that `export` writes (the pairwise CNN and MLP, the CosFace ResNet).
let exportRuns: [String: [String]] = [
    "cnn": tinyTraining,
    "mlp": ["--network", "mlp", "--embedding", "16", "--steps", "8", "--interval", "4", "--checkpoint-interval", "4",
            "--batch-identities", "4", "--batch-samples", "4", "--validation-samples", "4", "--children", "2"],
    "resnet": tinyResNet,
]

@Suite("alaverify export: the ONNX model in onnxruntime embeds and scores as alaverify does")
struct ExportTests {
    /// 30 identities x 8 samples of the bundled fixture, as a samples file and as .npy arrays.
    static func subset(in dir: URL) throws -> (path: String, pixels: [UInt8], labels: [Int32]) {
        let fixture = try SamplesFile(path: repositoryRoot.appendingPathComponent("fixtures/fonts-mini.h5").path)
        var rows = [Int]()
        for identity in 0..<Int32(30) { rows += fixture.identities.indices.filter { fixture.identities[$0] == identity }.prefix(8) }
        let pixels = try fixture.readImages(indices: rows)
        let labels = rows.map { fixture.identities[$0] }
        let path = dir.appendingPathComponent("subset.h5").path
        let writer = try SamplesWriter(path: path, kind: .images(height: 32, width: 32, channels: 1), count: rows.count,
                                       identityNames: Array(fixture.identityNames.prefix(30)))
        try writer.writeImages(at: 0, pixels)
        try writer.writeIdentities(labels)
        try writer.close()
        return (path, pixels, labels)
    }

    static func save(_ array: NumPyArray, _ name: String, in dir: URL) throws {
        try Data(array.npyBytes()).write(to: dir.appendingPathComponent(name))
    }

    @Test("embeddings within 1e-5 of alaverify's, the same FRR at every FAR, the validation threshold in the metadata",
          arguments: ["cnn", "mlp", "resnet"])
    func onnxruntime(network: String) throws {
        try Python.require(["onnxruntime", "numpy"])
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        let trained = try CLI.run(["train", "--out", run.path] + exportRuns[network]!)
        try #require(trained.status == 0, "\(trained.stderr)")
        let onnx = dir.appendingPathComponent("model.onnx").path
        let exported = try CLI.run(["export", "--model", run.path, "--onnx", onnx])
        try #require(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stdout.contains("ONNX opset 17; threshold "), "\(exported.stdout)")

        // alaverify's own embeddings (in this process) and scores (the binary's score command).
        let (subsetPath, pixels, labels) = try Self.subset(in: dir)
        let model = try TrainedModel(path: run.appendingPathComponent("model.h5").path)
        let embeddings = model.embed(pixels, count: labels.count)
        let d = model.network.embeddingSize
        try Self.save(NumPyArray(shape: [labels.count, 1, 32, 32], uint8: pixels), "pixels.npy", in: dir)
        try Self.save(NumPyArray(shape: [labels.count, d], float32: embeddings), "embeddings.npy", in: dir)
        try Self.save(NumPyArray(shape: [labels.count], int32: labels), "labels.npy", in: dir)
        let reference = dir.appendingPathComponent("alaverify-scores.npz").path
        let scored = try CLI.run(["score", "--model", run.path, "--data", subsetPath, "--split", "all", "--out", reference])
        try #require(scored.status == 0, "\(scored.stderr)")

        let ort = try Python.run([Python.script("onnx_roundtrip.py"), onnx, dir.path])
        try #require(ort.status == 0, "\(ort.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(ort.stdout.utf8)) as? [String: Any])
        let maxDiff = try #require(result["max_abs_diff"] as? Double)
        print("onnxruntime \(result["onnxruntime"] ?? "?") vs alaverify, \(network): max |Δembedding| = \(maxDiff)")
        #expect(maxDiff <= 1e-5, "\(network): max |Δ| \(maxDiff)")
        let norms = try #require(result["norms"] as? [Double])
        #expect(abs(norms[0] - 1) < 1e-5 && abs(norms[1] - 1) < 1e-5)
        #expect(result["input"] as? String == "images [\"N\", 1, 32, 32] tensor(float)")
        #expect(result["output"] as? String == "embedding [\"N\", \(d)] tensor(float)")
        #expect(result["producer"] as? String == "alaverify")

        // The metadata: the run's version, data checksum and target; the threshold validation chose.
        let meta = try #require(result["metadata"] as? [String: String])
        let config = model.config
        #expect(meta["alaverify_version"] == "0.1.0" && meta["data_sha256"] == config.dataChecksum)
        #expect(meta["target"] == config.target.description && meta["architecture"] == model.network.architecture)
        #expect(Float(meta["threshold"] ?? "") != nil, "\(meta)")
        #expect(meta["threshold_source"]?.hasPrefix("recorded by train on the validation split") == true, "\(meta)")
        let history = try TrainingHistory.parse(Array(try Data(contentsOf: run.appendingPathComponent("history.jsonl"))))
        #expect(Double(meta["validation_frr"] ?? "") == history.best?.value, "the validation FRR at the kept model's step")

        // Scores from onnxruntime's embeddings give alaverify's operating points.
        let m = try CLI.run(["metrics", reference, dir.appendingPathComponent("onnx-scores.npz").path,
                             "--far", "1e-2", "--far", "1e-1", "--ci", "none", "--json", "-"])
        try #require(m.status == 0, "\(m.stderr)")
        let systems = try #require((try JSONSerialization.jsonObject(with: Data(m.stdout.utf8)) as? [String: Any])?["systems"] as? [[String: Any]])
        let points = systems.map { ($0["operating_points"] as? [[String: Any]] ?? []).map { [$0["frr"], $0["false_accepts"], $0["false_rejects"]].map { "\($0 ?? "nil")" } } }
        #expect(points.count == 2 && points[0].count == 2 && points[0] == points[1], "\(points)")
        #expect(systems[0]["counts"] as? [String: Int] == systems[1]["counts"] as? [String: Int])
    }

    @Test("the threshold: recorded by train, recomputed from the data for a model without one (the same number), or left out and said")
    func threshold() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        #expect(try train(run).status == 0)
        let model = run.appendingPathComponent("model.h5").path
        let recorded = try CLI.run(["export", "--model", model, "--onnx", "a.onnx"], in: dir)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout.contains("recorded by train on the validation split"), "\(recorded.stdout)")
        // The same weights without the recorded thresholds, as a model of an earlier version.
        let contents = try RunFiles.read(path: model, formats: [RunFiles.modelFormat])
        let older = dir.appendingPathComponent("older.h5").path
        try RunFiles.write(path: older, format: RunFiles.modelFormat, states: contents.states, documents: ["config": contents.documents["config"]!])
        let recomputed = try CLI.run(["export", "--model", older, "--onnx", dir.appendingPathComponent("b.onnx").path])
        #expect(recomputed.status == 0, "\(recomputed.stderr)")
        #expect(recomputed.stdout.contains("recomputed on the validation split"), "\(recomputed.stdout)")
        func threshold(_ line: String) -> String? { line.components(separatedBy: "; threshold ").last?.components(separatedBy: " ").first }
        #expect(threshold(recomputed.stdout) != nil && threshold(recomputed.stdout) == threshold(recorded.stdout),
                "recomputed \(recomputed.stdout) vs recorded \(recorded.stdout)")
        // From another folder the config's relative data path does not resolve: no threshold, said so.
        let none = try CLI.run(["export", "--model", older, "--onnx", "c.onnx"], in: dir)
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout.contains("no threshold in the metadata: the model records none and the training data fixtures/fonts-mini.h5 is not here (give it with --data)"), "\(none.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("c.onnx").path))
        // Other data under --data is refused: its validation split would not be the run's.
        let other = try writeSamples(in: dir, name: "other.h5", identities: 6, perIdentity: 3, size: 32)
        let wrong = try CLI.run(["export", "--model", run.path, "--onnx", "n.onnx", "--data", other], in: dir)
        #expect(wrong.status == 65 && wrong.stderr.contains("other.h5: not the model's training data"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("n.onnx").path))
    }

    @Test("a model file of another version, a truncated one or a scores file: one line, exit 65, no output left")
    func badModels() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run")
        #expect(try train(run).status == 0)
        let model = try Data(contentsOf: run.appendingPathComponent("model.h5"))
        let truncated = dir.appendingPathComponent("truncated.h5")
        try model.prefix(model.count / 2).write(to: truncated)
        let future = dir.appendingPathComponent("future.h5").path
        let writer = try HDF5Writer(path: future)
        try writer.setAttribute("format", "alaverify-model")
        try writer.setAttribute("format_version", Int64(2))
        try writer.setAttribute("children", Int64(1))
        try writer.close()
        let scores = dir.appendingPathComponent("s.npz").path
        try ScoresNumPy.write(path: scores, scores: [0.5, 0.1], labels: [1, 0])
        for (input, message) in [
            (future, "future.h5: alaverify-model format_version 2 is not supported (expected 1: a file of another alaverify version)"),
            (truncated.path, "truncated.h5: opening the file failed: truncated file"),
            (scores, "s.npz: "),
        ] {
            let out = dir.appendingPathComponent("out.onnx").path
            let r = try CLI.run(["export", "--model", input, "--onnx", out])
            #expect(r.status == 65, "\(input): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("alaverify: \(dir.path)/\(message)") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["future.h5", "run", "s.npz", "truncated.h5"], "no output or temporary file left: \(left)")
    }
}
