import AlaverifyBase
import Foundation
import ScoreMetrics
import Testing
@testable import SampleData

/// A counter shared with a loader thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// Adds one.
    func increment() { lock.lock(); count += 1; lock.unlock() }
    /// The current count.
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }

    /// Waits (up to `seconds`) until the count reaches `target`; returns the count then.
    func wait(for target: Int, seconds: Double = 10) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while value < target && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        return value
    }
}

@Suite("batch prefetcher and streamed reads")
struct PrefetchTests {
    let fontsMini = fixturesDirectory + "/fonts-mini.h5"

    @Test("the prefetcher loads at most depth batches ahead of the consumer", .timeLimit(.minutes(1)),
          arguments: [1, 2, 4])
    func boundedAhead(depth: Int) throws {
        let loads = Counter()
        let prefetcher = BatchPrefetcher(count: 100, depth: depth) { (i: Int) throws(DataError) -> Int in
            loads.increment()
            return i
        }
        #expect(loads.wait(for: depth) == depth)
        // Give the thread time to overrun the bound if it would.
        Thread.sleep(forTimeInterval: 0.1)
        #expect(loads.value == depth)
        for expected in 0..<3 { #expect(try prefetcher.next() == expected) }
        #expect(loads.wait(for: depth + 3) == depth + 3)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(loads.value == depth + 3)
        #expect(prefetcher.stallSeconds >= 0)
    }

    @Test("waiting for a slow loader counts as stall time; batches ready ahead do not", .timeLimit(.minutes(1)))
    func stallTime() throws {
        let slow = BatchPrefetcher(count: 3, depth: 1) { (i: Int) throws(DataError) -> Int in
            Thread.sleep(forTimeInterval: 0.05)
            return i
        }
        while try slow.next() != nil {}
        // Three loads of 50 ms each, none overlapped by consumer work.
        #expect(slow.stallSeconds >= 0.1)
        let loads = Counter()
        let fast = BatchPrefetcher(count: 2, depth: 2) { (i: Int) throws(DataError) -> Int in
            loads.increment()
            return i
        }
        #expect(loads.wait(for: 2) == 2)
        // The loader stores a batch just after counting it; leave it ample time even on a busy CI machine.
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try fast.next() == 0)
        #expect(try fast.next() == 1)
        #expect(try fast.next() == nil)
        #expect(fast.stallSeconds < 0.05)
    }

    @Test("a loader error reaches the consumer at its batch and again at every later call, without hanging",
          .timeLimit(.minutes(1)))
    func loaderError() throws {
        let failure = DataError(file: "x.h5", location: "/samples/images", "chunk 3 is damaged")
        let prefetcher = BatchPrefetcher(count: 10, depth: 2) { (i: Int) throws(DataError) -> Int in
            if i == 2 { throw failure }
            return i
        }
        #expect(try prefetcher.next() == 0)
        #expect(try prefetcher.next() == 1)
        for _ in 0..<2 {
            #expect(attempt { () throws(DataError) in try prefetcher.next() } == .failure(failure))
        }
    }

    @Test("chunkwise gathered reads equal the coalesced ones for random, repeated and unordered indices")
    func chunkwiseGather() throws {
        let file = try SamplesFile(path: fontsMini)
        var rng = SeededGenerator(seed: 11)
        for count in [1, 2, 128, 700] {
            var indices = (0..<count).map { _ in rng.below(file.count) }
            indices.append(indices[0])
            indices.append(file.count - 1)
            let chunkwise = try file.readImagesChunkwise(indices: indices)
            #expect(chunkwise == (try file.readImages(indices: indices)), "count \(count), seed 11")
        }
        #expect(throws: DataError.self) { try file.readImagesChunkwise(indices: [file.count]) }
    }

    @Test("the row reader returns what readImages(indices:) returns and inflates each chunk once while it stays cached")
    func rowReader() throws {
        let file = try SamplesFile(path: fontsMini)
        var rng = SeededGenerator(seed: 12)
        let big = try ImageRowReader(file)
        #expect(big.cacheSlots == 128)  // 32 MiB of 256-row chunks of 32x32 bytes
        for count in [1, 128, 900] {
            let indices = (0..<count).map { _ in rng.below(file.count) } + [0, file.count - 1, 0]
            #expect(try big.readImages(indices: indices) == file.readImages(indices: indices), "count \(count), seed 12")
        }
        // The fixture has 30 chunks: after touching all of them nothing more is inflated.
        #expect(big.inflatedChunks == 30)
        _ = try big.readImages(indices: Array(stride(from: 0, to: file.count, by: 97)))
        #expect(big.inflatedChunks == 30)
        // A one-chunk cache: sorted reads inflate each chunk of a call once, in any index order.
        let small = try ImageRowReader(file, cacheBytes: 1)
        #expect(small.cacheSlots == 1)
        let scattered = [7000, 3, 260, 7001, 5, 259, 2]  // chunks 27, 0, 1, 27, 0, 1, 0
        #expect(try small.readImages(indices: scattered) == file.readImages(indices: scattered))
        #expect(small.inflatedChunks == 3)
        #expect(throws: DataError.self) { try small.readImages(indices: [-1]) }
    }
}
