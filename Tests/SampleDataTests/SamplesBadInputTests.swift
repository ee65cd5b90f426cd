import Foundation
import Testing
import ScoreMetrics
@testable import SampleData

@Suite("samples files: bad input")
struct SamplesBadInputTests {
    static func header(_ w: HDF5Writer) throws { try writeFormatHeader(w, "alaverify-samples") }

    /// A valid 4-sample image file, with `mutate` applied before closing.
    static func base(_ w: HDF5Writer, images: Bool = true, identity: [Int32] = [0, 0, 1, 1], names: [String] = ["a", "b"]) throws {
        try header(w)
        if images { try w.write("/samples/images", [UInt8](repeating: 1, count: 4 * 2 * 3), shape: [4, 2, 3]) }
        try w.write("/samples/identity", identity)
        try w.writeStrings("/identities/name", names)
    }

    static let cases: [BadFileCase] = [
        BadFileCase(id: "wrong format", location: nil, message: "root attribute 'format' is 'alaverify-scores', expected 'alaverify-samples'") { w in
            try w.setAttribute("format", "alaverify-scores"); try w.setAttribute("format_version", Int64(1))
        },
        BadFileCase(id: "no samples at all", location: "dataset /samples/images",
                message: "missing dataset (expected /samples/images, /samples/features or /pairs/images)") { w in try header(w) },
        BadFileCase(id: "float images", location: "dataset /samples/images", message: "expected uint8, found float32") { w in
            try header(w); try w.write("/samples/images", [Float](repeating: 0, count: 8), shape: [2, 2, 2])
        },
        BadFileCase(id: "rank 2 images", location: "dataset /samples/images", message: "expected rank 3 or 4, found rank 2 with shape [2, 4]") { w in
            try header(w); try w.write("/samples/images", [UInt8](repeating: 0, count: 8), shape: [2, 4])
        },
        BadFileCase(id: "float64 features", location: "dataset /samples/features", message: "expected float32, found float64") { w in
            try header(w); try w.write("/samples/features", [Double](repeating: 0, count: 8), shape: [4, 2])
        },
        BadFileCase(id: "zero samples", location: "dataset /samples/images", message: "has zero samples") { w in
            try header(w); try w.write("/samples/images", [UInt8](), shape: [0, 2, 2])
        },
        BadFileCase(id: "missing identity", location: "dataset /samples/identity", message: "missing dataset") { w in
            try header(w); try w.write("/samples/images", [UInt8](repeating: 0, count: 8), shape: [2, 2, 2])
        },
        BadFileCase(id: "N differs", location: "dataset /samples/identity", message: "has 3 entries but /samples/images has 4 samples") { w in
            try base(w, identity: [0, 0, 1])
        },
        BadFileCase(id: "identity out of range", location: "dataset /samples/identity",
                message: "identity 2 of sample 3 is outside 0..<2 (the entries of /identities/name)") { w in
            try base(w, identity: [0, 0, 1, 2])
        },
        BadFileCase(id: "negative identity", location: "dataset /samples/identity",
                message: "identity -1 of sample 0 is outside 0..<2 (the entries of /identities/name)") { w in
            try base(w, identity: [-1, 0, 1, 1])
        },
        BadFileCase(id: "int64 identity", location: "dataset /samples/identity", message: "expected int32, found int64") { w in
            try header(w); try w.write("/samples/images", [UInt8](repeating: 1, count: 24), shape: [4, 2, 3])
            try w.write("/samples/identity", [Int64](repeating: 0, count: 4)); try w.writeStrings("/identities/name", ["a"])
        },
        BadFileCase(id: "attribute N differs", location: "dataset /samples/attributes/face",
                message: "has shape [5] but there are 4 samples") { w in
            try base(w); try w.write("/samples/attributes/face", [Int32](repeating: 0, count: 5))
        },
        BadFileCase(id: "pair index out of range", location: "dataset /pairs/index",
                message: "sample index 4 of pair 1 is outside 0..<4") { w in
            try base(w); try w.write("/pairs/index", [Int64(0), 1, 2, 4], shape: [2, 2]); try w.write("/pairs/label", [UInt8(1), 0])
        },
        BadFileCase(id: "pair label 3", location: "dataset /pairs/label", message: "label 3 at index 0 is not 0 or 1") { w in
            try base(w); try w.write("/pairs/index", [Int64(0), 1], shape: [1, 2]); try w.write("/pairs/label", [UInt8(3)])
        },
        BadFileCase(id: "pair count differs", location: "dataset /pairs/label", message: "has 2 labels but there are 1 pairs") { w in
            try base(w); try w.write("/pairs/index", [Int64(0), 1], shape: [1, 2]); try w.write("/pairs/label", [UInt8(1), 0])
        },
        BadFileCase(id: "pair index [P,3]", location: "dataset /pairs/index", message: "expected shape [P, 2], found [1, 3]") { w in
            try base(w); try w.write("/pairs/index", [Int64(0), 1, 2], shape: [1, 3]); try w.write("/pairs/label", [UInt8(1)])
        },
        BadFileCase(id: "pair-major [P,3,H,W]", location: "dataset /pairs/images", message: "expected shape [P, 2, H, W(, C)], found [1, 3, 2, 2]") { w in
            try header(w); try w.write("/pairs/images", [UInt8](repeating: 0, count: 12), shape: [1, 3, 2, 2])
        },
    ]

    @Test("each bad file gives one DataError naming the file and the dataset", arguments: cases)
    func bad(_ bad: BadFileCase) throws {
        let dir = TemporaryDirectory()
        let path = try makeHDF5File(dir, "bad.h5", bad.build)
        #expect(dataError { _ = try SamplesFile(path: path) } == DataError(file: path, location: bad.location, bad.message))
    }

    @Test("pair-major files read as pairs of rows")
    func pairMajor() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("pm.h5")
        let writer = try HDF5Writer(path: path)
        try Self.header(writer)
        let pixels = (0..<(3 * 2 * 4)).map { UInt8($0) }
        try writer.write("/pairs/images", pixels, shape: [3, 2, 2, 2])
        try writer.write("/pairs/label", [UInt8(1), 0, 1])
        try writer.close()
        let file = try SamplesFile(path: path)
        #expect(file.layout == .pairMajor && file.count == 3)
        #expect(file.explicitPairs?.genuine == [true, false, true])
        #expect(try file.readImages(1..<2) == Array(pixels[8..<16]))
        let report = try inspectReport(path: path)
        #expect(report.description.contains("explicit pairs: 2 genuine, 1 impostor"))
    }

    @Test("a shape that would overflow or exceed memory is refused before allocating")
    func hugeShape() throws {
        let site = HDF5Site(file: "f.h5", object: "/samples/images")
        #expect(throws: DataError.self) { try ShapeMath.checkAllocation([Int.max / 2, 4], elementSize: 1, site) }
        let tooBig = dataError { _ = try ShapeMath.checkAllocation([1 << 40, 1024], elementSize: 1, site) }
        #expect(tooBig?.message.contains("more than the") == true)
        #expect(tooBig?.location == "dataset /samples/images")
    }

    @Test("damaged global heap is reported, not looped on")
    func globalHeap() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("names.h5")
        let writer = try HDF5Writer(path: path)
        try writer.writeStrings("/identities/name", ["alpha", "beta", "gamma"])
        try writer.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let signature = Data("GCOL".utf8)
        guard let range = bytes.range(of: signature) else { Issue.record("no global heap"); return }
        // Zero every object header after the collection header: an object of size 0.
        let start = range.lowerBound
        for i in (start + 16)..<min(bytes.count, start + 16 + 64) { bytes[i] = 0 }
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = dataError { _ = try HDF5File(path: path).dataset("/identities/name").readStrings() }
        #expect(error?.message.hasPrefix("damaged global heap at byte \(start)") == true, "\(String(describing: error))")
    }
}

@Suite("samples files: corruption never crashes, hangs or misreads")
struct CorruptionTests {
    /// Everything a reader takes from the file.
    struct Snapshot: Equatable {
        var identities: [Int32]
        var names: [String]
        var images: Data
        var chars: AttributeColumn?
    }

    static func snapshot(_ path: String) throws(DataError) -> Snapshot {
        let file = try SamplesFile(path: path)
        let images = try file.readImages(0..<file.count)
        return Snapshot(identities: file.identities, names: file.identityNames,
                        images: images.withUnsafeBytes { Data($0) }, chars: try file.sampleAttribute("char"))
    }

    @Test("truncated copies of the fixture are clean errors")
    func truncated() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fontsMini))
        let dir = TemporaryDirectory()
        for length in [0, 7, 8, 48, 512, 4096, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            let path = dir.file("cut-\(length).h5")
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            let result = attempt { () throws(DataError) in try Self.snapshot(path) }
            guard case .failure(let error) = result else { Issue.record("length \(length) read without error"); continue }
            #expect(error.file == path)
        }
    }

    @Test("flipped bytes at many offsets: a DataError, or exactly the original data")
    func flipped() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fontsMini))
        let original = try Self.snapshot(fontsMini)
        let dir = TemporaryDirectory()
        var offsets = Array(stride(from: 0, to: min(bytes.count, 8192), by: 53))
        offsets += stride(from: 8192, to: bytes.count, by: bytes.count / 97)
        offsets.append(bytes.count - 1)
        var errors = 0
        for offset in offsets {
            var copy = bytes
            copy[offset] ^= 0xA5
            let path = dir.file("flip.h5")
            try copy.write(to: URL(fileURLWithPath: path))
            switch attempt({ () throws(DataError) in try Self.snapshot(path) }) {
            case .success(let snapshot):
                #expect(snapshot == original, "offset \(offset) changed the data silently")
            case .failure(let error):
                #expect(error.file == path)
                errors += 1
            }
        }
        #expect(errors > offsets.count / 2, "only \(errors) of \(offsets.count) flips were detected")
    }
}
