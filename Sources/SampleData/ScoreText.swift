import Foundation
import ScoreMetrics

/// The layout of a score file (SPEC section 4).
public enum ScoreFileFormat: String, Sendable, CaseIterable {
    /// Chosen from the extension, then from the content.
    case auto
    /// Comma-separated with a header naming `label` and `score`.
    case csv
    /// Tab-separated with a header naming `label` and `score`.
    case tsv
    /// bob.bio 4-column: `claimed_id real_id probe_label score`.
    case bob4
    /// bob.bio 5-column: `claimed_id model_label real_id probe_label score`.
    case bob5
    /// HDF5 `alaverify-scores` v1.
    case hdf5
    /// NumPy `.npy`: a structured array (fields `score`, `label`), or the arrays saved one after another.
    case npy
    /// NumPy `.npz`: arrays `scores`, `labels`, optional `left_id`, `right_id`.
    case npz
}

/// Reads score files of every SPEC layout into a score set.
public enum ScoreFiles {
    /// Reads `path` in `format` (sniffed when `.auto`).
    ///
    /// Text files are read in blocks and parsed in place (no per-line objects). Comparison
    /// identities are kept when the layout names them (`left_id,right_id` columns, bob ids).
    public static func read(path: String, format: ScoreFileFormat = .auto, polarity: Polarity = .similarity)
        throws(DataError) -> AnyScoreSet
    {
        let resolved = format == .auto ? try sniff(path: path) : format
        switch resolved {
        case .hdf5:
            return try ScoresHDF5.read(path: path, polarity: polarity)
        case .npy, .npz:
            return try ScoresNumPy.read(path: path, format: resolved, polarity: polarity).scores
        case .csv, .tsv, .bob4, .bob5:
            var parser = TextScoreParser(path: path, format: resolved)
            try parser.parseFile()
            return try parser.scoreSet(polarity: polarity)
        case .auto:
            throw DataError(file: path, "cannot tell the score file's format")
        }
    }

    /// Picks the format from the HDF5, NumPy or ZIP signature, the extension, or the first line.
    public static func sniff(path: String) throws(DataError) -> ScoreFileFormat {
        try requireReadableFile(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError(file: path, "cannot be read") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 65536)) ?? Data()
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
        let ext = (path as NSString).pathExtension.lowercased()
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) || ext == "npz" { return .npz }
        if ext == "npy" { return .npy }
        if ext == "h5" || ext == "hdf5" { return .hdf5 }
        if ext == "csv" { return .csv }
        if ext == "tsv" { return .tsv }
        guard !head.isEmpty else { throw DataError(file: path, "the file is empty") }
        let text = String(decoding: head, as: UTF8.self)
        guard let firstLine = text.split(whereSeparator: \.isNewline).first(where: {
            !$0.allSatisfy(\.isWhitespace)
        }) else { throw DataError(file: path, "the file is empty") }
        let lower = firstLine.lowercased()
        if lower.contains("label") && lower.contains("score") {
            return firstLine.contains("\t") ? .tsv : .csv
        }
        let fields = firstLine.split(whereSeparator: \.isWhitespace).count
        if fields == 4 { return .bob4 }
        if fields == 5 { return .bob5 }
        throw DataError(
            file: path, location: "line 1",
            "cannot tell the format: expected a header naming label and score (CSV/TSV), 4/5 whitespace-separated columns (bob), or an HDF5 or NumPy file; name the format explicitly")
    }
}

/// A streaming parser for the text layouts: reads 4 MiB blocks, splits lines in place.
struct TextScoreParser {
    let path: String
    let format: ScoreFileFormat
    var genuine: [Double] = []
    var impostor: [Double] = []
    var genuineLeft: [Int32] = [], genuineRight: [Int32] = []
    var impostorLeft: [Int32] = [], impostorRight: [Int32] = []
    var identityIndex: [String: Int32] = [:]
    var hasIdentities = false
    var lineNumber = 0
    var header: (label: Int, score: Int, left: Int?, right: Int?, count: Int)?
    var fieldBuffer = [UInt8](repeating: 0, count: 512)

    init(path: String, format: ScoreFileFormat) {
        self.path = path
        self.format = format
        hasIdentities = format == .bob4 || format == .bob5
    }

    mutating func parseFile() throws(DataError) {
        try requireReadableFile(path)
        guard let file = fopen(path, "rb") else { throw DataError(file: path, "cannot be read") }
        defer { fclose(file) }
        let blockSize = 4 << 20
        var buffer = [UInt8](repeating: 0, count: blockSize)
        var carry = [UInt8]()
        var sawAnything = false
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, blockSize, file) }
            if n == 0 {
                if ferror(file) != 0 { throw DataError(file: path, "read error") }
                break
            }
            sawAnything = true
            var start = 0
            var lineStart = 0
            // Complete lines of this block; the partial last line is carried over.
            while let newline = Self.index(of: 0x0A, in: buffer, from: start, to: n) {
                if carry.isEmpty {
                    try buffer.withUnsafeBufferPointer { b throws(DataError) in
                        try parseLine(UnsafeBufferPointer(rebasing: b[lineStart..<newline]))
                    }
                } else {
                    carry.append(contentsOf: buffer[lineStart..<newline])
                    let line = carry
                    carry.removeAll(keepingCapacity: true)
                    try line.withUnsafeBufferPointer { b throws(DataError) in try parseLine(b) }
                }
                start = newline + 1
                lineStart = start
            }
            carry.append(contentsOf: buffer[lineStart..<n])
            if carry.count > 1 << 20 {
                throw DataError(file: path, location: "line \(lineNumber + 1)", "line longer than 1 MiB")
            }
        }
        if !carry.isEmpty {
            let line = carry
            try line.withUnsafeBufferPointer { b throws(DataError) in try parseLine(b) }
        }
        if !sawAnything { throw DataError(file: path, "the file is empty") }
        if header == nil && (format == .csv || format == .tsv) {
            throw DataError(file: path, "the file is empty: no header line")
        }
    }

    static func index(of byte: UInt8, in buffer: [UInt8], from: Int, to: Int) -> Int? {
        buffer.withUnsafeBufferPointer { b in
            guard from < to else { return nil }
            guard let base = b.baseAddress,
                let p = memchr(base + from, Int32(byte), to - from)
            else { return nil }
            return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
    }

    mutating func parseLine(_ raw: UnsafeBufferPointer<UInt8>) throws(DataError) {
        lineNumber += 1
        var end = raw.count
        if end > 0 && raw[end - 1] == 0x0D { end -= 1 }  // CRLF
        let line = UnsafeBufferPointer(rebasing: raw[0..<end])
        // Blank lines and, in bob files, '#' comments are skipped.
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        var fields: [Range<Int>] = []
        switch format {
        case .csv, .tsv:
            let separator: UInt8 = format == .csv ? 0x2C : 0x09
            var s = 0
            for j in 0...line.count where j == line.count || line[j] == separator {
                fields.append(Self.trimmed(line, s..<j))
                s = j + 1
            }
            if header == nil {
                if lineNumber == 1, line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
                    fields[0] = (fields[0].lowerBound + 3)..<fields[0].upperBound  // UTF-8 BOM
                }
                try parseHeader(line, fields)
                return
            }
        default:
            if line.first == 0x23 { return }
            var s: Int? = nil
            for j in 0...line.count {
                let space = j == line.count || line[j] == 0x20 || line[j] == 0x09
                if space, let st = s { fields.append(st..<j); s = nil } else if !space && s == nil { s = j }
            }
        }
        try parseRow(line, fields)
    }

    static func trimmed(_ line: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Range<Int> {
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi && (line[lo] == 0x20 || line[lo] == 0x22) { lo += 1 }
        while hi > lo && (line[hi - 1] == 0x20 || line[hi - 1] == 0x22) { hi -= 1 }
        return lo..<hi
    }

    mutating func parseHeader(_ line: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>]) throws(DataError) {
        let names = fields.map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self).lowercased() }
        guard let label = names.firstIndex(of: "label"), let score = names.firstIndex(of: "score") else {
            let found = names.joined(separator: ",")
            throw DataError(
                file: path, location: "line \(lineNumber)",
                "the header must name the columns label and score, found '\(found)'")
        }
        let left = names.firstIndex(of: "left_id"), right = names.firstIndex(of: "right_id")
        if (left == nil) != (right == nil) {
            throw DataError(file: path, location: "line \(lineNumber)", "left_id and right_id must be given together")
        }
        hasIdentities = left != nil
        header = (label, score, left, right, names.count)
    }

    mutating func parseRow(_ line: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>]) throws(DataError) {
        let isGenuine: Bool
        let score: Double
        var left: Int32 = 0, right: Int32 = 0
        switch format {
        case .csv, .tsv:
            let h = header!
            guard fields.count == h.count else {
                throw DataError(
                    file: path, location: "line \(lineNumber)",
                    "expected \(h.count) columns like the header, found \(fields.count)")
            }
            isGenuine = try parseLabel(line, fields[h.label])
            score = try parseScore(line, fields[h.score])
            if let l = h.left, let r = h.right {
                left = try identity(line, fields[l])
                right = try identity(line, fields[r])
            }
        case .bob4, .bob5:
            let expected = format == .bob4 ? 4 : 5
            guard fields.count == expected else {
                throw DataError(
                    file: path, location: "line \(lineNumber)",
                    "expected \(expected) whitespace-separated columns (bob \(expected)-column format), found \(fields.count)")
            }
            let claimed = fields[0], real = fields[format == .bob4 ? 1 : 2]
            isGenuine = Self.equal(line, claimed, real)
            score = try parseScore(line, fields[expected - 1])
            left = try identity(line, claimed)
            right = try identity(line, real)
        default:
            return
        }
        if isGenuine {
            genuine.append(score)
            if hasIdentities { genuineLeft.append(left); genuineRight.append(right) }
        } else {
            impostor.append(score)
            if hasIdentities { impostorLeft.append(left); impostorRight.append(right) }
        }
    }

    static func equal(_ line: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for k in 0..<a.count where line[a.lowerBound + k] != line[b.lowerBound + k] { return false }
        return true
    }

    func text(_ line: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: line[r]), as: UTF8.self)
    }

    func parseLabel(_ line: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(DataError) -> Bool {
        if r.count == 1 {
            if line[r.lowerBound] == 0x31 { return true }
            if line[r.lowerBound] == 0x30 { return false }
        }
        switch text(line, r).lowercased() {
        case "1", "genuine", "true": return true
        case "0", "impostor", "false": return false
        default:
            throw DataError(
                file: path, location: "line \(lineNumber)",
                "unknown label '\(text(line, r))': expected 1/0, genuine/impostor or true/false")
        }
    }

    mutating func parseScore(_ line: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(DataError) -> Double {
        let n = r.count
        guard n > 0, n < fieldBuffer.count else {
            throw DataError(
                file: path, location: "line \(lineNumber)",
                n == 0 ? "the score is empty" : "score '\(text(line, r).prefix(40))...' is not a number")
        }
        // Only decimal numbers, inf/infinity and nan are accepted (strtod also takes hex floats).
        var ok = true
        for k in r {
            let c = line[k]
            let allowed = (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2B || c == 0x2D || c == 0x65 || c == 0x45
                || c == 0x69 || c == 0x49 || c == 0x6E || c == 0x4E || c == 0x66 || c == 0x46 || c == 0x61 || c == 0x41
                || c == 0x74 || c == 0x54 || c == 0x79 || c == 0x59
            if !allowed { ok = false; break }
        }
        var value = 0.0
        var consumed = 0
        if ok {
            fieldBuffer.withUnsafeMutableBufferPointer { fb in
                for k in 0..<n { fb[k] = line[r.lowerBound + k] }
                fb[n] = 0
                fb.withMemoryRebound(to: CChar.self) { cb in
                    var endPointer: UnsafeMutablePointer<CChar>? = nil
                    value = strtod(cb.baseAddress!, &endPointer)
                    consumed = endPointer.map { cb.baseAddress!.distance(to: $0) } ?? 0
                }
            }
        }
        guard ok, consumed == n else {
            throw DataError(file: path, location: "line \(lineNumber)", "score '\(text(line, r))' is not a number")
        }
        return value
    }

    mutating func identity(_ line: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws(DataError) -> Int32 {
        let name = text(line, r)
        if let id = identityIndex[name] { return id }
        guard identityIndex.count < Int32.max else {
            throw DataError(file: path, location: "line \(lineNumber)", "too many distinct identities")
        }
        let id = Int32(identityIndex.count)
        identityIndex[name] = id
        return id
    }

    func scoreSet(polarity: Polarity) throws(DataError) -> AnyScoreSet {
        if genuine.isEmpty { throw DataError(file: path, "no genuine scores (every row is an impostor comparison)") }
        if impostor.isEmpty { throw DataError(file: path, "no impostor scores (every row is a genuine comparison)") }
        do {
            return .double(
                try ScoreSet(
                    genuine: genuine, impostor: impostor, polarity: polarity,
                    genuineIdentities: hasIdentities ? ComparisonIdentities(left: genuineLeft, right: genuineRight) : nil,
                    impostorIdentities: hasIdentities
                        ? ComparisonIdentities(left: impostorLeft, right: impostorRight) : nil))
        } catch {
            throw DataError(file: path, error.description)
        }
    }
}

/// Throws the one-line error for a path that is missing or a folder rather than a file.
func requireReadableFile(_ path: String) throws(DataError) {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw DataError(file: path, "no such file") }
    if isFolder.boolValue { throw DataError(file: path, "is a folder, not a file") }
}
