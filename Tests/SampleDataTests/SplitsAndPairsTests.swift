import AlaverifyBase
import Foundation
import Testing
import ScoreMetrics
@testable import SampleData

@Suite("splits, pair sources, templates, PK batches")
struct SplitsAndPairsTests {
    @Test("fraction splits are disjoint, complete, sized by rounding and fixed by the seed")
    func fractions() throws {
        let split = try IdentitySplit.byFractions(identityCount: 120, train: 0.6, validation: 0.2, test: 0.2, seed: 7)
        #expect(split.train.count == 72 && split.validation.count == 24 && split.test.count == 24)
        let all = split.train + split.validation + split.test
        #expect(all.sorted() == (0..<120).map { Int32($0) })
        let again = try IdentitySplit.byFractions(identityCount: 120, train: 0.6, validation: 0.2, test: 0.2, seed: 7)
        #expect(again == split)
        let other = try IdentitySplit.byFractions(identityCount: 120, train: 0.6, validation: 0.2, test: 0.2, seed: 8)
        #expect(other != split)
        // The stream is SplitMix64: the first shuffle step for K=120 swaps 119 with below(120).
        var rng = SeededGenerator(seed: 7)
        var order = (0..<120).map { Int32($0) }
        for i in stride(from: 119, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        #expect(split.train == Array(order[0..<72]).sorted())
    }

    @Test("bad split requests are DataErrors", arguments: [
        (0.5, 0.2, 0.2), (0.7, 0.2, 0.2), (-0.1, 0.6, 0.5), (Double.nan, 0.5, 0.5),
    ])
    func badFractions(_ f: (Double, Double, Double)) {
        #expect(throws: DataError.self) {
            try IdentitySplit.byFractions(identityCount: 10, train: f.0, validation: f.1, test: f.2, seed: 1)
        }
    }

    @Test("name splits check membership and disjointness")
    func names() throws {
        let names = ["a", "b", "c", "d"]
        let split = try IdentitySplit.byNames(train: ["d", "a"], validation: ["b"], test: ["c"], identityNames: names)
        #expect(split.train == [0, 3] && split.validation == [1] && split.test == [2])
        #expect(split.samples(.train, identities: [0, 1, 3, 3, 2]) == [0, 2, 3])
        let missing = dataError { _ = try IdentitySplit.byNames(train: ["x"], validation: [], test: [], identityNames: names) }
        #expect(missing?.message == "train identity 'x' is not in the file")
        let twice = dataError { _ = try IdentitySplit.byNames(train: ["a"], validation: ["a"], test: [], identityNames: names) }
        #expect(twice?.message == "identity 'a' is in both train and validation")
    }

    @Test("all pairs: counts, lazy enumeration and random access agree with a brute-force list")
    func allPairs() throws {
        let identities: [Int32] = [0, 0, 1, 2, 1, 0, 2, 2]
        let items = [7, 0, 2, 5, 4, 3, 1]
        let pairs = try AllPairs(items: items, identities: identities)
        var brute: [SamplePair] = []
        for a in 0..<items.count {
            for b in (a + 1)..<items.count {
                brute.append(SamplePair(left: items[a], right: items[b], genuine: identities[items[a]] == identities[items[b]]))
            }
        }
        #expect(Array(pairs) == brute)
        #expect(pairs.count == 21)
        #expect(pairs.genuineCount == brute.filter(\.genuine).count)
        #expect((0..<pairs.count).map { pairs.pair(at: $0) } == brute)
        #expect(Set(pairs.genuinePairs.map { [$0.left, $0.right].sorted() }) == Set(brute.filter(\.genuine).map { [$0.left, $0.right].sorted() }))
    }

    @Test("all pairs of a billion-pair list are not materialised")
    func hugeCount() throws {
        let n = 50_000
        let identities = (0..<n).map { Int32($0 / 10) }
        let pairs = try AllPairs(items: Array(0..<n), identities: identities)
        #expect(pairs.count == 1_249_975_000)
        #expect(pairs.genuineCount == 5000 * 45)
        let last = pairs.pair(at: pairs.count - 1)
        #expect(last == SamplePair(left: n - 2, right: n - 1, genuine: true))
        #expect(pairs.pair(at: n - 1) == SamplePair(left: 1, right: 2, genuine: true))
    }

    @Test("an identity with a single sample is an error where genuine pairs are needed")
    func singleton() {
        let error = dataError { _ = try AllPairs(items: [0, 1, 2], identities: [0, 0, 1], identityNames: ["ann", "bob"], file: "x.h5") }
        #expect(error == DataError(file: "x.h5", location: "dataset /samples/identity",
                                   "identity 'bob' has a single sample; genuine pairs need at least 2 per identity"))
        #expect((try? AllPairs(items: [0, 1, 2], identities: [0, 0, 1], requireGenuine: false))?.genuineCount == 1)
    }

    @Test("sampled pairs: each genuine pair followed by n impostors of the same left sample, seeded")
    func sampled() throws {
        let identities: [Int32] = (0..<30).map { Int32($0 % 5) }
        let items = Array(0..<30)
        let pairs = try SampledPairs.make(items: items, identities: identities, impostorsPerGenuine: 3, seed: 5)
        let genuine = 5 * 15
        #expect(pairs.count == genuine * 4)
        for g in 0..<genuine {
            let head = pairs[4 * g]
            #expect(head.genuine && identities[head.left] == identities[head.right])
            for j in 1...3 {
                let p = pairs[4 * g + j]
                #expect(!p.genuine && p.left == head.left && identities[p.right] != identities[p.left])
            }
        }
        #expect(try SampledPairs.make(items: items, identities: identities, impostorsPerGenuine: 3, seed: 5) == pairs)
        #expect(try SampledPairs.make(items: items, identities: identities, impostorsPerGenuine: 3, seed: 6) != pairs)
    }

    @Test("templates: k samples of one identity (and one face), embedding = mean of normalised rows")
    func templates() throws {
        let identities: [Int32] = [0, 0, 0, 0, 0, 1, 1, 1]
        let face: [Int64] = [0, 0, 1, 1, 1, 0, 0, 0]
        let t = try Template.make(items: Array(0..<8), identities: identities, size: 2, sharing: face, seed: 3)
        // identity 0 face 0: {0,1} -> 1 template; face 1: {2,3,4} -> 1; identity 1: {5,6,7} -> 1.
        #expect(t.count == 3)
        #expect(t.map(\.identity) == [0, 0, 1])
        #expect(Set(t[0].samples) == [0, 1])
        for template in t { #expect(Set(template.samples.map { face[$0] }).count == 1) }
        let matrix: [Float] = [3, 4, 0, 0, 0, 2, 0, 0, 0]
        let mean = matrix.withUnsafeBufferPointer { Template(identity: 0, samples: [0, 1, 2]).embedding(from: $0, dimension: 3) }
        // (0.6, 0.8, 0) + (0, 0, 1) + zero row (skipped), divided by 3.
        #expect(abs(mean[0] - 0.2) < 1e-6 && abs(mean[1] - 0.8 / 3) < 1e-6 && abs(mean[2] - 1.0 / 3) < 1e-6)
    }

    @Test("PK batches: P distinct identities with K samples each, reproducible")
    func pk() throws {
        let identities: [Int32] = (0..<100).map { Int32($0 % 10) } + [10]  // identity 10 has one sample
        var sampler = try PKSampler(items: Array(0..<101), identities: identities, p: 4, k: 3, seed: 9)
        var again = try PKSampler(items: Array(0..<101), identities: identities, p: 4, k: 3, seed: 9)
        for _ in 0..<20 {
            let batch = sampler.next()
            #expect(batch == again.next())
            #expect(batch.count == 12)
            let ids = batch.map { identities[$0] }
            #expect(Set(ids).count == 4 && !ids.contains(10))
            for start in stride(from: 0, to: 12, by: 3) {
                #expect(Set(ids[start..<start + 3]).count == 1)
                #expect(Set(batch[start..<start + 3]).count == 3)
            }
        }
        #expect(throws: DataError.self) { try PKSampler(items: Array(0..<101), identities: identities, p: 11, k: 2, seed: 1) }
    }
}
