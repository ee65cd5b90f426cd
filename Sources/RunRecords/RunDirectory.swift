import Foundation

/// A training run's folder: the one place that knows its layout.
///
/// `alaverify train` writes `config.json` (everything needed to reproduce the run),
/// `history.jsonl` (one `HistoryRecord` per child per validation), `checkpoint.h5` (every child's
/// full state and the controller), `model.h5` (the best child on validation), `policy.h5` (ALA
/// runs), `split.json` (which identities and rows each split holds) and `scores.h5` (all pairs of
/// the test split). `score` reads the model, `report` the
/// history and the scores.
public struct RunDirectory: Sendable, Equatable {
    /// The folder as the user gave it.
    public let path: String

    /// The run in folder `path`.
    public init(_ path: String) { self.path = path }

    /// `config.json`.
    public var config: String { file("config.json") }
    /// `history.jsonl`.
    public var history: String { file("history.jsonl") }
    /// `checkpoint.h5`.
    public var checkpoint: String { file("checkpoint.h5") }
    /// `model.h5`.
    public var model: String { file("model.h5") }
    /// `policy.h5`.
    public var policy: String { file("policy.h5") }
    /// `scores.h5`.
    public var scores: String { file("scores.h5") }
    /// `split.json`.
    public var split: String { file("split.json") }

    /// The names of the files a finished run holds (`policy.h5` only with a controller).
    public static func fileNames(withPolicy: Bool) -> [String] {
        ["config.json", "split.json", "history.jsonl", "checkpoint.h5", "model.h5"] + (withPolicy ? ["policy.h5"] : []) + ["scores.h5"]
    }

    /// The score file a report plots for this folder: `scores.h5`, else a `scores.csv` or
    /// `scores.tsv` put there by hand; nil when there is none.
    public var scoreFile: String? {
        ["scores.h5", "scores.csv", "scores.tsv"].map(file).first { FileManager.default.fileExists(atPath: $0) }
    }

    /// True when `path` is an existing folder (a run folder rather than a file).
    public static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// True when the folder is missing or empty (a new run may start in it).
    public var isEmpty: Bool { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).isEmpty }

    /// The path of `name` inside the folder.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}
