import Foundation

/// The repository root (this file is Tests/TestSupport/Fixtures.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A hand-written history of an ALA run (`Tests/Fixtures/hand-history.jsonl`): 2 children,
/// validations at steps 10, 20, 30, seven loss parameters (scale, a margin, the balance, two
/// genuine and two impostor bin weights), a blank line between steps 10 and 20.
///
/// Child 0 reaches 0.30 at step 20; child 1 ties it at step 30, which is not strictly better,
/// so the best stays child 0 at step 20 (as the trainer keeps its model). The bin weights span
/// 0.4 (child 0, step 30, genuine bin 0) to 1.6 (child 0, step 30, impostor bin 1).
public let handHistory: String = {
    let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/hand-history.jsonl")
    return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
}()
