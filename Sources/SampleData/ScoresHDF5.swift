import ScoreMetrics

/// Reads and writes `alaverify-scores` v1 HDF5 score files (SPEC section 4).
///
/// Layout: `/scores/score` float32 or float64 [M], `/scores/label` uint8 [M] (1 genuine,
/// 0 impostor), optional `/scores/left_identity` and `/scores/right_identity` int32 [M], and the
/// root attributes `format = "alaverify-scores"`, `format_version = 1`.
public enum ScoresHDF5 {
    /// The value of the root `format` attribute.
    public static let format = "alaverify-scores"
    /// The supported value of the root `format_version` attribute.
    public static let formatVersion: Int64 = 1

    static let scorePath = "/scores/score"
    static let labelPath = "/scores/label"
    static let leftPath = "/scores/left_identity"
    static let rightPath = "/scores/right_identity"

    /// True when the file at `path` starts with the 8-byte HDF5 signature.
    public static func isHDF5(path: String) -> Bool { HDF5File.hasSignature(path: path) }

    /// Reads a score file, split into genuine and impostor scores in file order.
    ///
    /// float32 scores give `.float`, float64 scores `.double`; identities are attached when both
    /// identity columns are present.
    /// - Complexity: O(M): one read per column and one pass for the split.
    public static func read(path: String, polarity: Polarity = .similarity) throws(DataError) -> AnyScoreSet {
        let file = try HDF5File(path: path)
        try checkFormat(file, expected: format)
        let scoreSet = try file.dataset(scorePath)
        try scoreSet.require(rank: 1)
        let labelSet = try file.dataset(labelPath)
        try labelSet.require(type: .uint8)
        try labelSet.require(rank: 1)
        let m = scoreSet.shape[0]
        guard labelSet.shape[0] == m else {
            throw file.site(labelPath).error("has \(labelSet.shape[0]) labels but \(scorePath) has \(m) scores")
        }
        let identities = try readIdentities(file, count: m)
        let labels: [UInt8] = try labelSet.read()
        let genuineCount = try countGenuine(labels, file.site(labelPath))
        if genuineCount == 0 { throw file.site(labelPath).error("no genuine scores (no label is 1)") }
        if genuineCount == m { throw file.site(labelPath).error("no impostor scores (no label is 0)") }
        switch scoreSet.elementType {
        case .float32:
            let scores: ([Float], [Float]) = try readPartitioned(scoreSet, labels, genuineCount)
            return .float(try makeSet(scores, labels, genuineCount, identities, polarity, file.site(scorePath)))
        case .float64:
            let scores: ([Double], [Double]) = try readPartitioned(scoreSet, labels, genuineCount)
            return .double(try makeSet(scores, labels, genuineCount, identities, polarity, file.site(scorePath)))
        default:
            throw file.site(scorePath).error("expected float32 or float64, found \(scoreSet.elementType)")
        }
    }

    /// Writes a score file (chunked, compressed, renamed into place when complete).
    ///
    /// `labels` are 1 (genuine) or 0 (impostor); identity columns are written only when both are given.
    public static func write<T: ScoreFloat & HDF5Scalar>(
        path: String, scores: [T], labels: [UInt8], leftIdentity: [Int32]? = nil, rightIdentity: [Int32]? = nil
    ) throws(DataError) {
        let site = HDF5Site(file: path)
        guard labels.count == scores.count else {
            throw site.error("\(labels.count) labels for \(scores.count) scores")
        }
        if let bad = labels.firstIndex(where: { $0 > 1 }) {
            throw site.error("label \(labels[bad]) at index \(bad) is not 0 or 1")
        }
        guard (leftIdentity == nil) == (rightIdentity == nil) else {
            throw site.error("left and right identities must be given together")
        }
        if let left = leftIdentity, let right = rightIdentity, left.count != scores.count || right.count != scores.count {
            throw site.error("identity columns have \(left.count) and \(right.count) entries for \(scores.count) scores")
        }
        let writer = try HDF5Writer(path: path)
        try writer.setAttribute("format", format)
        try writer.setAttribute("format_version", formatVersion)
        try writer.write(scorePath, scores)
        try writer.write(labelPath, labels)
        if let left = leftIdentity, let right = rightIdentity {
            try writer.write(leftPath, left)
            try writer.write(rightPath, right)
        }
        try writer.close()
    }

    /// Writes a score set: its genuine scores first, then its impostor scores.
    public static func write<T: ScoreFloat & HDF5Scalar>(path: String, scoreSet: ScoreSet<T>) throws(DataError) {
        let labels = [UInt8](repeating: 1, count: scoreSet.genuineCount) + [UInt8](repeating: 0, count: scoreSet.impostorCount)
        var left: [Int32]? = nil
        var right: [Int32]? = nil
        if let g = scoreSet.genuineIdentities, let i = scoreSet.impostorIdentities {
            left = g.left + i.left
            right = g.right + i.right
        }
        try write(path: path, scores: scoreSet.genuine + scoreSet.impostor, labels: labels, leftIdentity: left, rightIdentity: right)
    }

    /// Streams a float32 score file with comparison identities, block of rows by block of rows,
    /// so that the scores of a large comparison set are never all in memory (`alaverify score` and
    /// a run's `scores.h5` write through it).
    public final class StreamWriter {
        /// The rows the file will hold.
        public let count: Int
        /// Rows written so far.
        public private(set) var written = 0
        private let writer: HDF5Writer
        private let scores: HDF5DatasetWriter<Float>
        private let labels: HDF5DatasetWriter<UInt8>
        private let left: HDF5DatasetWriter<Int32>
        private let right: HDF5DatasetWriter<Int32>

        /// Starts a file of `count` comparisons at `path` (renamed into place by `close()`).
        public init(path: String, count: Int) throws(DataError) {
            self.count = count
            writer = try HDF5Writer(path: path)
            try writer.setAttribute("format", format)
            try writer.setAttribute("format_version", formatVersion)
            scores = try writer.createDataset(scorePath, shape: [count], of: Float.self)
            labels = try writer.createDataset(labelPath, shape: [count], of: UInt8.self)
            left = try writer.createDataset(leftPath, shape: [count], of: Int32.self)
            right = try writer.createDataset(rightPath, shape: [count], of: Int32.self)
        }

        /// Appends rows: scores, labels (1 genuine) and the two identities of each comparison.
        public func append(scores s: [Float], labels l: [UInt8], left a: [Int32], right b: [Int32]) throws(DataError) {
            try scores.writeRows(at: written, s)
            try labels.writeRows(at: written, l)
            try left.writeRows(at: written, a)
            try right.writeRows(at: written, b)
            written += s.count
        }

        /// Closes the datasets and moves the finished file into place.
        public func close() throws(DataError) {
            scores.close(); labels.close(); left.close(); right.close()
            try writer.close()
        }
    }

    /// Fails unless the root attributes say `expected` v1.
    static func checkFormat(_ file: HDF5File, expected: String) throws(DataError) {
        let root = file.site()
        guard let found = try file.stringAttribute("format") else {
            throw root.error("missing root attribute 'format' (expected '\(expected)')")
        }
        guard found == expected else {
            throw root.error("root attribute 'format' is '\(found)', expected '\(expected)'")
        }
        guard let version = try file.integerAttribute("format_version") else {
            throw root.error("missing root attribute 'format_version' (expected 1)")
        }
        guard version == 1 else {
            throw root.error("format_version \(version) is not supported (expected 1)")
        }
    }

    private static func readIdentities(_ file: HDF5File, count m: Int) throws(DataError) -> (left: [Int32], right: [Int32])? {
        let hasLeft = try file.exists(leftPath)
        let hasRight = try file.exists(rightPath)
        if !hasLeft && !hasRight { return nil }
        guard hasLeft && hasRight else {
            throw file.site(hasLeft ? rightPath : leftPath).error("missing dataset (identity columns come in pairs)")
        }
        var columns: [[Int32]] = []
        for path in [leftPath, rightPath] {
            let set = try file.dataset(path)
            try set.require(type: .int32)
            try set.require(rank: 1)
            guard set.shape[0] == m else {
                throw file.site(path).error("has \(set.shape[0]) entries but \(scorePath) has \(m) scores")
            }
            columns.append(try set.read())
        }
        return (columns[0], columns[1])
    }

    /// Counts labels equal to 1; fails on the first label that is not 0 or 1.
    private static func countGenuine(_ labels: [UInt8], _ site: HDF5Site) throws(DataError) -> Int {
        var genuine = 0
        var invalid = false
        labels.withUnsafeBufferPointer { buffer in
            var bad: UInt8 = 0
            for label in buffer {
                genuine &+= Int(label & 1)
                bad |= label & 0xFE
            }
            invalid = bad != 0
        }
        if invalid, let index = labels.firstIndex(where: { $0 > 1 }) {
            throw site.error("label \(labels[index]) at index \(index) is not 0 or 1")
        }
        return genuine
    }

    /// Splits `scores` by `labels` (already validated) into a score set, keeping file order.
    /// Reads a score column in blocks of 2^20 values straight into its genuine and impostor
    /// arrays, so the peak memory is the scores once plus one block (not the column twice).
    static func readPartitioned<T: ScoreFloat & HDF5Scalar>(
        _ dataset: HDF5Dataset, _ labels: [UInt8], _ genuineCount: Int
    ) throws(DataError) -> ([T], [T]) {
        let m = labels.count
        let blockSize = 1 << 20
        var genuine = [T](repeating: 0, count: genuineCount)
        var impostor = [T](repeating: 0, count: m - genuineCount)
        let block = UnsafeMutableBufferPointer<T>.allocate(capacity: min(blockSize, max(m, 1)))
        defer { block.deallocate() }
        var gi = 0, ii = 0
        var start = 0
        while start < m {
            let count = min(blockSize, m - start)
            try dataset.read(start: [start], count: [count], into: UnsafeMutableBufferPointer(rebasing: block[0..<count]))
            genuine.withUnsafeMutableBufferPointer { g in
                impostor.withUnsafeMutableBufferPointer { i in
                    labels.withUnsafeBufferPointer { l in
                        for j in 0..<count {
                            let v = block[j]
                            if l[start + j] == 1 { g[gi] = v; gi += 1 } else { i[ii] = v; ii += 1 }
                        }
                    }
                }
            }
            start += count
        }
        return (genuine, impostor)
    }

    private static func makeSet<T: ScoreFloat>(
        _ scores: ([T], [T]), _ labels: [UInt8], _ genuineCount: Int,
        _ identities: (left: [Int32], right: [Int32])?, _ polarity: Polarity, _ site: HDF5Site
    ) throws(DataError) -> ScoreSet<T> {
        let (genuine, impostor) = scores
        var genuineIDs: ComparisonIdentities? = nil
        var impostorIDs: ComparisonIdentities? = nil
        if let identities {
            let (gl, il) = partition(identities.left, labels, genuineCount)
            let (gr, ir) = partition(identities.right, labels, genuineCount)
            genuineIDs = ComparisonIdentities(left: gl, right: gr)
            impostorIDs = ComparisonIdentities(left: il, right: ir)
        }
        do {
            return try ScoreSet(
                genuine: genuine, impostor: impostor, polarity: polarity,
                genuineIdentities: genuineIDs, impostorIdentities: impostorIDs)
        } catch {
            throw site.error(error.description)
        }
    }

    /// Stable partition of `values` into (label 1, label 0) arrays of known sizes.
    static func partition<V>(_ values: [V], _ labels: [UInt8], _ genuineCount: Int) -> ([V], [V]) {
        let impostorCount = values.count - genuineCount
        var impostor: [V] = []
        let genuine = [V](unsafeUninitializedCapacity: genuineCount) { g, gDone in
            impostor = [V](unsafeUninitializedCapacity: impostorCount) { i, iDone in
                values.withUnsafeBufferPointer { v in
                    labels.withUnsafeBufferPointer { l in
                        var gi = 0
                        var ii = 0
                        for j in 0..<v.count {
                            if l[j] == 1 {
                                g.initializeElement(at: gi, to: v[j])
                                gi += 1
                            } else {
                                i.initializeElement(at: ii, to: v[j])
                                ii += 1
                            }
                        }
                        gDone = gi
                        iDone = ii
                    }
                }
            }
        }
        return (genuine, impostor)
    }
}
