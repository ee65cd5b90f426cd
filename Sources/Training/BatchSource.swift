import ScoreMetrics

/// A training batch: inputs `[N, ...]` and one identity label per row (reused between steps).
public struct Batch {
    /// The inputs (raw pixel values as Float, or features).
    public let inputs: Tensor
    /// Dense identity labels, one per input row.
    public var labels: [Int32]

    /// An empty batch.
    public init() {
        inputs = Tensor()
        labels = []
    }
}

/// Something that fills batches; the data layer plugs in here.
public protocol BatchSource {
    /// The shape of one sample (e.g. `[1, 32, 32]`).
    var sampleShape: Shape { get }
    /// Fills `batch` with the next batch, reusing its storage.
    mutating func next(into batch: inout Batch)
    /// The source's position and generator state, for checkpoints.
    var state: [UInt64] { get }
    /// Continues from a saved `state`.
    mutating func restore(_ state: [UInt64]) throws(TrainingError)
}

/// Identity-labelled uint8 images held in memory (`[N, H, W]`, single channel).
public struct ImageSet: Sendable {
    /// `count * height * width` pixels, row-major.
    public let pixels: [UInt8]
    /// Identity label of each image, as given.
    public let labels: [Int32]
    /// Image height.
    public let height: Int
    /// Image width.
    public let width: Int
    /// The distinct labels, sorted; dense class `c` is `identities[c]`.
    public let identities: [Int32]
    /// Dense class index of each image (`0..<identities.count`).
    public let classes: [Int32]

    /// Wraps images and labels; fails on a size mismatch or fewer than two identities.
    public init(pixels: [UInt8], labels: [Int32], height: Int = 32, width: Int = 32) throws(TrainingError) {
        guard height > 0, width > 0, pixels.count == labels.count * height * width else {
            throw .invalidInput("\(pixels.count) pixels do not make \(labels.count) images of \(height)x\(width)")
        }
        let ids = Array(Set(labels)).sorted()
        guard ids.count >= 2 else { throw .invalidInput("need at least two identities, found \(ids.count)") }
        var index = [Int32: Int32]()
        for (i, id) in ids.enumerated() { index[id] = Int32(i) }
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
        identities = ids
        classes = labels.map { index[$0]! }
    }

    /// Number of images.
    public var count: Int { labels.count }
    /// The sample shape `[1, H, W]`.
    public var sampleShape: Shape { Shape(1, height, width) }
}

/// P identities x K samples per batch from an `ImageSet` (labels are dense classes).
///
/// Identities are drawn uniformly without replacement within a batch; samples of an identity
/// without replacement when it has at least K, otherwise with replacement. The only state is
/// one SplitMix64 generator.
public struct PKSampler: BatchSource {
    /// The images.
    public let data: ImageSet
    /// Identities per batch (P).
    public let identitiesPerBatch: Int
    /// Samples per identity (K).
    public let samplesPerIdentity: Int
    private var rng: SeededGenerator
    private let members: [[Int]]
    private var chosen: [Int] = []
    private var picked: [Int] = []
    private var rows: [Int] = []

    /// Creates the sampler; fails when P exceeds the number of identities or P, K < 1.
    public init(data: ImageSet, identitiesPerBatch p: Int, samplesPerIdentity k: Int, seed: UInt64) throws(TrainingError) {
        guard p >= 1, k >= 1 else { throw .invalidConfiguration("P and K must be at least 1") }
        guard p <= data.identities.count else {
            throw .invalidConfiguration("P = \(p) identities per batch but the data has \(data.identities.count)")
        }
        self.data = data
        identitiesPerBatch = p
        samplesPerIdentity = k
        rng = SeededGenerator(seed: seed)
        var m = [[Int]](repeating: [], count: data.identities.count)
        for (i, c) in data.classes.enumerated() { m[Int(c)].append(i) }
        members = m
        chosen.reserveCapacity(p)
        picked.reserveCapacity(k)
        rows.reserveCapacity(p * k)
    }

    /// Images per batch (P x K).
    public var batchSize: Int { identitiesPerBatch * samplesPerIdentity }
    public var sampleShape: Shape { data.sampleShape }

    public mutating func next(into batch: inout Batch) {
        let size = data.height * data.width
        var indices = rows
        rows = []
        nextIndices(into: &indices, labels: &batch.labels)
        batch.inputs.reshape(Shape(indices.count, 1, data.height, data.width))
        let out = batch.inputs.pointer
        data.pixels.withUnsafeBufferPointer { px in
            for (r, i) in indices.enumerated() {
                let src = px.baseAddress! + i * size, dst = out + r * size
                for j in 0..<size { dst[j] = Float(src[j]) }
            }
        }
        rows = indices
    }

    public var state: [UInt64] { [rng.state] }

    public mutating func restore(_ state: [UInt64]) throws(TrainingError) {
        guard state.count == 1 else { throw .stateMismatch("PK sampler state has \(state.count) words, expected 1") }
        rng = SeededGenerator(seed: state[0])
    }
}

/// Float feature rows `[N, D]` with labels, sampled P x K (for the projection head).
public struct FeaturePKSampler: BatchSource {
    /// `count * dimension` features.
    public let features: [Float]
    /// Dense labels.
    public let classes: [Int32]
    /// Feature dimension.
    public let dimension: Int
    private var images: PKSampler

    /// Creates the sampler over features with dense class labels.
    public init(features: [Float], labels: [Int32], dimension: Int, identitiesPerBatch p: Int, samplesPerIdentity k: Int,
                seed: UInt64) throws(TrainingError) {
        guard dimension > 0, features.count == labels.count * dimension else {
            throw .invalidInput("\(features.count) features do not make \(labels.count) rows of \(dimension)")
        }
        // The index sampler is shared with images: a 1x1 "image" per row carrying its row index.
        let proxy = try ImageSet(pixels: [UInt8](repeating: 0, count: labels.count), labels: labels, height: 1, width: 1)
        images = try PKSampler(data: proxy, identitiesPerBatch: p, samplesPerIdentity: k, seed: seed)
        self.features = features
        self.classes = proxy.classes
        self.dimension = dimension
        rowOf = []
    }

    private var rowOf: [Int]

    public var sampleShape: Shape { Shape(dimension) }

    public mutating func next(into batch: inout Batch) {
        images.nextIndices(into: &rowOf, labels: &batch.labels)
        batch.inputs.reshape(Shape(rowOf.count, dimension))
        features.withUnsafeBufferPointer { f in
            for (r, i) in rowOf.enumerated() {
                (batch.inputs.pointer + r * dimension).update(from: f.baseAddress! + i * dimension, count: dimension)
            }
        }
    }

    public var state: [UInt64] { images.state }
    public mutating func restore(_ state: [UInt64]) throws(TrainingError) { try images.restore(state) }
}

extension PKSampler {
    /// Draws the next batch's sample indices and labels without copying pixels.
    mutating func nextIndices(into rows: inout [Int], labels: inout [Int32]) {
        rows.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        chosen.removeAll(keepingCapacity: true)
        while chosen.count < identitiesPerBatch {
            let c = rng.below(members.count)
            if !chosen.contains(c) { chosen.append(c) }
        }
        for c in chosen {
            let list = members[c]
            picked.removeAll(keepingCapacity: true)
            while picked.count < samplesPerIdentity {
                let i = list[rng.below(list.count)]
                if list.count < samplesPerIdentity || !picked.contains(i) { picked.append(i) }
            }
            for i in picked { rows.append(i); labels.append(Int32(c)) }
        }
    }
}
