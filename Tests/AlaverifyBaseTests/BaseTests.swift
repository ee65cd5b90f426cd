import Foundation
import Testing

@testable import AlaverifyBase

@Suite("SHA-256, the seeded generator, ordered JSON, atomic writes, exit statuses")
struct BaseTests {
    @Test("SHA-256 matches the FIPS 180-4 test vectors")
    func sha256() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var split = SHA256()
        split.update(long[0..<7])
        split.update(long[7...])
        #expect(split.hexDigest() == SHA256.hex(long))
    }

    @Test("SHA-256 test vectors, in one piece and in uneven pieces", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256(_ vector: (String, String)) {
        var one = SHA256()
        one.update(Array(vector.0.utf8))
        #expect(one.hexDigest() == vector.1)
        var pieces = SHA256()
        let bytes = Array(vector.0.utf8)
        var at = 0, step = 1
        while at < bytes.count {
            pieces.update(bytes[at..<min(at + step, bytes.count)])
            at += step
            step += 3
        }
        #expect(pieces.hexDigest() == vector.1)
    }

    @Test("SHA-256 of a million 'a'")
    func sha256Million() {
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { h.update(chunk) }
        #expect(h.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("a generator decoded from its encoding continues the same stream")
    func generatorCoding() throws {
        var rng = SeededGenerator(seed: 42, stream: 7)
        _ = rng.next()
        let data = try JSONEncoder().encode(rng)
        var copy = try JSONDecoder().decode(SeededGenerator.self, from: data)
        #expect(String(decoding: data, as: UTF8.self) == "\(rng.state)")
        for _ in 0..<5 { #expect(copy.next() == rng.next()) }
    }

    @Test("JSON text keeps key order, round-trips doubles and writes inf as a string, NaN as null")
    func jsonText() throws {
        let value = JSONValue.object([
            ("z", .int(3)), ("a", .number(0.1)), ("whole", .number(2)), ("inf", .double(.infinity)), ("nan", .double(.nan)),
            ("list", .array([.bool(true), .null, .string("a\"b\n")])),
        ])
        let text = value.serialized(indent: nil)
        #expect(text == #"{"z":3,"a":0.1,"whole":2.0,"inf":"inf","nan":null,"list":[true, null, "a\"b\n"]}"#)
        #expect(try JSONValue.parse(Data(text.utf8)) == value)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Data("{\"a\": }".utf8)) }
    }

    @Test("atomic writes replace a file whole, refuse a missing folder with one line, and write devices in place")
    func atomicWrites() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alaverify-base-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.txt").path
        try AtomicFile.write("first", to: path)
        try AtomicFile.write(Array("second".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.txt"])
        let missing = folder.appendingPathComponent("no/such/out.txt").path
        #expect(throws: AtomicWriteError(path: missing, reason: "No such file or directory")) { try AtomicFile.write("x", to: missing) }
        #expect(AtomicWriteError(path: missing, reason: "r").description == "\(missing): cannot write: r")
        try AtomicFile.write("discarded", to: "/dev/null")
    }

    @Test("an error keeps its exit status when a file is put in front of it")
    func errorInFile() {
        let inner = AtomicWriteError(path: "a", reason: "b")
        let outer = ErrorInFile(file: "f.csv", inner)
        #expect(outer.description == "f.csv: a: cannot write: b")
        #expect(outer.exitStatus == .usage && ExitStatus.usage.rawValue == 64)
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 64, 65, 70])
    }
}

/// A record with nested values, optionals and keys chosen at run time, for the JSON coders.
private struct Sample: Codable, Equatable {
    var name: String
    var count: Int
    var small: UInt8
    var rate: Double
    var weights: [Float]
    var note: String?
    var inner: Inner
    var named: Named

    struct Inner: Codable, Equatable {
        var flag: Bool
        var seed: UInt64
    }

    /// Values under keys taken from data, in the given order.
    struct Named: Codable, Equatable {
        var pairs: [(String, Int)]
        init(_ pairs: [(String, Int)]) { self.pairs = pairs }
        static func == (a: Named, b: Named) -> Bool { a.pairs.map(\.0) == b.pairs.map(\.0) && a.pairs.map(\.1) == b.pairs.map(\.1) }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            for (k, v) in pairs { try c.encode(v, forKey: AnyCodingKey(k)) }
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyCodingKey.self)
            pairs = try c.allKeys.map { ($0.stringValue, try c.decode(Int.self, forKey: $0)) }
        }
    }
}

@Suite("JSON coders that keep key order")
struct JSONCodingTests {
    @Test("keys come out in encoding order, nested and run-time keys included, and decode back equal")
    func roundTrip() throws {
        let value = Sample(
            name: "a", count: -3, small: 7, rate: 0.25, weights: [1.5, -0], note: nil, inner: .init(flag: true, seed: 1 << 40),
            named: .init([("zeta", 1), ("alpha", 2), ("mid", 3)]))
        let json = try JSONValueEncoder().encode(value)
        #expect(json.serialized(indent: nil)
            == #"{"name":"a","count":-3,"small":7,"rate":0.25,"weights":[1.5, 0.0],"inner":{"flag":true,"seed":1099511627776},"named":{"zeta":1,"alpha":2,"mid":3}}"#)
        #expect(try JSONValueDecoder().decode(Sample.self, from: json) == value)
        #expect(try JSONValueDecoder().decode(Sample.self, from: try JSONValue.parse(Data(json.serialized().utf8))) == value)
    }

    @Test("non-finite doubles are written as SPEC writes them and read back")
    func nonFinite() throws {
        #expect(try JSONValueEncoder().encode([Double.infinity, -.infinity, .nan]).serialized(indent: nil) == #"["inf", "-inf", null]"#)
        #expect(try JSONValueDecoder().decode([Double].self, from: .array([.string("inf"), .int(2)])) == [.infinity, 2])
    }

    @Test("a wrong type, a missing key or an integer that does not fit is a DecodingError naming the key", arguments: [
        (#"{"flag":1,"seed":2}"#, "flag"),
        (#"{"flag":true}"#, "seed"),
        (#"{"flag":true,"seed":-1}"#, "seed"),
        (#"{"flag":true,"seed":1.5}"#, "seed"),
    ])
    func decodingErrors(_ c: (String, String)) throws {
        let json = try JSONValue.parse(Data(c.0.utf8))
        do {
            _ = try JSONValueDecoder().decode(Sample.Inner.self, from: json)
            Issue.record("\(c.0) decoded")
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let context): #expect(context.codingPath.map(\.stringValue) == [c.1], "\(c.0)")
            case .keyNotFound(let key, _): #expect(key.stringValue == c.1, "\(c.0)")
            default: Issue.record("\(c.0): \(error)")
            }
        }
    }
}
