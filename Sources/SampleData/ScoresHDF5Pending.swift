import ScoreMetrics

// Placeholder until the HDF5 wrapper branch lands; removed by that merge.
public enum ScoresHDF5 {
    public static func read(path: String, polarity: Polarity = .similarity) throws(DataError) -> AnyScoreSet {
        throw DataError(file: path, "HDF5 score files are not supported in this build yet")
    }
}
