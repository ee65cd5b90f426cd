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

@Test("batch shares: each draw splits the whole batch between the children, each keeping its own part")
func batchShares() throws {
    let classes: [Int32] = (0..<40).map { Int32($0 % 6) }
    var whole = try ShuffledIndexSampler(classes: classes, batchSize: 10, seed: 5)
    var a = try BatchShare(ShuffledIndexSampler(classes: classes, batchSize: 10, seed: 5), part: 0, parts: 2)
    var b = try BatchShare(ShuffledIndexSampler(classes: classes, batchSize: 10, seed: 5), part: 1, parts: 2)
    #expect(a.batchSize == 5)
    var rows: [Int] = [], labels: [Int32] = [], ra: [Int] = [], la: [Int32] = [], rb: [Int] = [], lb: [Int32] = []
    var seen: [Int] = []
    for _ in 0..<4 {
        whole.next(rows: &rows, labels: &labels)
        a.next(rows: &ra, labels: &la)
        b.next(rows: &rb, labels: &lb)
        #expect(ra == Array(rows[0..<5]) && rb == Array(rows[5..<10]))
        #expect(la == ra.map { classes[$0] } && lb == rb.map { classes[$0] })
        seen += ra + rb
    }
    #expect(seen.count == 40 && Set(seen).count == 40, "the children together see every row of the epoch once")
    var c = try BatchShare(ShuffledIndexSampler(classes: classes, batchSize: 9, seed: 5), part: 2, parts: 3)
    c.next(rows: &rows, labels: &labels)
    #expect(rows.count == 3)
}

@Test("batch shares of P x K batches are cut between identities; a restored share continues with the same rows; too few groups are refused")
func batchSharesOfPK() throws {
    let classes: [Int32] = (0..<60).map { Int32($0 % 10) }
    func pk() throws -> PKIndexSampler {
        try PKIndexSampler(classes: classes, classCount: 10, identitiesPerBatch: 4, samplesPerIdentity: 3, seed: 2)
    }
    var share = try BatchShare(pk(), part: 1, parts: 2, group: 3)
    var rows: [Int] = [], labels: [Int32] = []
    for _ in 0..<3 {
        share.next(rows: &rows, labels: &labels)
        #expect(rows.count == 6 && Set(labels).count == 2, "two whole identities of three samples")
        #expect(labels[0] == labels[2] && labels[3] == labels[5])
    }
    var restored = try BatchShare(pk(), part: 1, parts: 2, group: 3)
    try restored.restore(share.state)
    var other: [Int] = []
    for _ in 0..<3 {
        share.next(rows: &rows, labels: &labels)
        restored.next(rows: &other, labels: &labels)
        #expect(rows == other)
    }
    #expect(throws: TrainingError.self) { _ = try BatchShare(pk(), part: 0, parts: 5, group: 3) }
    #expect(throws: TrainingError.self) { _ = try BatchShare(pk(), part: 2, parts: 2, group: 3) }
}
