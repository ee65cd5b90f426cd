import Foundation
import SampleData
import ScoreMetrics
import Testing
import Training
@testable import Runs
import RunRecords

/// The repository's fixture used by the streaming tests.
let fontsMiniPath: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("fixtures/fonts-mini.h5").path
}()

/// The train split of the fixture as `TrainingRun` makes it: file rows and their identities.
func fixtureTrainSplit(_ file: SamplesFile) throws -> (rows: [Int], labels: [Int32]) {
    let split = try IdentitySplit.byFractions(
        identityCount: file.identityCount, train: 0.5, validation: 0.3, test: 0.2, seed: 7, file: file.path)
    let rows = split.samples(.train, identities: file.identities)
    return (rows, rows.map { file.identities[$0] })
}

/// A copy of the fixture in a fresh temporary directory (removed by the caller).
func fixtureCopy() throws -> (directory: URL, path: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("alaverify-stream-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("fonts-mini.h5").path
    try FileManager.default.copyItem(atPath: fontsMiniPath, toPath: path)
    return (dir, path)
}

/// The DataError `body` throws, nil when it throws none or another error.
func thrownDataError(_ body: () throws -> Void) -> DataError? {
    do { try body() } catch let error as DataError { return error } catch { return nil }
    return nil
}

@Suite("streamed training batches")
struct StreamedBatchesTests {
    @Test("streamed batches equal PKSampler's in-memory batches (rows, labels, pixels, state) step by step",
          .timeLimit(.minutes(2)), arguments: [(UInt64(2), 16, 8), (UInt64(1001), 4, 4), (UInt64(7), 2, 70)])
    func sameBatchesAsInMemory(seed: UInt64, p: Int, k: Int) throws {
        let file = try SamplesFile(path: fontsMiniPath)
        let split = try fixtureTrainSplit(file)
        let images = try ImageSet(pixels: try file.readImages(indices: split.rows), labels: split.labels)
        var memory = try PKSampler(data: images, identitiesPerBatch: p, samplesPerIdentity: k, seed: seed)
        let streamed = try StreamedBatchSource(
            reader: try ImageRowReader(file), rows: split.rows, labels: split.labels, identitiesPerBatch: p, samplesPerIdentity: k, seed: seed, depth: 3)
        #expect(streamed.sampleShape == memory.sampleShape)
        var a = Batch(), b = Batch()
        for step in 0..<150 {
            memory.next(into: &a)
            try streamed.next(into: &b)
            #expect(a.labels == b.labels, "step \(step), seed \(seed)")
            #expect(a.inputs.shape == b.inputs.shape, "step \(step), seed \(seed)")
            let same = a.inputs.shape == b.inputs.shape
                && (0..<a.inputs.count).allSatisfy { a.inputs.pointer[$0].bitPattern == b.inputs.pointer[$0].bitPattern }
            #expect(same, "pixels differ at step \(step), seed \(seed)")
            // The prefetch thread has drawn ahead; the state is still that of the consumed batch.
            #expect(streamed.state == memory.state, "state at step \(step), seed \(seed)")
            if !same || a.labels != b.labels || streamed.state != memory.state { break }
        }
        #expect(streamed.stats.batches == 150)
        #expect(streamed.stats.stallSeconds >= 0 && streamed.stats.readSeconds > 0)
    }

    @Test("restore drops the batches drawn ahead and continues from the restored state", .timeLimit(.minutes(1)))
    func restoreContinuesFromState() throws {
        let file = try SamplesFile(path: fontsMiniPath)
        let split = try fixtureTrainSplit(file)
        let images = try ImageSet(pixels: try file.readImages(indices: split.rows), labels: split.labels)
        var memory = try PKSampler(data: images, identitiesPerBatch: 8, samplesPerIdentity: 4, seed: 5)
        let streamed = try StreamedBatchSource(
            reader: try ImageRowReader(file), rows: split.rows, labels: split.labels, identitiesPerBatch: 8, samplesPerIdentity: 4, seed: 5)
        var a = Batch(), b = Batch()
        for _ in 0..<10 { try streamed.next(into: &b) }
        let saved = streamed.state
        for _ in 0..<5 { try streamed.next(into: &b) }
        try streamed.restore(saved)
        try memory.restore(saved)
        for step in 0..<20 {
            memory.next(into: &a)
            try streamed.next(into: &b)
            #expect(a.labels == b.labels, "step \(step) after restore")
        }
        #expect(streamed.stats.batches == 35)
        #expect(throws: TrainingError.self) { try streamed.restore([1, 2]) }
    }

    @Test("a failing read is the reader's DataError at that batch and at every later one", .timeLimit(.minutes(1)))
    func readerErrorIsDataError() throws {
        let failure = DataError(file: "data.h5", location: "/samples/images", "read failed")
        let calls = LockedCount()
        let labels: [Int32] = (0..<40).map { Int32($0 / 10) }
        let streamed = try StreamedBatchSource(
            file: "data.h5", rows: Array(0..<40), labels: labels, height: 2, width: 2, identitiesPerBatch: 2,
            samplesPerIdentity: 2, seed: 1, depth: 2
        ) { (rows: [Int]) throws(DataError) -> [UInt8] in
            if calls.next() >= 2 { throw failure }
            return rows.flatMap { [UInt8](repeating: UInt8($0), count: 4) }
        }
        var batch = Batch()
        try streamed.next(into: &batch)
        try streamed.next(into: &batch)
        #expect(batch.inputs.shape == Shape(4, 1, 2, 2))
        #expect(thrownDataError { try streamed.next(into: &batch) } == failure)
        #expect(thrownDataError { try streamed.next(into: &batch) } == failure)
    }

    @Test("a samples file truncated during streaming is a DataError naming the file, not a crash or hang",
          .timeLimit(.minutes(1)))
    func truncatedFile() throws {
        let copy = try fixtureCopy()
        defer { try? FileManager.default.removeItem(at: copy.directory) }
        let file = try SamplesFile(path: copy.path)
        let split = try fixtureTrainSplit(file)
        let streamed = try StreamedBatchSource(
            reader: try ImageRowReader(file), rows: split.rows, labels: split.labels, identitiesPerBatch: 16, samplesPerIdentity: 8, seed: 3, depth: 2)
        var batch = Batch()
        try streamed.next(into: &batch)
        // Let the prefetch thread finish the reads it may do ahead (2 batches of ~10 ms), so it is
        // idle at the cut even on a busy CI machine.
        Thread.sleep(forTimeInterval: 1.0)
        let handle = try #require(FileHandle(forWritingAtPath: copy.path))
        try handle.truncate(atOffset: 500_000)
        try handle.close()
        // Batches read before the truncation may still come; then the error.
        var error: DataError?
        for _ in 0..<10 where error == nil {
            error = thrownDataError { try streamed.next(into: &batch) }
        }
        let found = try #require(error)
        #expect(found.file == copy.path)
        #expect(found.message.contains("changed during the run"))
    }

    @Test("a training run whose streamed file is truncated fails with RunError.data", .timeLimit(.minutes(2)))
    func runSurfacesDataError() throws {
        let copy = try fixtureCopy()
        defer { try? FileManager.default.removeItem(at: copy.directory) }
        var config = RunConfig.defaults(data: copy.path)
        config.stream = true
        config.network = .mlp
        config.hidden = [8]
        config.embedding = 8
        config.steps = 40
        config.interval = 20
        config.checkpointInterval = 20
        config.warmupSteps = 0
        config.lossControl = .fixed
        config.children = 2
        config.target = .eer
        let run = try TrainingRun(config: config, directory: RunDirectory(copy.directory.appendingPathComponent("run").path)) { _ in }
        let handle = try #require(FileHandle(forWritingAtPath: copy.path))
        try handle.truncate(atOffset: 500_000)
        try handle.close()
        do {
            _ = try run.run(resume: false)
            Issue.record("the run finished on a truncated file")
        } catch {
            guard case .data(let e)? = error as? RunError else {
                Issue.record("expected RunError.data, got \(error)")
                return
            }
            #expect(e.file == copy.path && e.message.contains("changed during the run"), "\(e)")
        }
    }
}

/// A call counter for a reader closure.
final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// The number of earlier calls, then counts this one.
    func next() -> Int { lock.lock(); defer { count += 1; lock.unlock() }; return count }
}
