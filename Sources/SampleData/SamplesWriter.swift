/// Writes an `alaverify-samples` v1 file row by row (chunked, gzip, renamed into place on `close()`).
public final class SamplesWriter: @unchecked Sendable {
    /// The final path.
    public var path: String { writer.path }
    /// What each sample is.
    public let kind: SampleKind
    /// The number of samples the file will hold.
    public let count: Int
    /// The temporary file written until `close()` renames it to `path`.
    public var temporaryPath: String { writer.temporaryPath }
    private let writer: HDF5Writer
    private let images: HDF5DatasetWriter<UInt8>?
    private let features: HDF5DatasetWriter<Float>?

    /// Starts a file of `count` samples of `kind`, with root attributes and identity names.
    public init(
        path: String, kind: SampleKind, count: Int, identityNames: [String],
        description: String? = nil, source: String? = nil, license: String? = nil
    ) throws(DataError) {
        guard count > 0 else { throw DataError(file: path, "a samples file needs at least one sample") }
        self.kind = kind
        self.count = count
        writer = try HDF5Writer(path: path)
        try writer.setAttribute("format", "alaverify-samples")
        try writer.setAttribute("format_version", Int64(1))
        if let description { try writer.setAttribute("description", description) }
        if let source { try writer.setAttribute("source", source) }
        if let license { try writer.setAttribute("license", license) }
        try writer.writeStrings("/identities/name", identityNames)
        switch kind {
        case .images(let h, let w, let c):
            let shape = c == 1 ? [count, h, w] : [count, h, w, c]
            images = try writer.createDataset("/samples/images", shape: shape, of: UInt8.self)
            features = nil
        case .features(let d):
            features = try writer.createDataset("/samples/features", shape: [count, d], of: Float.self)
            images = nil
        }
    }

    /// Writes image rows starting at sample `start` (`values.count` a multiple of H*W*C).
    public func writeImages(at start: Int, _ values: [UInt8]) throws(DataError) {
        guard let images else { throw DataError(file: path, location: "dataset /samples/features", "this file holds features") }
        try images.writeRows(at: start, values)
    }

    /// Writes feature rows starting at sample `start` (`values.count` a multiple of D).
    public func writeFeatures(at start: Int, _ values: [Float]) throws(DataError) {
        guard let features else { throw DataError(file: path, location: "dataset /samples/images", "this file holds images") }
        try features.writeRows(at: start, values)
    }

    /// Writes `/samples/identity` (N entries, each an index into the identity names).
    public func writeIdentities(_ identities: [Int32]) throws(DataError) {
        guard identities.count == count else {
            throw DataError(file: path, location: "dataset /samples/identity", "\(identities.count) identities for \(count) samples")
        }
        try writer.write("/samples/identity", identities)
    }

    /// Writes a per-sample attribute array `/samples/attributes/<name>`.
    public func writeSampleAttribute<T: HDF5Scalar>(_ name: String, _ values: [T]) throws(DataError) {
        guard values.count == count else {
            throw DataError(file: path, location: "dataset /samples/attributes/\(name)", "\(values.count) values for \(count) samples")
        }
        try writer.write("/samples/attributes/" + name, values)
    }

    /// Writes a per-sample string array `/samples/attributes/<name>` (UTF-8, variable length).
    public func writeSampleStrings(_ name: String, _ values: [String]) throws(DataError) {
        guard values.count == count else {
            throw DataError(file: path, location: "dataset /samples/attributes/\(name)", "\(values.count) values for \(count) samples")
        }
        try writer.writeStrings("/samples/attributes/" + name, values)
    }

    /// Writes an explicit pair list (`/pairs/index` int64 [P, 2], `/pairs/label` uint8 [P]).
    public func writePairs(_ pairs: [SamplePair]) throws(DataError) {
        var flat: [Int64] = []
        flat.reserveCapacity(2 * pairs.count)
        for pair in pairs {
            guard pair.left >= 0, pair.left < count, pair.right >= 0, pair.right < count else {
                throw DataError(file: path, location: "dataset /pairs/index", "pair (\(pair.left), \(pair.right)) is outside 0..<\(count)")
            }
            flat.append(Int64(pair.left))
            flat.append(Int64(pair.right))
        }
        try writer.write("/pairs/index", flat, shape: [pairs.count, 2])
        try writer.write("/pairs/label", pairs.map { UInt8($0.genuine ? 1 : 0) })
    }

    /// Finishes the file and moves it into place.
    public func close() throws(DataError) { try writer.close() }
}
