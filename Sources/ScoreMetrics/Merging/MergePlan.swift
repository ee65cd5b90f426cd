import AlaverifyBase

/// What a first pass over every part of a system's comparisons knows exactly: each genuine
/// score, the impostor scores counted per radix bin, and the identity counts the subject rules
/// need. Parts (shards) add up: genuine scores concatenate, histograms add.
public struct FirstPass: Sendable {
    /// Every genuine score (NaN: a failed comparison), in any order.
    public var genuine: [Float]
    /// The identity of each genuine comparison, aligned with `genuine`, when identities are known.
    public var genuineSubjects: [Int32]?
    /// The impostor scores, binned.
    public var impostor: RadixHistogram
    /// Distinct unordered identity pairs among the impostor comparisons (failures included),
    /// when identities are known.
    public var impostorIdentityPairs: Int?
    /// When every identity lies in `0..<identityBound`, false-accept identity pairs are counted
    /// in bitmaps (faster) up to 8,192 identities.
    public var identityBound: Int?

    /// Creates a first-pass record.
    public init(
        genuine: [Float], genuineSubjects: [Int32]?, impostor: RadixHistogram, impostorIdentityPairs: Int?,
        identityBound: Int? = nil
    ) {
        self.genuine = genuine
        self.genuineSubjects = genuineSubjects
        self.impostor = impostor
        self.impostorIdentityPairs = impostorIdentityPairs
        self.identityBound = identityBound
    }
}

/// A merge that cannot be done: the request cannot be served from summaries (exit 64), or the
/// summaries cannot give it exactly (exit 65).
public struct MergeError: AlaverifyError, Sendable, Equatable {
    /// What is wrong and what to do.
    public var message: String
    /// The exit status.
    public var exitStatus: ExitStatus

    /// Creates an error.
    public init(_ message: String, status: ExitStatus) {
        self.message = message
        self.exitStatus = status
    }

    public var description: String { message }
}

/// The exact facts of a first pass in the order the metrics need them: sorted genuine scores,
/// their distinct keys, and impostor counts at every bin edge.
struct MergeBasis: Sendable {
    /// Non-NaN genuine scores ascending, `-0` as `+0`.
    let genuine: [Float]
    /// Their keys (same order).
    let genuineKeys: [UInt32]
    /// Distinct genuine keys ascending.
    let distinctKeys: [UInt32]
    /// For bin b, the distinct genuine keys of the bin are `distinctKeys[binStart[b]..<binStart[b+1]]`.
    let binStart: [Int32]
    let genuineFailures: Int
    let impostor: RadixHistogram
    /// Non-NaN impostor scores with a key in a bin above b, for each b.
    let above: [Int]
    /// Non-NaN impostor scores.
    let impostorScores: Int
    let genuineSubjects: Int?
    let impostorIdentityPairs: Int?
    let identityBound: Int?

    var genuineCount: Int { genuine.count + genuineFailures }
    var impostorCount: Int { impostorScores + impostor.failures }
    var hasIdentities: Bool { genuineSubjects != nil && impostorIdentityPairs != nil }

    init(_ pass: FirstPass) {
        var keys = [UInt32]()
        keys.reserveCapacity(pass.genuine.count)
        for x in pass.genuine where !x.isNaN { keys.append(scoreKey(x)) }
        genuineFailures = pass.genuine.count - keys.count
        keys.withUnsafeMutableBufferPointer { k in
            let scratch = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(1, k.count))
            defer { scratch.deallocate() }
            Radix.sortKeys(k, shift: 24, scratch: scratch)
        }
        genuineKeys = keys
        genuine = keys.map(scoreValue)
        var distinct = [UInt32]()
        for k in keys where distinct.last != k { distinct.append(k) }
        distinctKeys = distinct
        var start = [Int32](repeating: 0, count: RadixHistogram.binCount + 1)
        for k in distinct { start[Int(k >> 16) + 1] += 1 }
        for b in 0..<RadixHistogram.binCount { start[b + 1] += start[b] }
        binStart = start
        impostor = pass.impostor
        var above = [Int](repeating: 0, count: RadixHistogram.binCount)
        var running = 0
        for b in stride(from: RadixHistogram.binCount - 1, through: 0, by: -1) {
            above[b] = running
            running += Int(pass.impostor.counts[b])
        }
        self.above = above
        impostorScores = running
        if let subjects = pass.genuineSubjects, pass.impostorIdentityPairs != nil {
            var ids = subjects.map { UInt64(UInt32(bitPattern: $0)) }
            genuineSubjects = distinctCount(&ids)
        } else {
            genuineSubjects = nil
        }
        impostorIdentityPairs = pass.impostorIdentityPairs
        identityBound = pass.identityBound
    }

    /// Impostor scores with a key `>=` the lowest key of bin b.
    @inline(__always) func impostorsFromBin(_ b: Int) -> Int { above[b] + Int(impostor.counts[b]) }

    /// The bin holding the impostor score of rank r from the top (1-based), r in 1...impostorScores.
    func binOfRank(_ r: Int) -> Int {
        var lo = 0, hi = RadixHistogram.binCount - 1
        // The largest b with impostorsFromBin(b) >= r (impostorsFromBin falls as b grows).
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if impostorsFromBin(mid) >= r { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The nearest bin above b holding an impostor score, if any.
    func impostorBinAbove(_ b: Int) -> Int? {
        var c = b + 1
        while c < RadixHistogram.binCount { if impostor.counts[c] > 0 { return c }; c += 1 }
        return nil
    }

    /// The bin holding the first point of the walk (descending thresholds) with FAR - FRR >= 0,
    /// found from the exact counts at bin edges (FAR - FRR only grows along the walk).
    func crossingBin() -> Int? {
        let nI = Double(impostorCount), nG = Double(genuineCount)
        var b = RadixHistogram.binCount - 1
        while b >= 0 {
            let fr = genuineFailures + genuineBelow(key: UInt32(b) << 16)
            if Double(impostorsFromBin(b)) / nI - Double(fr) / nG >= 0 { return b }
            b -= 1
        }
        return nil
    }

    /// The lowest bin holding an impostor score, if any.
    var lowestImpostorBin: Int? { impostor.counts.firstIndex { $0 > 0 } }

    /// Genuine scores (non-NaN) with a key below `key`.
    @inline(__always) func genuineBelow(key: UInt32) -> Int { genuineKeys.lowerBound(key) }
}

/// An identity-pair count the refinement collects: the distinct unordered pairs among impostor
/// scores with a key `>= fromKey`, plus, for `listBin`, each score of that bin with its pair (the
/// threshold inside the bin is known only after the refinement).
struct PairQuery: Sendable, Hashable {
    var fromKey: UInt64
    var listBin: Int?
}

/// What a second pass must count so that every requested metric is exact: impostor counts at
/// every distinct genuine score, per-key counts in the bins that hold a threshold (or the EER
/// crossing, or a partial AUC's range), and identity pairs above thresholds.
public struct MergePlan: Sendable {
    let basis: MergeBasis
    /// Bins counted key by key, ascending.
    let refinedBins: [Int]
    /// Identity-pair counts to collect.
    let pairQueries: [PairQuery]
    /// The options the plan was made for.
    public let options: EvaluationOptions

    /// At most this many bins are counted key by key (512 KiB each per worker).
    public static let maxRefinedBins = 256

    /// Plans the second pass for `options`.
    public init(_ pass: FirstPass, options: EvaluationOptions) throws(MergeError) {
        let basis = MergeBasis(pass)
        guard basis.genuineCount > 0 else { throw MergeError("no genuine scores", status: .dataError) }
        guard basis.impostorCount > 0 else { throw MergeError("no impostor scores", status: .dataError) }
        if options.interval == .bootstrap {
            throw MergeError(
                "the subject bootstrap needs every comparison's identities, which shard summaries do not keep; use --ci conservative, wilson or none",
                status: .usage)
        }
        var bins = Set<Int>()
        var queries = [PairQuery]()
        let identities = basis.hasIdentities
        func refineRank(_ a: Double, pairs: Bool) {
            let K = allowedCount(a, basis.impostorCount)
            if K + 1 > basis.impostorScores {
                if let low = basis.lowestImpostorBin { bins.insert(low) }
                if pairs { queries.append(PairQuery(fromKey: 0, listBin: nil)) }
                return
            }
            let b = basis.binOfRank(K + 1)
            bins.insert(b)
            if let up = basis.impostorBinAbove(b) { bins.insert(up) }
            if pairs { queries.append(PairQuery(fromKey: UInt64(b + 1) << 16, listBin: b)) }
        }
        let intervals = resolvedInterval(options.interval, identities: identities)
        for metric in options.metrics {
            switch metric {
            case .frrAtFAR(let a):
                refineRank(a, pairs: identities)
                if intervals == .conservative {
                    let units = basis.impostorIdentityPairs ?? basis.impostorCount
                    let range = conservativeRateRange(a, units: units, level: options.level)
                    refineRank(range.lower, pairs: false)
                    refineRank(range.upper, pairs: false)
                }
            case .farAtFRR(let b):
                let allowed = allowedCount(b, basis.genuineCount) - basis.genuineFailures
                if identities, allowed >= 0, allowed < basis.genuine.count {
                    queries.append(PairQuery(fromKey: UInt64(basis.genuineKeys[allowed]), listBin: nil))
                }
            case .partialAUC(let a):
                bins.formUnion(Self.tailBins(basis, reaching: a))
            default:
                break
            }
        }
        if options.curveMetrics { bins.formUnion(Self.crossingBins(basis)) }
        guard bins.count <= Self.maxRefinedBins else {
            throw MergeError(
                "the requested metrics need \(bins.count) radix bins counted key by key, more than the \(Self.maxRefinedBins) a merge counts; ask for smaller pauc@far ranges",
                status: .usage)
        }
        self.basis = basis
        refinedBins = bins.sorted()
        pairQueries = Array(Set(queries)).sorted { ($0.fromKey, $0.listBin ?? -1) < ($1.fromKey, $1.listBin ?? -1) }
        self.options = options
    }

    /// The bins from the top down to the one where FAR first reaches `a` (every bin when it
    /// never does), those holding impostor scores: a partial AUC sums over every point there.
    static func tailBins(_ basis: MergeBasis, reaching a: Double) -> [Int] {
        let nI = Double(basis.impostorCount)
        var out = [Int]()
        var b = RadixHistogram.binCount - 1
        while b >= 0 {
            if basis.impostor.counts[b] > 0 { out.append(b) }
            if Double(basis.impostorsFromBin(b)) / nI >= a { break }
            b -= 1
        }
        return out
    }

    /// The bin of the EER crossing (`MergeBasis.crossingBin`) and the nearest bin above it with an
    /// impostor score (the crossing's predecessor may lie there), those holding impostor scores.
    static func crossingBins(_ basis: MergeBasis) -> [Int] {
        guard let b = basis.crossingBin() else { return [] }
        var out = [Int]()
        if basis.impostor.counts[b] > 0 { out.append(b) }
        if let up = basis.impostorBinAbove(b) { out.append(up) }
        return out
    }
}

/// The interval method a request resolves to on merged scores: `auto` is the conservative
/// interval when identities are known (the subject bootstrap is not available), else Wilson.
func resolvedInterval(_ method: IntervalMethod, identities: Bool) -> IntervalMethod {
    method == .auto ? (identities ? .conservative : .wilson) : method
}
