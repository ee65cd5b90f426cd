import ArgumentParser
import Foundation
import Runs
import SampleData

/// `alaverify inspect`: summary and validation of a samples or scores file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise and validate a samples file (HDF5) or a score file (HDF5, CSV/TSV, bob, NumPy).",
        discussion: """
            Samples files: format and version, datasets with shapes, dtypes and chunks, N and K, the \
            samples-per-identity histogram, genuine/impostor counts for all pairs and the explicit \
            pair list, the smallest FAR estimable under the rule of 3 (by comparisons and by identity \
            pairs), per-sample and per-identity attribute summaries. \
            Score files: genuine/impostor counts, score ranges (in the file's units), NaN counts, \
            impostor identity pairs when identities are recorded.

            Validation problems are printed after the summary, one `problem: ...` line each.

            Exit codes: 0 when the file is readable and has no problems; 65 when it has validation \
            problems (the summary is still printed, stderr names the first problem) or cannot be \
            read at all (one line on stderr, nothing on stdout); 64 for bad flags.

            Examples:
              alaverify inspect fixtures/fonts-mini.h5
              alaverify inspect scores.csv
            """)

    @Argument(help: "The file to inspect.")
    var file: String

    @Option(help: "Score file format for non-HDF5 files (default: from the extension or content).")
    var format: ScoreFileFormat = .auto

    func run() throws {
        let report = try RunFiles.inspect(path: file) ?? inspectReport(path: file, format: format)
        print(report.description)
        if let first = report.problems.first {
            let n = report.problems.count
            throw DataError(file: file, "\(n) validation problem\(n == 1 ? "" : "s") (listed above); first: \(first)")
        }
    }
}
