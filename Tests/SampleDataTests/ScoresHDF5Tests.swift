import AlaverifyBase
import Foundation
import Testing
import ScoreMetrics
@testable import SampleData

@Suite("alaverify-scores v1 files")
struct ScoresHDF5Tests {
    @Test("float32 round trip keeps class order and identities")
    func roundTripFloat() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.h5")
        let scores: [Float] = [0.9, -1, .nan, 0.25, .infinity, 3, -.infinity, 0.5]
        let labels: [UInt8] = [1, 0, 1, 0, 0, 1, 0, 0]
        let left: [Int32] = [1, 1, 2, 2, 3, 3, 4, 4]
        let right: [Int32] = [1, 2, 2, 3, 4, 3, 5, 6]
        try ScoresHDF5.write(path: path, scores: scores, labels: labels, leftIdentity: left, rightIdentity: right)
        #expect(ScoresHDF5.isHDF5(path: path))
        guard case .float(let set) = try ScoresHDF5.read(path: path) else {
            Issue.record("expected float32 scores"); return
        }
        #expect(set.genuine.count == 3)
        #expect(set.genuine[0] == 0.9 && set.genuine[1].isNaN && set.genuine[2] == 3)
        #expect(set.impostor == [-1, 0.25, .infinity, -.infinity, 0.5])
        #expect(set.genuineIdentities == ComparisonIdentities(left: [1, 2, 3], right: [1, 2, 3]))
        #expect(set.impostorIdentities == ComparisonIdentities(left: [1, 2, 3, 4, 4], right: [2, 3, 4, 5, 6]))
        #expect(set.polarity == .similarity)
    }

    @Test("float64 round trip without identities, distance polarity")
    func roundTripDouble() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("d.h5")
        let scores: [Double] = [1e-300, 2, -0.0, 5e300]
        try ScoresHDF5.write(path: path, scores: scores, labels: [0, 1, 1, 0])
        guard case .double(let set) = try ScoresHDF5.read(path: path, polarity: .distance) else {
            Issue.record("expected float64 scores"); return
        }
        #expect(set.genuine == [2, -0.0])
        #expect(set.genuine[1].sign == .minus)
        #expect(set.impostor == [1e-300, 5e300])
        #expect(set.genuineIdentities == nil && set.impostorIdentities == nil)
        #expect(set.polarity == .distance)
    }

    @Test("a large float32 file reads back exactly")
    func large() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("big.h5")
        let m = 1_000_003
        var rng = SeededGenerator(seed: 11)
        let scores = (0..<m).map { _ in Float(rng.unit()) }
        let labels = (0..<m).map { j in UInt8(j % 97 == 0 ? 1 : 0) }
        try ScoresHDF5.write(path: path, scores: scores, labels: labels)
        let read = try ScoresHDF5.read(path: path)
        guard case .float(let set) = read else { Issue.record("expected float32"); return }
        let expectedGenuine = stride(from: 0, to: m, by: 97).map { scores[$0] }
        #expect(set.genuine == expectedGenuine)
        #expect(set.impostorCount == m - expectedGenuine.count)
        #expect(set.impostor.first == scores[1] && set.impostor.last == scores[m - 1])
    }

    @Test("the signature sniff")
    func sniff() throws {
        let dir = TemporaryDirectory()
        let text = dir.file("a.csv")
        try "label,score\n1,0.5\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(!ScoresHDF5.isHDF5(path: text))
        #expect(!ScoresHDF5.isHDF5(path: dir.file("missing.h5")))
        let h5 = dir.file("s.h5")
        try ScoresHDF5.write(path: h5, scores: [Float(1), 0], labels: [1, 0])
        #expect(ScoresHDF5.isHDF5(path: h5))
    }

    @Test("writer leaves no temporary file and replaces atomically")
    func noTemporaryLeft() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.h5")
        try ScoresHDF5.write(path: path, scores: [Float(1), 0], labels: [1, 0])
        try ScoresHDF5.write(path: path, scores: [Double(2), 1, 0], labels: [1, 0, 0])
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names == ["s.h5"])
        #expect(try ScoresHDF5.read(path: path).impostorCount == 2)
    }

    @Test("writer rejects bad arguments without creating the file")
    func writerRejects() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.h5")
        let e1 = dataError { try ScoresHDF5.write(path: path, scores: [Float(1)], labels: [1, 0]) }
        #expect(e1?.message == "2 labels for 1 scores")
        let e2 = dataError { try ScoresHDF5.write(path: path, scores: [Float(1), 2], labels: [1, 2]) }
        #expect(e2?.message == "label 2 at index 1 is not 0 or 1")
        let e3 = dataError { try ScoresHDF5.write(path: path, scores: [Float(1), 2], labels: [1, 0], leftIdentity: [1, 2]) }
        #expect(e3 != nil)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    static func header(_ w: HDF5Writer) throws { try writeFormatHeader(w, "alaverify-scores") }

    static let badCases: [BadFileCase] = [
        BadFileCase(id: "missing score", location: "dataset /scores/score", message: "missing dataset") { w in
            try header(w); try w.write("/scores/label", [UInt8(1), 0])
        },
        BadFileCase(id: "missing label", location: "dataset /scores/label", message: "missing dataset") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0])
        },
        BadFileCase(id: "int scores", location: "dataset /scores/score", message: "expected float32 or float64, found int32") { w in
            try header(w); try w.write("/scores/score", [Int32(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
        },
        BadFileCase(id: "string scores", location: "dataset /scores/score", message: "expected float32 or float64, found string") { w in
            try header(w); try w.writeStrings("/scores/score", ["1", "0"]); try w.write("/scores/label", [UInt8(1), 0])
        },
        BadFileCase(id: "int32 labels", location: "dataset /scores/label", message: "expected uint8, found int32") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [Int32(1), 0])
        },
        BadFileCase(id: "rank 2 scores", location: "dataset /scores/score", message: "expected rank 1, found rank 2 with shape [1, 2]") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0], shape: [1, 2]); try w.write("/scores/label", [UInt8(1), 0])
        },
        BadFileCase(id: "lengths differ", location: "dataset /scores/label", message: "has 3 labels but /scores/score has 2 scores") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0, 0])
        },
        BadFileCase(id: "label 2", location: "dataset /scores/label", message: "label 2 at index 2 is not 0 or 1") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0, 3]); try w.write("/scores/label", [UInt8(1), 0, 2])
        },
        BadFileCase(id: "no genuine", location: "dataset /scores/label", message: "no genuine scores (no label is 1)") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(0), 0])
        },
        BadFileCase(id: "no impostor", location: "dataset /scores/label", message: "no impostor scores (no label is 0)") { w in
            try header(w); try w.write("/scores/score", [Double(1), 0]); try w.write("/scores/label", [UInt8(1), 1])
        },
        BadFileCase(id: "empty", location: "dataset /scores/label", message: "no genuine scores (no label is 1)") { w in
            try header(w); try w.write("/scores/score", [Float]()); try w.write("/scores/label", [UInt8]())
        },
        BadFileCase(id: "wrong format", location: nil, message: "root attribute 'format' is 'alaverify-samples', expected 'alaverify-scores'") { w in
            try w.setAttribute("format", "alaverify-samples"); try w.setAttribute("format_version", Int64(1))
            try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
        },
        BadFileCase(id: "missing format", location: nil, message: "missing root attribute 'format' (expected 'alaverify-scores')") { w in
            try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
        },
        BadFileCase(id: "integer format", location: nil, message: "attribute 'format' should be a string, found int64") { w in
            try w.setAttribute("format", Int64(3))
        },
        BadFileCase(id: "version 2", location: nil, message: "format_version 2 is not supported (expected 1)") { w in
            try w.setAttribute("format", "alaverify-scores"); try w.setAttribute("format_version", Int64(2))
        },
        BadFileCase(id: "only left identity", location: "dataset /scores/right_identity", message: "missing dataset (identity columns come in pairs)") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
            try w.write("/scores/left_identity", [Int32(1), 2])
        },
        BadFileCase(id: "short identity", location: "dataset /scores/right_identity", message: "has 1 entries but /scores/score has 2 scores") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
            try w.write("/scores/left_identity", [Int32(1), 2]); try w.write("/scores/right_identity", [Int32(1)])
        },
        BadFileCase(id: "int64 identity", location: "dataset /scores/left_identity", message: "expected int32, found int64") { w in
            try header(w); try w.write("/scores/score", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
            try w.write("/scores/left_identity", [Int64(1), 2]); try w.write("/scores/right_identity", [Int32(1), 2])
        },
        BadFileCase(id: "score is a group", location: "dataset /scores/score", message: "is not a dataset") { w in
            try header(w); try w.write("/scores/score/x", [Float(1), 0]); try w.write("/scores/label", [UInt8(1), 0])
        },
    ]

    @Test("bad files give one DataError naming file and dataset", arguments: badCases)
    func badInput(_ bad: BadFileCase) throws {
        let dir = TemporaryDirectory()
        let path = try makeHDF5File(dir, "bad.h5", bad.build)
        let error = dataError { _ = try ScoresHDF5.read(path: path) }
        #expect(error == DataError(file: path, location: bad.location, bad.message))
    }

    @Test("not an HDF5 file, missing, empty and truncated files")
    func notHDF5() throws {
        let dir = TemporaryDirectory()
        let text = dir.file("scores.h5")
        try "label,score\n1,0.5\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(dataError { _ = try ScoresHDF5.read(path: text) } == DataError(file: text, "not an HDF5 file (no HDF5 signature)"))
        let missing = dir.file("none.h5")
        #expect(dataError { _ = try ScoresHDF5.read(path: missing) } == DataError(file: missing, "no such file"))
        let empty = dir.file("empty.h5")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(dataError { _ = try ScoresHDF5.read(path: empty) }?.file == empty)

        let good = dir.file("good.h5")
        try ScoresHDF5.write(path: good, scores: (0..<1000).map { Float($0) }, labels: (0..<1000).map { UInt8($0 % 2) })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = dir.file("cut.h5")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        let error = dataError { _ = try ScoresHDF5.read(path: cut) }
        #expect(error?.file == cut)
        #expect(error?.message.contains("truncated") == true, "\(String(describing: error))")
    }
}

@Test("a damaged score file never yields wrong scores: every flipped byte is an error or unused")
func scoresCorruption() throws {
    let dir = TemporaryDirectory()
    let good = dir.file("good.h5")
    let scores = (0..<1000).map { Float($0) * 0.5 }
    let labels = (0..<1000).map { UInt8($0 % 3 == 0 ? 1 : 0) }
    try ScoresHDF5.write(path: good, scores: scores, labels: labels)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
    let expectedGenuine = stride(from: 0, to: 1000, by: 3).map { scores[$0] }
    var errors = 0
    for offset in stride(from: 0, to: bytes.count, by: 11) {
        var copy = bytes
        copy[offset] ^= 0xFF
        let path = dir.file("flip.h5")
        try copy.write(to: URL(fileURLWithPath: path))
        switch attempt({ () throws(DataError) in try ScoresHDF5.read(path: path) }) {
        case .success(.float(let set)):
            #expect(set.genuine == expectedGenuine, "offset \(offset) changed the scores silently")
            #expect(set.impostorCount == 1000 - expectedGenuine.count)
        case .success:
            Issue.record("offset \(offset): the score type changed")
        case .failure(let error):
            #expect(error.file == path)
            errors += 1
        }
    }
    #expect(errors > 0)
}
