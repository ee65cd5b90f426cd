import Foundation
import ScoreMetrics

/// NumPy score files (SPEC section 4): an `.npz` archive (`numpy.savez` or `savez_compressed`)
/// with 1-d arrays `scores` (float32|float64 [M]) and `labels` (bool or integer 0/1 [M], 1 =
/// genuine), optionally `left_id` and `right_id` (integers or fixed-width strings [M]); or an
/// `.npy` file holding a structured array with fields `score`, `label` (optionally `left_id`,
/// `right_id`), or the arrays scores, labels (and both ids) saved one after another.
///
/// Object arrays are refused, never unpickled. Other members of an `.npz` are ignored.
public enum ScoresNumPy {
    /// The `.npz` array names, in the order the columns are written (and read from an `.npy`).
    public static let arrayNames = ["scores", "labels", "left_id", "right_id"]
    /// The field names of a structured `.npy` array.
    public static let fieldNames = ["score", "label", "left_id", "right_id"]

    /// One column: `count` elements of `type` at `offset + i * stride` in `array.bytes`.
    struct Column {
        var array: NumPyArray
        var type: NumPyType
        var offset = 0
        var stride: Int
        var location: String
        var count: Int { array.shape.first ?? 0 }

        init(_ array: NumPyArray, location: String) {
            self.array = array
            type = array.type
            stride = array.type.size
            self.location = location
        }
    }

    /// Reads an `.npy` or `.npz` score file into a score set and, when the identities are strings
    /// or exceed int32, the names behind the identity numbers.
    /// - Complexity: O(M) after reading the file (an `.npz` member is inflated whole).
    public static func read(path: String, format: ScoreFileFormat, polarity: Polarity = .similarity) throws(DataError) -> NamedScoreSet {
        try requireReadableFile(path)
        let columns = format == .npz ? try npzColumns(path) : try npyColumns(path)
        return try scoreSet(columns, path: path, polarity: polarity)
    }

    private static func npzColumns(_ path: String) throws(DataError) -> [Column?] {
        let zip = try ZipReader(path: path)
        var columns = [Column?]()
        for name in arrayNames {
            guard let member = zip.members.first(where: { $0.name == name + ".npy" }) else {
                if name == "scores" || name == "labels" {
                    let found = zip.members.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name }
                    throw DataError(file: path, "missing array '\(name)' (an .npz score file holds scores and labels, optionally left_id and right_id); found: \(found.isEmpty ? "no arrays" : found.joined(separator: ", "))")
                }
                columns.append(nil)
                continue
            }
            let bytes = try zip.contents(member)
            let arrays = try withRawBytes(bytes) { b throws(DataError) in try NumPyArray.parseAll(b, file: path, entry: member.name) }
            guard arrays.count == 1 else { throw DataError(file: path, location: member.name, "holds \(arrays.count) arrays, expected one") }
            columns.append(try plain(arrays[0], location: member.name, path: path))
        }
        return columns
    }

    private static func npyColumns(_ path: String) throws(DataError) -> [Column?] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch { throw DataError(file: path, "cannot be read") }
        let arrays = try withRawBytes(data) { b throws(DataError) in try NumPyArray.parseAll(b, file: path) }
        let first = arrays[0]
        if arrays.count == 1 {
            guard !first.fields.isEmpty else {
                throw DataError(file: path, "one plain \(first.type.name) array of shape \(first.shapeDescription): expected a structured array with fields score and label, or the arrays scores and labels saved one after another (or an .npz)")
            }
            guard first.shape.count == 1 else { throw DataError(file: path, "the structured array has shape \(first.shapeDescription); expected one dimension") }
            return try fieldNames.map { name throws(DataError) -> Column? in
                guard let field = first.fields.first(where: { $0.name == name }) else {
                    if name == "score" || name == "label" {
                        throw DataError(file: path, "the structured array has no field '\(name)' (fields: \(first.fields.map(\.name).joined(separator: ", ")))")
                    }
                    return nil
                }
                var column = Column(first, location: "field \(name)")
                column.type = field.type
                column.offset = field.offset
                column.stride = first.type.size
                return column
            }
        }
        guard arrays.count == 2 || arrays.count == 4 else {
            throw DataError(file: path, "holds \(arrays.count) arrays; expected scores and labels (2), with left_id and right_id (4), or one structured array")
        }
        var columns = [Column?]()
        for (k, array) in arrays.enumerated() {
            columns.append(try plain(array, location: "array \(k + 1) (\(arrayNames[k]))", path: path))
        }
        return columns + [Column?](repeating: nil, count: 4 - arrays.count)
    }

    /// A plain 1-d array as a column.
    private static func plain(_ array: NumPyArray, location: String, path: String) throws(DataError) -> Column {
        guard array.fields.isEmpty else { throw DataError(file: path, location: location, "is a structured array; expected a plain 1-d array") }
        guard array.shape.count == 1 else {
            throw DataError(file: path, location: location, "has shape \(array.shapeDescription); expected a 1-d array")
        }
        return Column(array, location: location)
    }

    /// The columns as a score set, with their types and values checked.
    private static func scoreSet(_ columns: [Column?], path: String, polarity: Polarity) throws(DataError) -> NamedScoreSet {
        let scores = columns[0]!, labels = columns[1]!
        let m = scores.count
        for c in columns.compactMap({ $0 }) where c.count != m {
            throw DataError(file: path, location: c.location, "has \(c.count) elements, the scores have \(m)")
        }
        guard (columns[2] == nil) == (columns[3] == nil) else {
            throw DataError(file: path, location: (columns[2] ?? columns[3])!.location, "left_id and right_id must be given together")
        }
        let label = try labelValues(labels, path: path)
        let genuineCount = label.reduce(0) { $0 + Int($1) }
        if genuineCount == 0 { throw DataError(file: path, location: labels.location, "no genuine scores (no label is 1)") }
        if genuineCount == m { throw DataError(file: path, location: labels.location, "no impostor scores (no label is 0)") }
        var ids: (left: [Int32], right: [Int32], names: [String]?)?
        if let left = columns[2], let right = columns[3] { ids = try identities(left, right, path: path) }
        func make<T: ScoreFloat>(_ values: [T]) throws(DataError) -> ScoreSet<T> {
            let (g, i) = ScoresHDF5.partition(values, label, genuineCount)
            var gIDs: ComparisonIdentities?, iIDs: ComparisonIdentities?
            if let ids {
                let (gl, il) = ScoresHDF5.partition(ids.left, label, genuineCount)
                let (gr, ir) = ScoresHDF5.partition(ids.right, label, genuineCount)
                gIDs = ComparisonIdentities(left: gl, right: gr)
                iIDs = ComparisonIdentities(left: il, right: ir)
            }
            do {
                return try ScoreSet(genuine: g, impostor: i, polarity: polarity, genuineIdentities: gIDs, impostorIdentities: iIDs)
            } catch {
                throw DataError(file: path, location: scores.location, error.description)
            }
        }
        let set: AnyScoreSet
        switch (scores.type.kind, scores.type.size) {
        case ("f", 4): set = .float(try make(values(scores) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }))
        case ("f", 8): set = .double(try make(values(scores) { Double(bitPattern: $0) }))
        default:
            throw DataError(file: path, location: scores.location, "scores are \(scores.type.name); expected float32 or float64 (scores.astype(np.float64))")
        }
        return NamedScoreSet(scores: set, identityNames: ids?.names)
    }

    /// The elements of an integer or float column as raw little-endian bits, mapped by `convert`.
    private static func values<T>(_ c: Column, _ convert: (UInt64) -> T) -> [T] {
        c.array.bytes.withUnsafeBytes { b in
            (0..<c.count).map { i in
                let at = c.offset + i * c.stride
                var bits: UInt64 = 0
                for k in 0..<c.type.size {
                    let byte = UInt64(b[at + (c.type.bigEndian ? c.type.size - 1 - k : k)])
                    bits |= byte << (8 * UInt64(k))
                }
                return convert(bits)
            }
        }
    }

    /// Integer values of an integer column (sign-extended for `i`).
    private static func integers(_ c: Column) -> [Int64] {
        let shift = UInt64(64 - 8 * c.type.size)
        return values(c) { bits in c.type.kind == "i" ? Int64(bitPattern: bits << shift) >> Int64(shift) : Int64(bitPattern: bits) }
    }

    private static func labelValues(_ c: Column, path: String) throws(DataError) -> [UInt8] {
        guard ["b", "i", "u"].contains(c.type.kind), c.type.size <= 8 else {
            throw DataError(file: path, location: c.location, "labels are \(c.type.name); expected bool or integer 0/1 labels (labels.astype(np.uint8))")
        }
        let raw = integers(c)
        if let bad = raw.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw DataError(file: path, location: c.location, "label \(raw[bad]) at index \(bad) is not 0 or 1")
        }
        return raw.map { UInt8($0) }
    }

    /// Identity numbers of both columns: kept when they are integers within int32, else numbered
    /// in order of first appearance with their names (the decimal number or the string).
    private static func identities(_ left: Column, _ right: Column, path: String) throws(DataError) -> ([Int32], [Int32], [String]?) {
        let kinds = (left.type.kind, right.type.kind)
        let integer: Set<Character> = ["i", "u"], text: Set<Character> = ["U", "S"]
        if integer.contains(kinds.0), integer.contains(kinds.1), left.type.size <= 8, right.type.size <= 8 {
            let (l, r) = (integers(left), integers(right))
            let range = Int64(Int32.min)...Int64(Int32.max)
            if l.allSatisfy(range.contains), r.allSatisfy(range.contains) { return (l.map { Int32($0) }, r.map { Int32($0) }, nil) }
            return number(l.map(String.init), r.map(String.init))
        }
        if text.contains(kinds.0), text.contains(kinds.1) { return number(strings(left), strings(right)) }
        let bad = integer.contains(kinds.0) || text.contains(kinds.0) ? right : left
        throw DataError(file: path, location: bad.location, "identities are \(bad.type.name); expected integers or fixed-width strings, both columns of one kind")
    }

    /// Fixed-width strings (UTF-32 `U` or bytes `S`), trailing NULs removed.
    private static func strings(_ c: Column) -> [String] {
        c.array.bytes.withUnsafeBytes { b in
            (0..<c.count).map { i in
                let at = c.offset + i * c.stride
                if c.type.kind == "S" {
                    var end = c.type.size
                    while end > 0 && b[at + end - 1] == 0 { end -= 1 }
                    return String(decoding: UnsafeRawBufferPointer(rebasing: b[at..<(at + end)]), as: UTF8.self)
                }
                var scalars = String.UnicodeScalarView()
                for k in 0..<(c.type.size / 4) {
                    var v: UInt32 = 0
                    for j in 0..<4 { v |= UInt32(b[at + 4 * k + (c.type.bigEndian ? 3 - j : j)]) << (8 * UInt32(j)) }
                    if v == 0 { break }
                    scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                }
                return String(scalars)
            }
        }
    }

    /// Numbers names in order of first appearance across both columns.
    private static func number(_ left: [String], _ right: [String]) -> ([Int32], [Int32], [String]?) {
        var index = [String: Int32]()
        var names = [String]()
        func id(_ name: String) -> Int32 {
            if let k = index[name] { return k }
            index[name] = Int32(names.count)
            names.append(name)
            return Int32(names.count - 1)
        }
        var l = [Int32](), r = [Int32]()
        l.reserveCapacity(left.count)
        r.reserveCapacity(right.count)
        for (a, b) in zip(left, right) {
            l.append(id(a))
            r.append(id(b))
        }
        return (l, r, names)
    }

    /// Writes an `.npz` score file: float32 `scores`, uint8 `labels`, and int32 `left_id`,
    /// `right_id` when given (renamed into place when complete).
    public static func write(path: String, scores: [Float], labels: [UInt8], left: [Int32]? = nil, right: [Int32]? = nil) throws(DataError) {
        guard labels.count == scores.count, left?.count ?? scores.count == scores.count, right?.count ?? scores.count == scores.count,
              (left == nil) == (right == nil)
        else { throw DataError(file: path, "columns of unequal length, or only one identity column") }
        let writer = try StreamWriter(path: path, count: scores.count, identities: left != nil)
        try writer.append(scores: scores, labels: labels, left: left ?? [], right: right ?? [])
        try writer.close()
    }

    /// Streams an `.npz` score file block of rows by block of rows (as `ScoresHDF5.StreamWriter`).
    public final class StreamWriter: ScoreStreamWriter {
        /// The rows the file will hold.
        public let count: Int
        /// Rows written so far.
        public private(set) var written = 0
        private let zip: ZipWriter
        private let identities: Bool

        /// Starts an archive of `count` rows at `path` (renamed into place by `close()`).
        public convenience init(path: String, count: Int, identities: Bool = true) throws(DataError) {
            try self.init(path: path, count: count, identities: identities, forceZip64: false)
        }

        init(path: String, count: Int, identities: Bool, forceZip64: Bool) throws(DataError) {
            self.count = count
            self.identities = identities
            let types: [NumPyType] = [.float32, .uint8, .int32, .int32]
            let members = (identities ? 4 : 2)
            zip = try ZipWriter(path: path, members: (0..<members).map { k in
                (arrayNames[k] + ".npy", NumPyArray.header(type: types[k], shape: [count]).count + count * types[k].size)
            }, forceZip64: forceZip64)
            for k in 0..<members {
                try withRawBytes(NumPyArray.header(type: types[k], shape: [count])) { b throws(DataError) in try zip.append(k, b) }
            }
        }

        /// Appends rows: scores, labels (1 genuine) and, when the file has them, both identities.
        public func append(scores s: [Float], labels l: [UInt8], left a: [Int32], right b: [Int32]) throws(DataError) {
            guard l.count == s.count, !identities || (a.count == s.count && b.count == s.count) else {
                throw DataError(file: zip.path, "a block of \(s.count) scores with \(l.count) labels and \(a.count)/\(b.count) identities")
            }
            try withRawBytes(s) { p throws(DataError) in try zip.append(0, p) }
            try withRawBytes(l) { p throws(DataError) in try zip.append(1, p) }
            if identities {
                try withRawBytes(a) { p throws(DataError) in try zip.append(2, p) }
                try withRawBytes(b) { p throws(DataError) in try zip.append(3, p) }
            }
            written += s.count
        }

        /// Writes the archive's directory and moves the finished file into place.
        public func close() throws(DataError) { try zip.close() }
    }
}

/// A score file written block of rows by block of rows: `alaverify score` and a run's
/// `scores.h5` stream through one (`ScoreFiles.streamWriter` picks the layout).
public protocol ScoreStreamWriter: AnyObject {
    /// The rows the file will hold.
    var count: Int { get }
    /// Rows written so far.
    var written: Int { get }
    /// Appends rows: scores, labels (1 genuine) and the two identities of each comparison.
    func append(scores: [Float], labels: [UInt8], left: [Int32], right: [Int32]) throws(DataError)
    /// Finishes the file and moves it into place.
    func close() throws(DataError)
}

extension ScoresHDF5.StreamWriter: ScoreStreamWriter {}

extension ScoreFiles {
    /// A stream writer of `count` rows with comparison identities: an `.npz` archive for a path
    /// ending in `.npz`, else HDF5 `alaverify-scores` v1.
    public static func streamWriter(path: String, count: Int) throws(DataError) -> any ScoreStreamWriter {
        if (path as NSString).pathExtension.lowercased() == "npz" { return try ScoresNumPy.StreamWriter(path: path, count: count) }
        return try ScoresHDF5.StreamWriter(path: path, count: count)
    }
}
