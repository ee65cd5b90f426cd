@testable import ScoreMetrics
import AlaverifyBase
import Testing

/// How the values of a radix test are drawn.
enum ValueShape: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// Uniform random bit patterns (every exponent, denormals, +-0, +-inf), NaN redrawn.
    case anyBits
    /// Few distinct values: heavy ties.
    case fewDistinct
    /// Normal-ish scores in a narrow band: many shared high digits.
    case narrowBand
    /// Specials only: +-0, +-inf, smallest denormals, largest finite.
    case specials
    var testDescription: String { rawValue }
}

struct RadixCase: Sendable, CustomTestStringConvertible {
    var count: Int
    var shape: ValueShape
    var seed: UInt64
    var testDescription: String { "n=\(count) \(shape) seed=\(seed)" }
}

/// Sizes around the insertion-sort cut-off (48) and just past the LSD/MSD switch (65536): at
/// 65537 an American-flag pass runs, and the narrow band (one shared top digit) recurses into a
/// second one. Larger sizes add nothing but debug-build time.
let radixCases: [RadixCase] = [0, 1, 2, 47, 48, 49, 1000, 65537].flatMap { n in
    ValueShape.allCases.map { RadixCase(count: n, shape: $0, seed: UInt64(n) &* 31 &+ UInt64($0.rawValue.count)) }
}

func radixValues<T: ScoreFloat>(_ c: RadixCase, as _: T.Type) -> [T] {
    var rng = SeededGenerator(seed: c.seed)
    let specials: [T] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                         .leastNormalMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
                         -.greatestFiniteMagnitude, 1, -1]
    return (0..<c.count).map { _ in
        switch c.shape {
        case .anyBits:
            while true {
                let x = T(bits: T.Key(truncatingIfNeeded: rng.next()))
                if !x.isNaN { return x }
            }
        case .fewDistinct:
            return T(rng.below(7) - 3) / 2
        case .narrowBand:
            return T(0.5) + T(rng.unit()) / 1024
        case .specials:
            return specials[rng.below(specials.count)]
        }
    }
}

/// The standard library's sort with -0 canonicalised to +0 (the radix sort's documented output).
func referenceSorted<T: ScoreFloat>(_ v: [T]) -> [T] {
    v.map { $0 == 0 ? 0 : $0 }.sorted()
}

@Suite("Radix sort and select")
struct RadixTests {
    @Test("Radix.sort equals the standard library sort (Float)", arguments: radixCases)
    func sortFloat(_ c: RadixCase) { checkSort(c, Float.self) }

    @Test("Radix.sort equals the standard library sort (Double)", arguments: radixCases)
    func sortDouble(_ c: RadixCase) { checkSort(c, Double.self) }

    func checkSort<T: ScoreFloat>(_ c: RadixCase, _ t: T.Type) {
        var v = radixValues(c, as: t)
        let want = referenceSorted(v)
        Radix.sort(&v)
        // Bit-exact comparison: +0 and -0 differ here, and the output must hold only +0.
        let same = v.count == want.count && zip(v, want).allSatisfy { $0.bits == $1.bits }
        #expect(same, "seed \(c.seed) \(c): first difference at \(zip(v, want).enumerated().first { $1.0.bits != $1.1.bits }?.offset ?? -1)")
    }

    @Test("Radix.selectFromTop equals the descending sort's element (Float)", arguments: radixCases)
    func selectFloat(_ c: RadixCase) { checkSelect(c, Float.self) }

    @Test("Radix.selectFromTop equals the descending sort's element (Double)", arguments: radixCases)
    func selectDouble(_ c: RadixCase) { checkSelect(c, Double.self) }

    func checkSelect<T: ScoreFloat>(_ c: RadixCase, _ t: T.Type) {
        var v = radixValues(c, as: t)
        // Sprinkle NaNs: selection ranks the non-NaN values only and counts them.
        var rng = SeededGenerator(seed: c.seed ^ 0xA5A5)
        for _ in 0..<(c.count / 10) where !v.isEmpty { v[rng.below(v.count)] = .nan }
        let descending = Array(referenceSorted(v.filter { !$0.isNaN }).reversed())
        var ranks = [0, descending.count, descending.count + 5]
        if !descending.isEmpty {
            ranks += [descending.count - 1, descending.count / 2]
            for _ in 0..<3 { ranks.append(rng.below(descending.count)) }
        }
        v.withUnsafeBufferPointer { buffer in
            for r in ranks {
                let got = Radix.selectFromTop(buffer, rankFromTop: r)
                #expect(got.count == descending.count, "seed \(c.seed) \(c) rank \(r)")
                if r < descending.count {
                    #expect(got.value?.bits == descending[r].bits,
                            "seed \(c.seed) \(c) rank \(r): got \(String(describing: got.value)), expected \(descending[r])")
                } else {
                    #expect(got.value == nil, "seed \(c.seed) \(c) rank \(r) past the end")
                }
            }
        }
    }

    @Test("a lone -0 is canonicalised too", arguments: Precision.allCases)
    func loneMinusZero(_ p: Precision) {
        func check<T: ScoreFloat>(_: T.Type) {
            var one: [T] = [-0.0]
            Radix.sort(&one)
            #expect(one[0].bits == T(0).bits, "\(p): \(one)")
            var two: [T] = [-0.0, -0.0]
            Radix.sort(&two)
            #expect(two.allSatisfy { $0.bits == T(0).bits }, "\(p): \(two)")
        }
        p == .float ? check(Float.self) : check(Double.self)
    }

    @Test("SortedScores drops NaNs, counts them, and sorts with identities carried along")
    func sortedWithIdentities() throws {
        let seed: UInt64 = 99
        var rng = SeededGenerator(seed: seed)
        let n = 5000
        let scores: [Float] = (0..<n).map { _ in rng.unit() < 0.05 ? .nan : Float(rng.below(50)) / 7 }
        let left = (0..<n).map { Int32($0) }, right = (0..<n).map { Int32(-$0 - 1) }
        let s = SortedScores(try ScoreSet(
            genuine: [1], impostor: scores, genuineIdentities: ComparisonIdentities(left: [0], right: [0]),
            impostorIdentities: ComparisonIdentities(left: left, right: right)))
        let kept = scores.filter { !$0.isNaN }
        #expect(s.impostor == kept.sorted(), "seed \(seed)")
        #expect(s.impostorFailures == n - kept.count)
        // Each sorted score still sits next to the identity pair it came with.
        let ids = try #require(s.identities)
        for (j, packed) in ids.impostor.enumerated() {
            let (l, r) = unpackPair(packed)
            #expect(scores[Int(l)] == s.impostor[j] && r == -l - 1, "seed \(seed) position \(j)")
        }
    }
}
