import Foundation
import ScoreMetrics

/// Inspects any file `inspect` accepts: HDF5 samples and scores files, and CSV/TSV/bob/NumPy score files.
///
/// HDF5 files (by signature, or `format: .hdf5`) go to `inspectReport(path:)`; text score files
/// and NumPy files are parsed with `ScoreFiles.read` and summarised the same way as HDF5 scores files: counts,
/// score ranges in the file's own units, identity pairs and the rule-of-3 floor.
public func inspectReport(path: String, format: ScoreFileFormat) throws(DataError) -> InspectReport {
    let resolved = format == .auto ? try ScoreFiles.sniff(path: path) : format
    if resolved == .hdf5 { return try inspectReport(path: path) }
    // Similarity polarity keeps the scores as written, so ranges are in the file's units.
    let set = try ScoreFiles.read(path: path, format: resolved, polarity: .similarity)
    var lines = ["file: \(path)", "format: \(resolved.rawValue) scores"]
    var problems: [String] = []
    describeScores(set, lines: &lines, problems: &problems)
    return InspectReport(format: resolved.rawValue, lines: lines, problems: problems)
}
