import Foundation
import Testing
@testable import SampleData
import CHDF5

@Suite("direct chunk reads (parallel inflate) agree with H5Dread")
struct ChunkReaderTests {
    /// Row ranges that start and end inside chunks, span the edge chunk, and cover everything.
    static func ranges(count: Int, chunk: Int) -> [Range<Int>] {
        [0..<count, 0..<chunk, chunk..<(3 * chunk), (chunk / 2)..<(chunk / 2 + 2 * chunk + 3),
         (count - chunk - 5)..<count, (count - chunk)..<count].filter { $0.lowerBound >= 0 && $0.upperBound <= count && $0.count >= chunk }
    }

    @Test("the fonts-mini fixture (shuffle + gzip on uint8)")
    func fixture() throws {
        let file = try SamplesFile(path: fontsMini)
        let data = try file.file.dataset("/samples/images")
        #expect(HDF5Library.locked { HDF5ChunkPlan.make(data, memType: .uint8) } != nil)
        for rows in Self.ranges(count: file.count, chunk: file.chunkRows) {
            let direct: [UInt8] = try #require(try data.readRowsDirect(rows))
            let reference: [UInt8] = try data.read(start: [rows.lowerBound, 0, 0], count: [rows.count, 32, 32])
            #expect(direct == reference, "rows \(rows)")
        }
        #expect(byteSum(try file.readImages(0..<7440)) == 447_977_591)  // h5py's sum
    }

    @Test("files of our writer: shuffle + gzip + Fletcher-32 on float32, int32 and uint8, edge chunks")
    func writerFiles() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("w.h5")
        let w = try HDF5Writer(path: path)
        let floats = (0..<(1000 * 3)).map { Float($0) * 0.37 - 100 }
        let ints = (0..<1003).map { Int32($0 * 7919 % 100_003) - 50_000 }
        let bytes = (0..<(517 * 5 * 3)).map { UInt8(($0 * 31) % 251) }
        try w.write("/f", floats, shape: [1000, 3], chunkRows: 64)
        try w.write("/i", ints, chunkRows: 100)
        try w.write("/b", bytes, shape: [517, 5, 3], chunkRows: 50)
        try w.close()
        let file = try HDF5File(path: path)
        let f = try file.dataset("/f"), i = try file.dataset("/i"), b = try file.dataset("/b")
        let plan = try #require(HDF5Library.locked { HDF5ChunkPlan.make(f, memType: .float32) })
        #expect(plan.filters == [.shuffle(elementSize: 4), .deflate, .fletcher32])
        for rows in Self.ranges(count: 1000, chunk: 64) {
            #expect(try f.readRowsDirect(rows) == Array(floats[(rows.lowerBound * 3)..<(rows.upperBound * 3)]), "rows \(rows)")
        }
        for rows in Self.ranges(count: 1003, chunk: 100) {
            #expect(try i.readRowsDirect(rows) == Array(ints[rows]), "rows \(rows)")
        }
        for rows in Self.ranges(count: 517, chunk: 50) {
            #expect(try b.readRowsDirect(rows) == Array(bytes[(rows.lowerBound * 15)..<(rows.upperBound * 15)]), "rows \(rows)")
        }
        // Smaller than a chunk: left to H5Dread and its chunk cache.
        let small: [Float]? = try f.readRowsDirect(3..<10)
        #expect(small == nil)
        #expect(try f.readRows(3..<10, as: Float.self) == Array(floats[9..<30]))
    }

    @Test("uncompressed and contiguous datasets are left to H5Dread")
    func notCompressed() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("plain.h5")
        let w = try HDF5Writer(path: path)
        try w.write("/raw", (0..<600).map { UInt8($0 % 256) }, shape: [200, 3], chunkRows: 10, compression: 0)
        try w.close()
        let set = try HDF5File(path: path).dataset("/raw")
        let direct: [UInt8]? = try set.readRowsDirect(0..<200)
        #expect(direct == nil)
        #expect(try set.readRows(0..<200, as: UInt8.self) == (0..<600).map { UInt8($0 % 256) })
    }

    @Test("a damaged chunk is a DataError naming the chunk, whichever check catches it")
    func damagedChunk() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("d.h5")
        let w = try HDF5Writer(path: path)
        let values = (0..<(4000 * 8)).map { Float(sin(Double($0))) }
        try w.write("/f", values, shape: [4000, 8], chunkRows: 500)
        try w.close()
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        // Flip bytes in the middle of the file, where the chunks are.
        var detected = 0
        let offsets = Array(stride(from: original.count / 4, to: original.count * 3 / 4, by: original.count / 40))
        for offset in offsets {
            var copy = original
            copy[offset] ^= 0x5A
            let damaged = dir.file("damaged.h5")
            try copy.write(to: URL(fileURLWithPath: damaged))
            let result = attempt { () throws(DataError) -> [Float] in
                try HDF5File(path: damaged).dataset("/f").readRows(0..<4000)
            }
            switch result {
            case .success(let read): #expect(read == values, "offset \(offset) changed data silently")
            case .failure(let error):
                #expect(error.file == damaged)
                detected += 1
            }
        }
        #expect(detected > offsets.count / 2, "only \(detected) of \(offsets.count) detected")
    }

    @Test("HDF5's Fletcher-32 on known inputs")
    func fletcher() {
        func sum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { HDF5ChunkPlan.fletcher32($0) } }
        // Words 0x0102, 0x0304: sum1 = 0x0406, sum2 = 0x0102 + 0x0406 = 0x0508.
        #expect(sum([1, 2, 3, 4]) == 0x0508_0406)
        // An odd trailing byte counts as the high half of a word.
        #expect(sum([1, 2, 3]) == sum([1, 2, 3, 0]))
        #expect(sum([]) == 0)
    }
}

@Suite("HDF5 process setup")
struct HDF5ProcessSetupTests {
    /// HDF5 tears itself down at exit unless told otherwise before its first call; the teardown
    /// raced background readers and printed "infinite loop closing library" after test summaries.
    /// A second `H5dont_atexit` fails exactly when the first one was made (HDF5 1.10's flag).
    @Test("HDF5's exit-time teardown is switched off once the library is in use")
    func noExitTeardown() throws {
        let file = try SamplesFile(path: fontsMini)
        #expect(file.count > 0)
        #expect(HDF5Library.exitTeardownDisabled)
        #expect(H5dont_atexit() < 0)
    }
}
