import AlaverifyBase
import Foundation
import SampleData
import ScoreMetrics
import TestSupport
import Testing

@testable import Protocols

/// The package root, found from this file.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

func fixture(_ name: String) -> String { packageRoot + "/fixtures/" + name }

/// A fresh temporary folder for one test.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "alaverify-gates-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A protocol from YAML text, anchored in `directory`.
func protocolFrom(_ yaml: String, directory: String = packageRoot + "/protocols") throws -> EvaluationProtocol {
    try EvaluationProtocol.parse(yaml: yaml, file: "test.yaml", directory: directory)
}

/// The fixture protocol with one gate and few replicates (debug builds are slow).
func fixtureProtocol(gate: String, name: String = "demo-pixels8", replicates: Int = 200) throws -> EvaluationProtocol {
    try protocolFrom("""
        name: \(name)
        scores: ../fixtures/demo-pixels8.csv
        report: [frr@far=0.05, frr@far=0.01, eer, roc_auc]
        intervals: {replicates: \(replicates), seed: 1}
        gates:
          - \(gate)
        """)
}

/// Systems read once and shared by the tests (reading and bootstrapping cost seconds in debug).
actor Systems {
    static let shared = Systems()
    var cache: [String: GatedSystem] = [:]

    func scores(_ path: String, _ p: EvaluationProtocol) throws -> GatedSystem {
        let key = path + "|" + p.metrics.map(\.description).joined(separator: ",") + "|\(p.intervals.replicates)"
        if let s = cache[key] { return s }
        let s = try GatedSystem.fromScores(path: path, protocol: p)
        cache[key] = s
        return s
    }
}

/// The fixture systems under the shared report metrics.
func pixels8() async throws -> GatedSystem {
    try await Systems.shared.scores(fixture("demo-pixels8.csv"), try fixtureProtocol(gate: "{metric: eer, max: 1}"))
}
func pixels32() async throws -> GatedSystem {
    try await Systems.shared.scores(fixture("demo-pixels32.csv"), try fixtureProtocol(gate: "{metric: eer, max: 1}"))
}
/// pixels8 with genuine scores lowered by 0.15 and N(0, 0.1^2) noise on every score: a clearly
/// degraded system on the same comparisons. (Noise alone barely moves this weak fixture: its FRR
/// at FAR 5% is already near chance.)
func degraded() async throws -> GatedSystem {
    let path = NSTemporaryDirectory() + "alaverify-gates-degraded-\(getpid()).csv"
    if !FileManager.default.fileExists(atPath: path) {
        try degradedCopy(of: fixture("demo-pixels8.csv"), to: path + ".tmp", genuineShift: 0.15, sigma: 0.1, seed: 11)
        try? FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
    }
    return try await Systems.shared.scores(path, try fixtureProtocol(gate: "{metric: eer, max: 1}"))
}

/// The same system without its score file, as when a baseline's scores are gone.
func withoutScores(_ s: GatedSystem) -> GatedSystem {
    var copy = s
    copy.scores = nil
    copy.scoresUnavailable = "removed by the test"
    return copy
}
