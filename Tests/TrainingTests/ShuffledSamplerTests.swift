import Testing
import ScoreMetrics
@testable import Training

@Test("shuffled epochs: every row once per epoch (a last partial batch dropped), a new order each epoch, labels follow rows")
func shuffledEpochs() throws {
    let classes: [Int32] = (0..<50).map { Int32($0 % 7) }
    var s = try ShuffledIndexSampler(classes: classes, batchSize: 8, seed: 3)
    var rows: [Int] = [], labels: [Int32] = []
    var epochs: [[Int]] = [[], []]
    for e in 0..<2 {
        for _ in 0..<6 {  // 6 batches of 8 = 48 of 50 rows; the 7th would cross the epoch
            s.next(rows: &rows, labels: &labels)
            #expect(labels == rows.map { classes[$0] })
            epochs[e] += rows
        }
    }
    for e in epochs {
        #expect(e.count == 48 && Set(e).count == 48, "no row twice within an epoch")
    }
    #expect(epochs[0] != epochs[1])
    #expect(epochs[0] != Array(0..<48), "rows are shuffled")
}

@Test("a restored shuffled sampler continues with the same batches, also across an epoch boundary")
func shuffledRestore() throws {
    let classes: [Int32] = (0..<30).map { Int32($0 % 5) }
    var a = try ShuffledIndexSampler(classes: classes, batchSize: 7, seed: 9)
    var rows: [Int] = [], labels: [Int32] = []
    for _ in 0..<3 { a.next(rows: &rows, labels: &labels) }
    var b = try ShuffledIndexSampler(classes: classes, batchSize: 7, seed: 9)
    try b.restore(a.state)
    var rowsB: [Int] = []
    for _ in 0..<9 {
        a.next(rows: &rows, labels: &labels)
        b.next(rows: &rowsB, labels: &labels)
        #expect(rows == rowsB)
    }
    #expect(throws: TrainingError.self) { try b.restore([1, 0, 0]) }
    #expect(throws: TrainingError.self) { try b.restore([9, 0, 31]) }
    #expect(throws: TrainingError.self) { _ = try ShuffledIndexSampler(classes: [0, 1], batchSize: 3, seed: 1) }
}
