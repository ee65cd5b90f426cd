extension MergedScores {
    /// The DET curve through its corners: the first point, then for every distinct genuine
    /// score v (descending) the end of the run of impostor-only points above v (FR unchanged) and
    /// the point at v. Between corners the exact curve is a straight run, so a plot of these
    /// points is the plot of the full curve; counts are exact. A corner that ends a run carries
    /// the threshold v (its own is an impostor score just above v, which plots do not read).
    /// - Complexity: O(g log g) for g genuine scores.
    public func cornerCurve() throws(MergeError) -> DETCurve {
        var walk = MergedWalker(self)
        guard let first = try walk.next() else {
            return DETCurve(points: [], genuineCount: genuineCount, impostorCount: impostorCount)
        }
        var points = [CurvePoint(threshold: reported(first.key), falseAccepts: first.fa, falseRejects: first.fr)]
        var lastFA = first.fa, lastFR = first.fr
        genuinePoints { key, j, fa, fr in
            guard key != first.key else { return }
            let above = fa - equalToGenuine[j]
            if above > lastFA {
                points.append(CurvePoint(threshold: reported(key), falseAccepts: above, falseRejects: lastFR))
            }
            points.append(CurvePoint(threshold: reported(key), falseAccepts: fa, falseRejects: fr))
            lastFA = fa
            lastFR = fr
        }
        if m > lastFA {
            let lowest = basis.lowestImpostorBin.map { Double(scoreValue(UInt32($0) << 16)) } ?? -.infinity
            points.append(CurvePoint(threshold: lowest, falseAccepts: m, falseRejects: lastFR))
        }
        return DETCurve(points: points, genuineCount: genuineCount, impostorCount: impostorCount)
    }

    /// The score histogram of `SortedScores.histogram`, with genuine counts exact and impostor
    /// counts at the resolution of the radix bins: each radix bin's scores (a bin is 1/128 of its
    /// values' magnitude wide) are spread evenly over its range, rounded to whole counts, and the
    /// impostor quantiles that set the range are bin edges.
    /// - Complexity: O(65,536 + bins log g).
    public func histogram(bins: Int = 100, including: [Double] = []) -> ScoreHistogram {
        let counts = basis.impostor.counts
        let negInf = Int(scoreKey(-.infinity) >> 16), posInf = Int(scoreKey(.infinity) >> 16)
        let finiteImpostors = m - basis.impostor.negativeInfinities - basis.impostor.positiveInfinities
        /// The lower edge of the radix bin holding the q-quantile of the finite impostor scores.
        func impostorQuantile(_ q: Double) -> Double? {
            guard finiteImpostors > 0 else { return nil }
            let rank = Int((Double(finiteImpostors - 1) * q).rounded())
            var below = 0
            for b in (negInf + 1)..<posInf {
                below += Int(counts[b])
                if below > rank { return Double(scoreValue(UInt32(b) << 16)) }
            }
            return nil
        }
        func genuineQuantile(_ q: Double) -> Double? {
            let lo = genuine.upperBound(-.infinity), hi = genuine.lowerBound(.infinity)
            guard hi > lo else { return nil }
            return Double(genuine[lo + Int((Double(hi - lo - 1) * q).rounded())])
        }
        let lows = [genuineQuantile(0.001), impostorQuantile(0.001)].compactMap { $0 }
        let highs = [genuineQuantile(0.999), impostorQuantile(0.999)].compactMap { $0 }
        let (lo, hi) = histogramRange(lows: lows, highs: highs, including: including.filter(\.isFinite))
        let n = max(bins, 1)
        let edges = (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
        var genuineBins = [Int](repeating: 0, count: n)
        var cut = edges.map { genuine.lowerBound(Float($0)) }
        cut[0] = 0
        cut[n] = genuine.count
        for k in 0..<n { genuineBins[k] = cut[k + 1] - cut[k] }
        var clamped = genuine.lowerBound(Float(edges[0])) + (genuine.count - genuine.lowerBound(Float(edges[n])))
        // Each radix bin's scores spread evenly over its value range (the plot bins it overlaps).
        var shares = [Double](repeating: 0, count: n)
        for b in 0..<RadixHistogram.binCount where counts[b] > 0 {
            let c = Double(counts[b])
            let x0 = b == negInf ? -Double.infinity : Double(scoreValue(UInt32(b) << 16))
            let x1 = b == negInf || b >= posInf - 1 ? x0 : Double(scoreValue(UInt32(b + 1) << 16))
            if x0 < lo || x1 > hi { clamped += Int(counts[b]) }
            func index(_ x: Double) -> Int {
                let position = (x - lo) / (hi - lo) * Double(n)
                return position.isFinite ? min(n - 1, max(0, Int(position.rounded(.down)))) : (x < 0 ? 0 : n - 1)
            }
            let first = index(x0), last = index(x1)
            if first == last || !(x1 > x0) || !x0.isFinite || !x1.isFinite {
                shares[first] += c
                continue
            }
            for k in first...last {
                let overlap = min(x1, edges[k + 1]) - max(x0, edges[k])
                shares[k] += c * max(0, overlap) / (x1 - x0)
            }
        }
        let impostorBins = shares.map { Int($0.rounded()) }
        return ScoreHistogram(
            lower: lo, upper: hi, genuine: genuineBins, impostor: impostorBins, genuineTotal: genuine.count,
            impostorTotal: m, clamped: clamped)
    }
}
