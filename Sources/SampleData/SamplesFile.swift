import Foundation

/// What each sample (or each side of a pair) of a samples file is.
public enum SampleKind: Sendable, Equatable, CustomStringConvertible {
    /// uint8 images of `height` x `width` x `channels` (channels is 1 for [N, H, W]).
    case images(height: Int, width: Int, channels: Int)
    /// float32 feature vectors of length `dimension`.
    case features(dimension: Int)

    /// Elements per sample.
    public var elementsPerSample: Int {
        switch self {
        case .images(let h, let w, let c): return h * w * c
        case .features(let d): return d
        }
    }

    /// `images 32x32x1` or `features 128`.
    public var description: String {
        switch self {
        case .images(let h, let w, let c): return "images \(h)x\(w)x\(c)"
        case .features(let d): return "features \(d)"
        }
    }
}

/// How the samples are stored.
public enum SamplesLayout: Sendable, Equatable {
    /// `/samples/images` or `/samples/features` with `/samples/identity`.
    case samples
    /// `/pairs/images` [P, 2, H, W(, C)] with `/pairs/label` and no `/samples`.
    case pairMajor
}

/// An explicit pair list (`/pairs/index` and `/pairs/label`).
public struct ExplicitPairs: Sendable, Equatable {
    /// Sample index of the left side of each pair.
    public var left: [Int]
    /// Sample index of the right side of each pair.
    public var right: [Int]
    /// True for genuine (label 1) pairs.
    public var genuine: [Bool]

    /// The number of pairs.
    public var count: Int { genuine.count }
    /// The number of genuine pairs.
    public var genuineCount: Int { genuine.lazy.filter { $0 }.count }
}

/// A per-sample or per-identity attribute column.
public enum AttributeColumn: Sendable, Equatable {
    case integers([Int64])
    case floats([Double])
    case strings([String])

    /// The number of entries.
    public var count: Int {
        switch self {
        case .integers(let v): return v.count
        case .floats(let v): return v.count
        case .strings(let v): return v.count
        }
    }
}

/// An open, validated `alaverify-samples` v1 file (SPEC section 5).
///
/// Opening checks the format attributes, every required dataset's type, rank and length, every
/// identity index and the explicit pair list; sample data are read later, in batches.
public final class SamplesFile: @unchecked Sendable {
    /// The path as given.
    public let path: String
    /// The storage layout.
    public let layout: SamplesLayout
    /// What one sample is.
    public let kind: SampleKind
    /// N: samples (for the pair-major layout, the number of pairs P).
    public let count: Int
    /// The identity index of every sample (empty for the pair-major layout).
    public let identities: [Int32]
    /// Identity names (K entries; empty for the pair-major layout).
    public let identityNames: [String]
    /// The explicit pair list, when the file has one (pair-major files: pairs of rows 2p, 2p+1).
    public let explicitPairs: ExplicitPairs?
    /// The root `description` attribute.
    public let fileDescription: String?
    /// The root `source` attribute.
    public let source: String?
    /// The root `license` attribute.
    public let license: String?
    /// Names of the per-sample attribute arrays under `/samples/attributes`.
    public let sampleAttributeNames: [String]
    /// Names of the per-identity arrays under `/identities` other than `name`.
    public let identityAttributeNames: [String]

    let file: HDF5File
    let data: HDF5Dataset

    /// The dataset holding the sample data.
    public var dataPath: String { data.path }
    /// Rows per chunk of the sample data along the first dimension (1 when contiguous).
    public var chunkRows: Int { max(1, data.chunkShape?.first ?? 1) }
    /// K: the number of identities.
    public var identityCount: Int { identityNames.count }

    /// Opens and validates `path`; every problem is a `DataError` naming the file and dataset.
    public init(path: String) throws(DataError) {
        self.path = path
        let file = try HDF5File(path: path)
        self.file = file
        try ScoresHDF5.checkFormat(file, expected: "alaverify-samples")
        fileDescription = try file.stringAttribute("description")
        source = try file.stringAttribute("source")
        license = try file.stringAttribute("license")

        let hasImages = try file.exists("/samples/images")
        let hasFeatures = try file.exists("/samples/features")
        let hasPairImages = try file.exists("/pairs/images")
        if hasImages && hasFeatures {
            throw file.site("/samples").error("has both images and features; expected one of them")
        }
        if hasImages || hasFeatures {
            layout = .samples
            let data = try file.dataset(hasImages ? "/samples/images" : "/samples/features")
            self.data = data
            if hasImages {
                try data.require(type: .uint8)
                try data.require(rank: 3, 4)
                kind = .images(height: data.shape[1], width: data.shape[2], channels: data.rank == 4 ? data.shape[3] : 1)
            } else {
                try data.require(type: .float32)
                try data.require(rank: 2)
                kind = .features(dimension: data.shape[1])
            }
            count = data.shape[0]
            guard count > 0 else { throw data.site.error("has zero samples") }
            guard kind.elementsPerSample > 0, ShapeMath.byteCount(data.shape, elementSize: 4) != nil else {
                throw data.site.error("shape \(data.shapeDescription) is empty or too large")
            }
            let identitySet = try file.dataset("/samples/identity")
            try identitySet.require(type: .int32)
            try identitySet.require(rank: 1)
            guard identitySet.shape[0] == count else {
                throw identitySet.site.error("has \(identitySet.shape[0]) entries but \(data.path) has \(count) samples")
            }
            let nameSet = try file.dataset("/identities/name")
            guard nameSet.rank == 1 else { throw nameSet.site.error("expected rank 1, found rank \(nameSet.rank)") }
            identityNames = try nameSet.readStrings()
            identities = try identitySet.read()
            let k = identityNames.count
            if let bad = identities.firstIndex(where: { $0 < 0 || Int($0) >= k }) {
                throw identitySet.site.error("identity \(identities[bad]) of sample \(bad) is outside 0..<\(k) (the entries of /identities/name)")
            }
            sampleAttributeNames = try Self.columns(file, group: "/samples/attributes", length: count, what: "samples")
            identityAttributeNames = try Self.columns(file, group: "/identities", length: k, what: "identities")
                .filter { $0 != "name" }
            explicitPairs = try Self.readPairs(file, sampleCount: count)
        } else if hasPairImages {
            layout = .pairMajor
            let data = try file.dataset("/pairs/images")
            self.data = data
            try data.require(type: .uint8)
            try data.require(rank: 4, 5)
            guard data.shape[1] == 2 else {
                throw data.site.error("expected shape [P, 2, H, W(, C)], found \(data.shapeDescription)")
            }
            kind = .images(height: data.shape[2], width: data.shape[3], channels: data.rank == 5 ? data.shape[4] : 1)
            count = data.shape[0]
            guard count > 0 else { throw data.site.error("has zero pairs") }
            let labels = try Self.readLabels(file, count: count)
            explicitPairs = ExplicitPairs(
                left: (0..<count).map { 2 * $0 }, right: (0..<count).map { 2 * $0 + 1 }, genuine: labels)
            identities = []
            identityNames = []
            sampleAttributeNames = []
            identityAttributeNames = []
        } else {
            throw file.site("/samples/images").error("missing dataset (expected /samples/images, /samples/features or /pairs/images)")
        }
    }

    /// Names of the arrays directly inside `group`, each checked to have `length` rows.
    private static func columns(_ file: HDF5File, group: String, length: Int, what: String) throws(DataError) -> [String] {
        guard try file.objectKind(group) == .group else { return [] }
        var names: [String] = []
        for path in try file.datasetPaths() where path.hasPrefix(group + "/") {
            let name = String(path.dropFirst(group.count + 1))
            if name.contains("/") { continue }
            let set = try file.dataset(path)
            guard set.rank >= 1, set.shape[0] == length else {
                throw set.site.error("has shape \(set.shapeDescription) but there are \(length) \(what)")
            }
            names.append(name)
        }
        return names
    }

    private static func readLabels(_ file: HDF5File, count: Int) throws(DataError) -> [Bool] {
        let labelSet = try file.dataset("/pairs/label")
        try labelSet.require(type: .uint8)
        try labelSet.require(rank: 1)
        guard labelSet.shape[0] == count else {
            throw labelSet.site.error("has \(labelSet.shape[0]) labels but there are \(count) pairs")
        }
        let labels: [UInt8] = try labelSet.read()
        if let bad = labels.firstIndex(where: { $0 > 1 }) {
            throw labelSet.site.error("label \(labels[bad]) at index \(bad) is not 0 or 1")
        }
        return labels.map { $0 == 1 }
    }

    private static func readPairs(_ file: HDF5File, sampleCount: Int) throws(DataError) -> ExplicitPairs? {
        guard try file.exists("/pairs/index") else {
            if try file.exists("/pairs/label") {
                throw file.site("/pairs/index").error("missing dataset (/pairs/label needs it)")
            }
            return nil
        }
        let indexSet = try file.dataset("/pairs/index")
        try indexSet.require(type: .int64)
        try indexSet.require(rank: 2)
        guard indexSet.shape[1] == 2 else {
            throw indexSet.site.error("expected shape [P, 2], found \(indexSet.shapeDescription)")
        }
        let p = indexSet.shape[0]
        _ = try ShapeMath.checkAllocation([p, 2], elementSize: 8, indexSet.site)
        let labels = try readLabels(file, count: p)
        let flat: [Int64] = try indexSet.read()
        if let bad = flat.firstIndex(where: { $0 < 0 || $0 >= Int64(sampleCount) }) {
            throw indexSet.site.error("sample index \(flat[bad]) of pair \(bad / 2) is outside 0..<\(sampleCount)")
        }
        let left = stride(from: 0, to: flat.count, by: 2).map { Int(flat[$0]) }
        let right = stride(from: 1, to: flat.count, by: 2).map { Int(flat[$0]) }
        return ExplicitPairs(left: left, right: right, genuine: labels)
    }

    /// A per-sample attribute (`/samples/attributes/<name>`), nil when absent; 1-d columns only.
    public func sampleAttribute(_ name: String) throws(DataError) -> AttributeColumn? {
        guard sampleAttributeNames.contains(name) else { return nil }
        return try column("/samples/attributes/" + name)
    }

    /// A per-identity array (`/identities/<name>`), nil when absent; 1-d columns only.
    public func identityAttribute(_ name: String) throws(DataError) -> AttributeColumn? {
        guard identityAttributeNames.contains(name) || name == "name" else { return nil }
        return try column("/identities/" + name)
    }

    private func column(_ path: String) throws(DataError) -> AttributeColumn {
        let set = try file.dataset(path)
        guard set.rank == 1 else { throw set.site.error("expected rank 1, found \(set.shapeDescription)") }
        switch set.elementType {
        case .int8: return .integers(try set.read(as: Int8.self).map(Int64.init))
        case .uint8: return .integers(try set.read(as: UInt8.self).map(Int64.init))
        case .int16: return .integers(try set.read(as: Int16.self).map(Int64.init))
        case .uint16: return .integers(try set.read(as: UInt16.self).map(Int64.init))
        case .int32: return .integers(try set.read(as: Int32.self).map(Int64.init))
        case .uint32: return .integers(try set.read(as: UInt32.self).map(Int64.init))
        case .int64: return .integers(try set.read(as: Int64.self))
        case .uint64: return .integers(try set.read(as: UInt64.self).map { Int64(clamping: $0) })
        case .float32: return .floats(try set.read(as: Float.self).map(Double.init))
        case .float64: return .floats(try set.read(as: Double.self))
        case .fixedString, .variableString: return .strings(try set.readStrings())
        case .other(let t): throw set.site.error("unsupported attribute type \(t)")
        }
    }

    /// Sample indices grouped by identity (entry k lists the samples of identity k, ascending).
    public func samplesByIdentity() -> [[Int]] {
        var groups = [[Int]](repeating: [], count: identityCount)
        for (i, id) in identities.enumerated() { groups[Int(id)].append(i) }
        return groups
    }

    // MARK: Reading sample data

    /// Reads rows `rows` of images (uint8, row-major [rows, H, W(, C)]; pair-major: [rows, 2, H, W(, C)]).
    public func readImages(_ rows: Range<Int>) throws(DataError) -> [UInt8] {
        guard case .images = kind else { throw data.site.error("holds features, not images") }
        return try data.readRows(rows)
    }

    /// Reads rows `rows` of features (float32, row-major [rows, D]).
    public func readFeatures(_ rows: Range<Int>) throws(DataError) -> [Float] {
        guard case .features = kind else { throw data.site.error("holds images, not features") }
        return try data.readRows(rows)
    }

    /// Reads the samples at `indices` (any order, repeats allowed) as uint8 images, in that order.
    ///
    /// Indices are sorted and coalesced into runs so each chunk is decompressed about once.
    public func readImages(indices: [Int]) throws(DataError) -> [UInt8] {
        guard case .images = kind else { throw data.site.error("holds features, not images") }
        return try gather(indices, as: UInt8.self)
    }

    /// Reads the samples at `indices` like `readImages(indices:)`, but no read crosses a chunk
    /// boundary: beyond the output, memory stays within one chunk however the indices spread,
    /// and each chunk touched is still inflated once (indices are sorted, so all of a chunk's
    /// rows come in one read). For batches streamed during training.
    public func readImagesChunkwise(indices: [Int]) throws(DataError) -> [UInt8] {
        guard case .images = kind else { throw data.site.error("holds features, not images") }
        return try gather(indices, as: UInt8.self, withinChunks: true)
    }

    /// Reads the samples at `indices` (any order, repeats allowed) as float32 features, in that order.
    public func readFeatures(indices: [Int]) throws(DataError) -> [Float] {
        guard case .features = kind else { throw data.site.error("holds images, not features") }
        return try gather(indices, as: Float.self)
    }

    /// Elements in one row of the sample data (one sample, or one pair in the pair-major layout).
    public var rowElements: Int { layout == .pairMajor ? 2 * kind.elementsPerSample : kind.elementsPerSample }

    /// Rows are sorted and read in runs whose gaps are below a chunk; `withinChunks` also ends a
    /// run at each chunk boundary.
    private func gather<T: HDF5Scalar & Numeric>(_ indices: [Int], as type: T.Type, withinChunks: Bool = false) throws(DataError) -> [T] {
        let rowCount = data.shape[0]
        if let bad = indices.first(where: { $0 < 0 || $0 >= rowCount }) {
            throw data.site.error("sample index \(bad) is outside 0..<\(rowCount)")
        }
        let width = rowElements
        _ = try ShapeMath.checkAllocation([indices.count, width], elementSize: MemoryLayout<T>.stride, data.site)
        var output = [T](repeating: 0, count: indices.count * width)
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        var position = 0
        let gapLimit = max(chunkRows, 1)
        while position < order.count {
            let first = indices[order[position]]
            var end = position + 1
            var last = first
            while end < order.count, indices[order[end]] - last <= gapLimit,
                  !withinChunks || indices[order[end]] / gapLimit == first / gapLimit {
                last = indices[order[end]]
                end += 1
            }
            let block: [T] = try data.readRows(first..<(last + 1))
            block.withUnsafeBufferPointer { src in
                output.withUnsafeMutableBufferPointer { dst in
                    guard let from = src.baseAddress, let to = dst.baseAddress else { return }
                    for o in position..<end {
                        let row = indices[order[o]] - first
                        (to + order[o] * width).update(from: from + row * width, count: width)
                    }
                }
            }
            position = end
        }
        return output
    }

    /// Row ranges covering all N rows in batches of about `batchRows`, aligned to chunk boundaries.
    public func rowBatches(batchRows: Int) -> [Range<Int>] {
        let chunk = chunkRows
        let step = max(chunk, (max(1, batchRows) + chunk - 1) / chunk * chunk)
        return stride(from: 0, to: data.shape[0], by: step).map { $0..<min($0 + step, data.shape[0]) }
    }
}
