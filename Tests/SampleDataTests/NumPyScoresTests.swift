import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing
@testable import SampleData

/// NumPy score files written by numpy itself (`Tests/Fixtures/numpy/make.py`): six comparisons,
/// scores 0.9 0.1 0.75 -0.5 0.3 0.6, genuine at 0, 2 and 5, identities ann/bob/cy.
let numpyFixtures = URL(fileURLWithPath: fixturesDirectory).deletingLastPathComponent()
    .appendingPathComponent("Tests/Fixtures/numpy").path

@Suite("NumPy score files (.npy, .npz)")
struct NumPyScoresTests {
    @Test("numpy.savez_compressed with string identities: deflated members, names kept")
    func compressedNPZ() throws {
        let path = numpyFixtures + "/compressed.npz"
        #expect(try ScoreFiles.sniff(path: path) == .npz)
        let named = try ScoreFiles.readNamed(path: path)
        guard case .double(let set) = named.scores else { Issue.record("expected float64 scores"); return }
        #expect(set.genuine == [0.9, 0.75, 0.6])
        #expect(set.impostor == [0.1, -0.5, 0.3])
        #expect(named.identityNames == ["ann", "bob", "cy"])
        #expect(set.genuineIdentities == ComparisonIdentities(left: [0, 1, 2], right: [0, 1, 2]))
        #expect(set.impostorIdentities == ComparisonIdentities(left: [0, 1, 2], right: [1, 2, 0]))
    }

    @Test("a structured .npy: float32 scores, uint8 labels, int64 identities kept as numbers")
    func structuredNPY() throws {
        let path = numpyFixtures + "/structured.npy"
        #expect(try ScoreFiles.sniff(path: path) == .npy)
        let named = try ScoreFiles.readNamed(path: path)
        guard case .float(let set) = named.scores else { Issue.record("expected float32 scores"); return }
        #expect(set.genuine == [0.9, 0.75, 0.6].map { Float($0) })
        #expect(set.impostor == [0.1, -0.5, 0.3].map { Float($0) })
        #expect(named.identityNames == nil)
        #expect(set.impostorIdentities == ComparisonIdentities(left: [0, 1, 2], right: [1, 2, 0]))
    }

    @Test("two big-endian arrays saved one after the other (float64 scores, int16 labels)")
    func twoArrays() throws {
        let set = try ScoreFiles.read(path: numpyFixtures + "/two-arrays-big-endian.npy")
        guard case .double(let s) = set else { Issue.record("expected float64 scores"); return }
        #expect(s.genuine == [0.9, 0.75, 0.6] && s.impostor == [0.1, -0.5, 0.3])
        #expect(!set.hasIdentities)
    }

    @Test("an .npz written here reads back bit for bit, with special values and identities", arguments: [false, true])
    func roundTrip(zip64: Bool) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.npz")
        let scores: [Float] = [0.9, -1, .nan, 0.25, .infinity, 3, -.infinity, -0.0]
        let labels: [UInt8] = [1, 0, 1, 0, 0, 1, 0, 1]
        let left: [Int32] = [1, 1, 2, 2, 3, 3, 4, 7], right: [Int32] = [1, 2, 2, 3, 4, 3, 5, 7]
        let writer = try ScoresNumPy.StreamWriter(path: path, count: 8, identities: true, forceZip64: zip64)
        try writer.append(scores: Array(scores[0..<3]), labels: Array(labels[0..<3]), left: Array(left[0..<3]), right: Array(right[0..<3]))
        try writer.append(scores: Array(scores[3...]), labels: Array(labels[3...]), left: Array(left[3...]), right: Array(right[3...]))
        try writer.close()
        #expect(try ScoreFiles.sniff(path: path) == .npz)
        guard case .float(let set) = try ScoreFiles.read(path: path) else { Issue.record("expected float32"); return }
        #expect(set.genuine.map(\.bitPattern) == [0.9, Float.nan, 3, -0.0].map(\.bitPattern))
        #expect(set.impostor == [-1, 0.25, .infinity, -.infinity])
        #expect(set.genuineIdentities == ComparisonIdentities(left: [1, 2, 3, 7], right: [1, 2, 3, 7]))
        #expect(set.impostorIdentities == ComparisonIdentities(left: [1, 2, 3, 4], right: [2, 3, 4, 5]))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files == ["s.npz"], "no temporary file left: \(files)")
    }

    @Test("equal scores give equal .npz bytes")
    func deterministic() throws {
        let dir = TemporaryDirectory()
        for name in ["a.npz", "b.npz"] {
            try ScoresNumPy.write(path: dir.file(name), scores: [0.5, 0.25], labels: [1, 0])
        }
        #expect(FileManager.default.contents(atPath: dir.file("a.npz")) == FileManager.default.contents(atPath: dir.file("b.npz")))
    }

    @Test(".npy headers parse NumPy's spellings", arguments: [
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", "<f8", [3]),
        ("{\"descr\": \"|u1\", \"fortran_order\": True, \"shape\": (2, 4)}", "|u1", [2, 4]),
        ("{'descr': '<U7', 'fortran_order': False, 'shape': (), }", "<U7", []),
        ("{'shape': (5L,), 'descr': '>i2', 'fortran_order': False}", ">i2", [5]),
    ])
    func header(text: String, type: String, shape: [Int]) throws {
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0] + Array(text.utf8)
        let t = try #require(NumPyType(type))
        bytes += [UInt8](repeating: 0, count: t.size * shape.reduce(1, *))
        let arrays = try bytes.withUnsafeBytes { try NumPyArray.parseAll($0, file: "x.npy") }
        #expect(arrays.count == 1 && arrays[0].type == t && arrays[0].shape == shape)
    }

    /// A bad file and the one-line error reading it must give.
    struct BadFile: CustomTestStringConvertible, Sendable {
        var id: String
        var name: String
        var bytes: @Sendable () -> [UInt8]
        var message: String
        var testDescription: String { id }
    }

    static func npy(_ descr: String, _ shape: String, _ payload: [UInt8]) -> [UInt8] {
        let text = "{'descr': \(descr), 'fortran_order': False, 'shape': \(shape), }"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0] + Array(text.utf8) + payload
    }

    static func fixture(_ name: String) -> [UInt8] { Array(FileManager.default.contents(atPath: numpyFixtures + "/" + name) ?? Data()) }

    static let badFiles: [BadFile] = [
        BadFile(id: "a pickled object array", name: "o.npy", bytes: { fixture("object.npy") },
                message: "o.npy: an object array (pickled Python objects) is refused, never unpickled"),
        BadFile(id: "pickled identities in an .npz", name: "o.npz", bytes: { fixture("object-ids.npz") },
                message: "o.npz: left_id.npy: an object array (pickled Python objects) is refused"),
        BadFile(id: "integer scores", name: "i.npy", bytes: { npy("'<i4'", "(2,)", [UInt8](repeating: 0, count: 8)) + npy("'|u1'", "(2,)", [1, 0]) },
                message: "i.npy: array 1 (scores): scores are int32; expected float32 or float64"),
        BadFile(id: "float labels", name: "l.npy", bytes: { npy("'<f4'", "(1,)", [0, 0, 0, 0]) + npy("'<f8'", "(1,)", [UInt8](repeating: 0, count: 8)) },
                message: "l.npy: array 2 (labels): labels are float64; expected bool or integer 0/1 labels"),
        BadFile(id: "a label that is not 0 or 1", name: "two.npy", bytes: { npy("'<f4'", "(2,)", [UInt8](repeating: 0, count: 8)) + npy("'|u1'", "(2,)", [1, 2]) },
                message: "two.npy: array 2 (labels): label 2 at index 1 is not 0 or 1"),
        BadFile(id: "a 2-d array", name: "m.npy", bytes: { npy("'<f4'", "(2, 2)", [UInt8](repeating: 0, count: 16)) + npy("'|u1'", "(2,)", [1, 0]) },
                message: "m.npy: array 1 (scores): has shape (2, 2); expected a 1-d array"),
        BadFile(id: "one plain array", name: "p.npy", bytes: { npy("'<f4'", "(2,)", [UInt8](repeating: 0, count: 8)) },
                message: "p.npy: one plain float32 array of shape (2,): expected a structured array"),
        BadFile(id: "three arrays", name: "3.npy", bytes: { (0..<3).flatMap { _ in npy("'|u1'", "(1,)", [1]) } },
                message: "3.npy: holds 3 arrays; expected scores and labels (2)"),
        BadFile(id: "unequal lengths", name: "u.npy", bytes: { npy("'<f4'", "(2,)", [UInt8](repeating: 0, count: 8)) + npy("'|u1'", "(3,)", [1, 0, 0]) },
                message: "u.npy: array 2 (labels): has 3 elements, the scores have 2"),
        BadFile(id: "a truncated .npy", name: "t.npy", bytes: { npy("'<f8'", "(4,)", [UInt8](repeating: 0, count: 20)) },
                message: "t.npy: truncated: the header announces 32 bytes of elements (shape (4,)), the file has 20"),
        BadFile(id: "a structured array without labels", name: "s.npy", bytes: { npy("[('score', '<f4'), ('x', '|u1')]", "(1,)", [0, 0, 0, 0, 1]) },
                message: "s.npy: the structured array has no field 'label' (fields: score, x)"),
        BadFile(id: "an .npz without labels", name: "n.npz", bytes: {
                    let dir = TemporaryDirectory()
                    try? ScoresNumPy.write(path: dir.file("w.npz"), scores: [1, 0], labels: [1, 0])
                    var bytes = Array(FileManager.default.contents(atPath: dir.file("w.npz")) ?? Data())
                    // Rename the member labels.npy to labelz.npy in both headers.
                    for k in 0..<(bytes.count - 10) where Array(bytes[k..<(k + 10)]) == Array("labels.npy".utf8) { bytes[k + 5] = 0x7A }
                    return bytes
                }, message: "n.npz: missing array 'labels' (an .npz score file holds scores and labels, optionally left_id and right_id); found: scores, labelz"),
        BadFile(id: "a truncated .npz", name: "c.npz", bytes: { Array(fixture("compressed.npz").prefix(400)) },
                message: "c.npz: not a ZIP archive (.npz), or truncated: no end of central directory"),
        BadFile(id: "a damaged deflate member", name: "d.npz", bytes: {
                    var b = fixture("compressed.npz")
                    b[70] ^= 0xFF
                    return b
                }, message: "d.npz: scores.npy: "),
    ]

    @Test("bad NumPy files give one line naming the file and the problem", arguments: badFiles)
    func badInput(_ bad: BadFile) throws {
        let dir = TemporaryDirectory()
        let path = dir.file(bad.name)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bad.bytes())))
        let error = dataError { _ = try ScoreFiles.read(path: path) }
        let message = try #require(error?.description, "expected a DataError")
        #expect(message.hasPrefix(dir.path + "/" + bad.message), "\(message)")
        #expect(!message.contains("\n"))
        #expect(error?.exitStatus == .dataError)
    }
}
