import AlaverifyBase
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
    /// Fills `batch` with the next batch, reusing its storage; throws when the data layer cannot
    /// produce it (a streamed batch whose read failed).
    mutating func next(into batch: inout Batch) throws
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
        let dense = try DenseLabels(labels)
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
        identities = dense.identities
        classes = dense.classes
    }

    /// Number of images.
    public var count: Int { labels.count }
    /// The sample shape `[1, H, W]`.
    public var sampleShape: Shape { Shape(1, height, width) }
}

/// Identity labels mapped to dense classes: the distinct labels sorted, class `c` is `identities[c]`.
public struct DenseLabels: Sendable, Equatable {
    /// The distinct labels, sorted.
    public let identities: [Int32]
    /// Dense class index of each label (`0..<identities.count`).
    public let classes: [Int32]

    /// Maps `labels`; fails with fewer than two distinct labels.
    public init(_ labels: [Int32]) throws(TrainingError) {
        let ids = Array(Set(labels)).sorted()
        guard ids.count >= 2 else { throw .invalidInput("need at least two identities, found \(ids.count)") }
        var index = [Int32: Int32]()
        for (i, id) in ids.enumerated() { index[id] = Int32(i) }
        identities = ids
        classes = labels.map { index[$0]! }
    }
}

/// The index half of a batch sampler: which rows (and dense labels) make the next batch, with a
/// state that restores the position exactly. In-memory and streamed batch sources draw through
/// it, so both give the same batches.
public protocol BatchIndexSampling: Sendable {
    /// Rows per batch.
    var batchSize: Int { get }
    /// Draws the next batch's rows and their dense labels.
    mutating func next(rows: inout [Int], labels: inout [Int32])
    /// The sampler's position.
    var state: [UInt64] { get }
    /// Continues from a saved `state`.
    mutating func restore(_ state: [UInt64]) throws(TrainingError)
}

/// The index half of P x K sampling: which rows (and dense labels) make the next batch.
///
/// Identities are drawn uniformly without replacement within a batch; samples of an identity
/// without replacement when it has at least K, otherwise with replacement. The only state is
/// one SplitMix64 generator, so two samplers with the same classes and state draw the same rows
/// whether the pixels sit in memory (`PKSampler`) or are read per batch from a file.
public struct PKIndexSampler: BatchIndexSampling {
    /// Identities per batch (P).
    public let identitiesPerBatch: Int
    /// Samples per identity (K).
    public let samplesPerIdentity: Int
    private var rng: SeededGenerator
    private let members: [[Int]]
    private var chosen: [Int] = []
    private var picked: [Int] = []

    /// A sampler over rows with dense classes `classes` (`0..<classCount`); fails when P exceeds
    /// the number of classes or P, K < 1.
    public init(classes: [Int32], classCount: Int, identitiesPerBatch p: Int, samplesPerIdentity k: Int, seed: UInt64) throws(TrainingError) {
        guard p >= 1, k >= 1 else { throw .invalidConfiguration("P and K must be at least 1") }
        guard p <= classCount else {
            throw .invalidConfiguration("P = \(p) identities per batch but the data has \(classCount)")
        }
        var m = [[Int]](repeating: [], count: classCount)
        for (i, c) in classes.enumerated() {
            guard c >= 0 && Int(c) < classCount else { throw .invalidInput("class \(c) of row \(i) is outside 0..<\(classCount)") }
            m[Int(c)].append(i)
        }
        guard m.allSatisfy({ !$0.isEmpty }) else { throw .invalidInput("every class in 0..<\(classCount) needs a row") }
        identitiesPerBatch = p
        samplesPerIdentity = k
        rng = SeededGenerator(seed: seed)
        members = m
        chosen.reserveCapacity(p)
        picked.reserveCapacity(k)
    }

    /// Rows per batch (P x K).
    public var batchSize: Int { identitiesPerBatch * samplesPerIdentity }

    /// Draws the next batch's rows and their dense labels, identity by identity.
    public mutating func next(rows: inout [Int], labels: inout [Int32]) {
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

    /// The generator state (the sampler's whole position).
    public var state: [UInt64] { [rng.state] }

    /// Continues from a saved `state`.
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
    private var indices: PKIndexSampler

    /// Creates the sampler over features with dense class labels.
    public init(features: [Float], labels: [Int32], dimension: Int, identitiesPerBatch p: Int, samplesPerIdentity k: Int,
                seed: UInt64) throws(TrainingError) {
        guard dimension > 0, features.count == labels.count * dimension else {
            throw .invalidInput("\(features.count) features do not make \(labels.count) rows of \(dimension)")
        }
        let dense = try DenseLabels(labels)
        indices = try PKIndexSampler(
            classes: dense.classes, classCount: dense.identities.count, identitiesPerBatch: p, samplesPerIdentity: k, seed: seed)
        self.features = features
        self.classes = dense.classes
        self.dimension = dimension
        rowOf = []
    }

    private var rowOf: [Int]

    public var sampleShape: Shape { Shape(dimension) }

    public mutating func next(into batch: inout Batch) {
        indices.next(rows: &rowOf, labels: &batch.labels)
        batch.inputs.reshape(Shape(rowOf.count, dimension))
        features.withUnsafeBufferPointer { f in
            for (r, i) in rowOf.enumerated() {
                (batch.inputs.pointer + r * dimension).update(from: f.baseAddress! + i * dimension, count: dimension)
            }
        }
    }

    public var state: [UInt64] { indices.state }
    public mutating func restore(_ state: [UInt64]) throws(TrainingError) { try indices.restore(state) }
}

/// The index half of shuffled-epoch batching: every row once per epoch in a seeded random order,
/// `batchSize` rows at a time (a last partial batch of an epoch is dropped), for losses that need
/// no pairs in a batch (a margin softmax). Epoch e's order is a Fisher-Yates shuffle drawn from
/// stream e of the seed, so the state is just (seed, epoch, position).
public struct ShuffledIndexSampler: BatchIndexSampling {
    /// Rows per batch.
    public let batchSize: Int
    private let classes: [Int32]
    private let seed: UInt64
    private var order: [Int]
    private var epoch: UInt64 = 0
    private var position = 0

    /// A sampler over rows with dense classes `classes`; fails when there are fewer rows than a batch.
    public init(classes: [Int32], batchSize: Int, seed: UInt64) throws(TrainingError) {
        guard batchSize >= 1 else { throw .invalidConfiguration("the batch size must be at least 1") }
        guard classes.count >= batchSize else {
            throw .invalidConfiguration("a batch of \(batchSize) rows but the data has \(classes.count)")
        }
        self.batchSize = batchSize
        self.classes = classes
        self.seed = seed
        order = Array(0..<classes.count)
        shuffle()
    }

    /// Builds the current epoch's order.
    private mutating func shuffle() {
        var rng = SeededGenerator(seed: seed, stream: epoch)
        for i in order.indices { order[i] = i }
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
    }

    /// Draws the next batch's rows and their dense labels.
    public mutating func next(rows: inout [Int], labels: inout [Int32]) {
        if position + batchSize > order.count {
            epoch += 1
            position = 0
            shuffle()
        }
        rows.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        for i in order[position..<(position + batchSize)] {
            rows.append(i)
            labels.append(classes[i])
        }
        position += batchSize
    }

    /// The seed, the epoch and the position in it.
    public var state: [UInt64] { [seed, epoch, UInt64(position)] }

    /// Continues from a saved `state` (of a sampler over the same rows).
    public mutating func restore(_ state: [UInt64]) throws(TrainingError) {
        guard state.count == 3, state[0] == seed, state[2] <= UInt64(order.count) else {
            throw .stateMismatch("shuffled sampler state \(state) does not fit this sampler (seed \(seed), \(order.count) rows)")
        }
        position = Int(state[2])
        if state[1] != epoch {
            epoch = state[1]
            shuffle()
        }
    }
}

extension ImageSet {
    /// Copies images `rows` as Float pixel values into `inputs` `[rows.count, 1, H, W]`.
    public func copyRows(_ rows: [Int], into inputs: Tensor) {
        let size = height * width
        inputs.reshape(Shape(rows.count, 1, height, width))
        let out = inputs.pointer
        pixels.withUnsafeBufferPointer { px in
            for (r, i) in rows.enumerated() {
                let src = px.baseAddress! + i * size, dst = out + r * size
                for j in 0..<size { dst[j] = Float(src[j]) }
            }
        }
    }
}

/// One child's share of a population's batch: the wrapped sampler draws the whole batch and
/// this keeps part `part` of `parts` (in whole groups of `group` rows, so a P x K batch is cut
/// between identities). The children of a population together train on every row of every
/// batch, each on its own rows.
public struct BatchShare: BatchIndexSampling {
    /// The sampler of whole batches.
    public private(set) var whole: any BatchIndexSampling
    /// This child's index and the number of children.
    public let part: Int, parts: Int
    /// Rows that stay together (K of a P x K batch, 1 for shuffled rows).
    public let group: Int
    private var wholeRows: [Int] = []
    private var wholeLabels: [Int32] = []

    /// Part `part` of `parts` of the batches `whole` draws; fails when a batch has fewer groups than parts.
    public init(_ whole: any BatchIndexSampling, part: Int, parts: Int, group: Int = 1) throws(TrainingError) {
        guard parts >= 1, (0..<parts).contains(part), group >= 1 else {
            throw .invalidConfiguration("share \(part) of \(parts) (groups of \(group)) is not a share")
        }
        guard whole.batchSize % group == 0, whole.batchSize / group >= parts else {
            throw .invalidConfiguration("a batch of \(whole.batchSize) rows in groups of \(group) cannot be shared by \(parts) children")
        }
        self.whole = whole
        self.part = part
        self.parts = parts
        self.group = group
    }

    /// Rows of the largest share.
    public var batchSize: Int { (whole.batchSize / group + parts - 1) / parts * group }

    /// The rows of this share of the next whole batch.
    public mutating func next(rows: inout [Int], labels: inout [Int32]) {
        whole.next(rows: &wholeRows, labels: &wholeLabels)
        let groups = wholeRows.count / group
        let lo = groups * part / parts * group, hi = groups * (part + 1) / parts * group
        rows.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        rows.append(contentsOf: wholeRows[lo..<hi])
        labels.append(contentsOf: wholeLabels[lo..<hi])
    }

    /// The whole sampler's state.
    public var state: [UInt64] { whole.state }

    /// Continues from a saved `state`.
    public mutating func restore(_ state: [UInt64]) throws(TrainingError) { try whole.restore(state) }
}

/// Batches of images held in memory at the rows an index sampler draws (labels are dense
/// classes): `PKSampler`, `ShuffledSampler`, or a child's `BatchShare`.
public struct IndexedBatches<Indices: BatchIndexSampling>: BatchSource {
    /// The images.
    public let data: ImageSet
    private var indices: Indices
    private var rows: [Int] = []

    /// Batches of `data` at the rows `indices` draws.
    public init(data: ImageSet, indices: Indices) {
        self.data = data
        self.indices = indices
        rows.reserveCapacity(indices.batchSize)
    }

    /// Images per batch.
    public var batchSize: Int { indices.batchSize }
    public var sampleShape: Shape { data.sampleShape }

    public mutating func next(into batch: inout Batch) {
        indices.next(rows: &rows, labels: &batch.labels)
        data.copyRows(rows, into: batch.inputs)
    }

    public var state: [UInt64] { indices.state }

    public mutating func restore(_ state: [UInt64]) throws(TrainingError) { try indices.restore(state) }
}

/// P identities x K samples per batch from an `ImageSet`, drawn by a `PKIndexSampler`.
public typealias PKSampler = IndexedBatches<PKIndexSampler>

extension IndexedBatches where Indices == PKIndexSampler {
    /// Creates the sampler; fails when P exceeds the number of identities or P, K < 1.
    public init(data: ImageSet, identitiesPerBatch p: Int, samplesPerIdentity k: Int, seed: UInt64) throws(TrainingError) {
        self.init(data: data, indices: try PKIndexSampler(
            classes: data.classes, classCount: data.identities.count, identitiesPerBatch: p, samplesPerIdentity: k, seed: seed))
    }

    /// Identities per batch (P).
    public var identitiesPerBatch: Int { indices.identitiesPerBatch }
    /// Samples per identity (K).
    public var samplesPerIdentity: Int { indices.samplesPerIdentity }
}

/// Shuffled-epoch batches of `batchSize` images from an `ImageSet`, drawn by a `ShuffledIndexSampler`.
public typealias ShuffledSampler = IndexedBatches<ShuffledIndexSampler>

extension IndexedBatches where Indices == ShuffledIndexSampler {
    /// Creates the sampler; fails when the data has fewer images than a batch.
    public init(data: ImageSet, batchSize: Int, seed: UInt64) throws(TrainingError) {
        self.init(data: data, indices: try ShuffledIndexSampler(classes: data.classes, batchSize: batchSize, seed: seed))
    }
}
