/// Steps through the operating points of merged scores in descending threshold order, exactly
/// as `PointWalker` steps through sorted scores, below a starting key; impostor scores are read
/// from refined bins (a bin holding impostor scores that was not refined throws).
struct MergedWalker {
    let scores: MergedScores
    /// Genuine scores not yet passed: `genuineKeys[0..<gp]`.
    var gp: Int
    /// Impostor scores passed (with a key above the cursor).
    var fa: Int
    /// The next impostor key to look at, downwards (nil: none left).
    var cursor: UInt32?
    var rejectAllPending: Bool
    /// The impostor key found below the cursor and not yet passed, with its count.
    var lookahead: (key: UInt32, count: Int)?

    /// A walk over every point: the reject-all `+inf` first (when no score is `+inf`).
    init(_ scores: MergedScores) {
        self.scores = scores
        let basis = scores.basis
        gp = basis.genuineKeys.count
        fa = 0
        cursor = .max
        let inf = scoreKey(.infinity)
        rejectAllPending = !(basis.genuineKeys.last == inf || basis.impostor.positiveInfinities > 0)
    }

    /// A walk over the points whose threshold lies in bin `bin` or below (no reject-all point).
    init(_ scores: MergedScores, throughBin bin: Int) {
        self.scores = scores
        rejectAllPending = false
        if bin + 1 >= RadixHistogram.binCount {
            gp = scores.basis.genuineKeys.count
            fa = 0
            cursor = .max
        } else {
            let start = UInt32(bin + 1) << 16
            gp = scores.basis.genuineBelow(key: start)
            fa = scores.basis.above[bin]
            cursor = start - 1
        }
    }

    /// The next point: similarity-scale threshold key, false accepts, false rejects.
    mutating func next() throws(MergeError) -> (key: UInt32, fa: Int, fr: Int)? {
        let basis = scores.basis
        if rejectAllPending {
            rejectAllPending = false
            return (scoreKey(.infinity), 0, basis.genuineFailures + gp)
        }
        let topG: UInt32? = gp > 0 ? basis.genuineKeys[gp - 1] : nil
        let topI = try nextImpostor(atLeast: topG)
        guard let v = [topI?.key, topG].compactMap({ $0 }).max() else { return nil }
        while gp > 0 && basis.genuineKeys[gp - 1] == v { gp -= 1 }
        if let top = topI, top.key == v {
            fa += top.count
            cursor = v == 0 ? nil : v - 1
            lookahead = nil
        }
        return (v, fa, basis.genuineFailures + gp)
    }

    /// The highest impostor key at or below the cursor and at least `floor` (any, without a
    /// floor), with its count; bins wholly below the floor's bin are not looked into.
    private mutating func nextImpostor(atLeast floor: UInt32?) throws(MergeError) -> (key: UInt32, count: Int)? {
        if let found = lookahead { return found.key >= (floor ?? 0) ? found : nil }
        let counts = scores.basis.impostor.counts
        let floorBin = floor.map { Int($0 >> 16) } ?? 0
        while let c = cursor {
            let b = Int(c >> 16)
            if b < floorBin { return nil }
            if counts[b] > 0 {
                guard let suffix = scores.refined[b] else { throw scores.unplanned("the points in bin \(b)") }
                var k = Int(c & 0xFFFF)
                while k >= 0 {
                    let n = suffix[k] - suffix[k + 1]
                    if n > 0 {
                        let key = UInt32(b) << 16 | UInt32(k)
                        lookahead = (key, n)
                        return key >= (floor ?? 0) ? (key, n) : nil
                    }
                    k -= 1
                }
            }
            cursor = b == 0 ? nil : UInt32(b) << 16 - 1
        }
        return nil
    }
}

extension MergedScores {
    /// `SortedScores.equalErrorRate` on the merged scores.
    func equalErrorRate() throws(MergeError) -> EqualErrorRate? {
        let nI = Double(impostorCount), nG = Double(genuineCount)
        var all = MergedWalker(self)
        guard let first = try all.next() else { return nil }
        let px0 = Double(first.fa) / nI, py0 = Double(first.fr) / nG
        if px0 == py0 { return EqualErrorRate(value: px0, threshold: reported(first.key)) }
        // FAR - FRR never falls along the walk: it cannot cross from above.
        if px0 - py0 > 0 { return nil }
        guard let bin = basis.crossingBin() else { return nil }
        // The point before the crossing bin's first: the lowest observed score above the bin.
        var previous = first
        if bin + 1 < RadixHistogram.binCount {
            let g = basis.genuineBelow(key: UInt32(bin + 1) << 16)
            let lowestG: UInt32? = g < basis.genuineKeys.count ? basis.genuineKeys[g] : nil
            let lowestI: UInt32? = try basis.impostorBinAbove(bin).map { b throws(MergeError) in try lowestImpostorKey(inBin: b) }
            if let p = [lowestG, lowestI].compactMap({ $0 }).min() {
                previous = (p, basis.above[bin], genuineFailures + basis.genuineBelow(key: p))
            }
        }
        var walk = MergedWalker(self, throughBin: bin)
        while let q = try walk.next() {
            let px = Double(previous.fa) / nI, py = Double(previous.fr) / nG
            let x = Double(q.fa) / nI, y = Double(q.fr) / nG
            let pd = px - py, d = x - y
            if pd < 0 && d >= 0 {
                let s = -pd / (d - pd)
                let value = px + s * (x - px)
                let lhs = (previous.fr + q.fr).multipliedFullWidth(by: impostorCount)
                let rhs = (previous.fa + q.fa).multipliedFullWidth(by: genuineCount)
                return EqualErrorRate(value: value, threshold: reported(lhs <= rhs ? previous.key : q.key))
            }
            previous = q
        }
        return nil
    }

    /// The first point of the walk and the point at every distinct genuine score, descending:
    /// the only points where the false-reject count changes.
    func genuinePoints(_ body: (_ key: UInt32, _ index: Int, _ fa: Int, _ fr: Int) -> Void) {
        let keys = basis.distinctKeys
        for j in stride(from: keys.count - 1, through: 0, by: -1) {
            body(keys[j], j, m - lessThanGenuine[j], genuineFailures + basis.genuineKeys.lowerBound(keys[j]))
        }
    }

    /// `SortedScores.rocchEER` on the merged scores.
    func rocchEER() throws(MergeError) -> Double {
        let nI = Double(impostorCount), nG = Double(genuineCount)
        var hull: [(x: Double, y: Double)] = [(0, 1)]
        var all = MergedWalker(self)
        var lastFR = -1
        if let first = try all.next() {
            lastFR = first.fr
            addToLowerHull((Double(first.fa) / nI, Double(first.fr) / nG), &hull)
        }
        genuinePoints { _, _, fa, fr in
            if fr == lastFR { return }
            lastFR = fr
            addToLowerHull((Double(fa) / nI, Double(fr) / nG), &hull)
        }
        addToLowerHull((1, 0), &hull)
        return polylineEER(hull) ?? 0
    }

    /// `SortedScores.rocAUC` on the merged scores (exact integer counts).
    func rocAUC() -> Double {
        let negInfImpostors = impostorFailures + basis.impostor.negativeInfinities
        var twiceWins = UInt64(genuineFailures) &* UInt64(negInfImpostors)
        let negInf = scoreKey(-.infinity)
        var upper = basis.genuineKeys.count
        for j in stride(from: basis.distinctKeys.count - 1, through: 0, by: -1) {
            let key = basis.distinctKeys[j]
            let lower = basis.genuineKeys.lowerBound(key)
            let run = upper - lower
            upper = lower
            let below: Int, ties: Int
            if key == negInf { below = 0; ties = negInfImpostors } else { below = impostorFailures + lessThanGenuine[j]; ties = equalToGenuine[j] }
            twiceWins &+= UInt64(run) &* UInt64(2 * below + ties)
        }
        return Double(twiceWins) / (2.0 * Double(genuineCount) * Double(impostorCount))
    }

    /// `SortedScores.averagePrecision` on the merged scores.
    func averagePrecision() -> Double {
        let nG = genuineCount, nI = impostorCount
        var ap = 0.0
        var previousTP = 0
        let negInf = scoreKey(-.infinity)
        for j in stride(from: basis.distinctKeys.count - 1, through: 0, by: -1) {
            let key = basis.distinctKeys[j]
            if key == negInf { break }
            let tp = basis.genuineKeys.count - basis.genuineKeys.lowerBound(key), fp = m - lessThanGenuine[j]
            ap += Double(tp - previousTP) / Double(nG) * (Double(tp) / Double(tp + fp))
            previousTP = tp
        }
        if previousTP < nG {
            ap += Double(nG - previousTP) / Double(nG) * (Double(nG) / Double(nG + nI))
        }
        return ap
    }

    /// `SortedScores.partialAUC` on the merged scores.
    func partialAUC(maxFAR a: Double) throws(MergeError) -> Double {
        var walk = MergedWalker(self)
        return try partialAreaUnderROC(maxFAR: a, impostors: impostorCount, genuines: genuineCount) { () throws(MergeError) in
            try walk.next().map { (fa: $0.fa, fr: $0.fr) }
        }
    }

    /// A similarity-scale threshold key as reported (merged scores are similarities).
    func reported(_ key: UInt32) -> Double { Double(scoreValue(key)) + 0 }
}
