import Foundation
import Runs
import SampleData
import Testing
import Training

/// Tiny, fast settings for `alaverify train` under the debug build: a 4-channel CNN, 16-d
/// embeddings, 8 steps validated every 4, two children, 4 x 4 batches.
let tinyTraining = [
    "--network", "cnn", "--width", "4", "--embedding", "16", "--steps", "8", "--interval", "4", "--checkpoint-interval", "4",
    "--batch-identities", "4", "--batch-samples", "4", "--validation-samples", "4", "--children", "2",
]

/// Runs `alaverify train --out DIR` with the tiny settings and `extra` flags.
func train(_ directory: URL, _ extra: [String] = []) throws -> CLIResult {
    try CLI.run(["train", "--out", directory.path] + tinyTraining + extra)
}

/// Trains the tiny run into `run` with `extra` flags, stopped after step 4 of 8 as if
/// interrupted; expects the stop message and returns the checkpoint left behind.
@discardableResult
func trainHalfway(_ run: URL, _ extra: [String] = []) throws -> RunFiles.Contents {
    let first = try train(run, extra + ["--stop-after", "4"])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("stopped after step 4 as asked"))
    let halfway = try RunFiles.read(path: run.appendingPathComponent("checkpoint.h5").path, formats: ["alaverify-checkpoint"])
    #expect(halfway.states.map(\.step) == [4, 4])
    return halfway
}

/// Where the shared straight run lives (removed when the test process exits).
let straightRunDirectory = FileManager.default.temporaryDirectory
    .appendingPathComponent("alaverify-e2e-straight-\(ProcessInfo.processInfo.processIdentifier)")

/// One straight tiny ALA run (8 steps, 2 children), shared by the tests that only read it.
let straightRun: Result<URL, Error> = Result {
    let dir = straightRunDirectory
    try? FileManager.default.removeItem(at: dir)
    atexit { try? FileManager.default.removeItem(at: straightRunDirectory) }
    let r = try train(dir)
    guard r.status == 0 else { throw TrainFailure(message: "straight run failed (\(r.status)): \(r.stderr)") }
    return dir
}

struct TrainFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The columns of a scores file: score bits, labels, left and right identities, in file order.
struct ScoreColumns: Equatable {
    var scores: [UInt32]
    var labels: [UInt8]
    var left: [Int32]
    var right: [Int32]
    var count: Int { scores.count }
}

/// A score file's rows in file order, the scores as bit patterns: two files hold the same
/// comparisons in the same order, bit for bit, exactly when these are equal.
func scoreRows(_ path: String) throws -> ScoreColumns {
    let file = try HDF5File(path: path)
    let scores: [Float] = try file.dataset("/scores/score").read()
    let labels: [UInt8] = try file.dataset("/scores/label").read()
    let left: [Int32] = try file.dataset("/scores/left_identity").read()
    let right: [Int32] = try file.dataset("/scores/right_identity").read()
    #expect(labels.count == scores.count && left.count == scores.count && right.count == scores.count)
    return ScoreColumns(scores: scores.map(\.bitPattern), labels: labels, left: left, right: right)
}

/// Every float of a training state as bit patterns (weights, optimizer and loss state, Phi).
func stateBits(_ s: TrainingState) -> [[UInt32]] {
    (s.weights + s.optimizer + s.lossFloats).map { $0.values.map(\.bitPattern) } + [s.phi.map(\.bitPattern)]
}

/// The bytes of every file in a directory, by name.
func snapshot(_ directory: URL) -> [String: Data] {
    var out = [String: Data]()
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
        out[name] = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
    }
    return out
}

/// Writes a samples file of `identities` x `perIdentity` images of `size` x `size` (pixels from a
/// fixed pattern) and returns its path.
func writeSamples(in directory: URL, name: String, identities: Int, perIdentity: Int, size: Int) throws -> String {
    let path = directory.appendingPathComponent(name).path
    let count = identities * perIdentity
    let writer = try SamplesWriter(
        path: path, kind: .images(height: size, width: size, channels: 1), count: count,
        identityNames: (0..<identities).map { "id\($0)" })
    let pixels = (0..<(count * size * size)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    try writer.writeImages(at: 0, pixels)
    try writer.writeIdentities((0..<count).map { Int32($0 / perIdentity) })
    try writer.close()
    return path
}
