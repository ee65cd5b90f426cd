import AlaverifyBase
import ScoreMetrics

/// The nonlinearity used between layers of the embedding networks.
public enum Activation: String, Sendable, CaseIterable {
    case relu, gelu

    func make() -> any Layer { self == .relu ? ReLU() : GELU() }
}

/// A network mapping samples of a fixed shape to unit-norm embeddings.
///
/// A class because it owns its layers (and their buffers).
public final class EmbeddingNetwork {
    /// A human-readable architecture string; checkpoints from another architecture are refused.
    public let architecture: String
    /// The shape of one sample (`[C, H, W]` as a rank-3 shape or `[D]`).
    public let sampleShape: Shape
    /// The embedding dimension.
    public let embeddingSize: Int
    /// The layers, ending with `L2Normalize`.
    public let body: Sequential

    /// Wraps `body`; fails when it does not map `sampleShape` to `[N, embeddingSize]`.
    public init(architecture: String, sampleShape: Shape, body: Sequential) throws(TrainingError) {
        let probe = EmbeddingNetwork.batchShape(sampleShape, batch: 2)
        guard let out = body.outputShape(for: probe), out.rank == 2, out.n == 2 else {
            throw .invalidConfiguration("\(architecture) cannot take samples of shape \(sampleShape)")
        }
        self.architecture = architecture
        self.sampleShape = sampleShape
        self.embeddingSize = out.c
        self.body = body
    }

    /// The batch shape for `batch` samples.
    public static func batchShape(_ sample: Shape, batch: Int) -> Shape {
        switch sample.rank {
        case 1: return Shape(batch, sample.n)
        case 2: return Shape(batch, 1, sample.n, sample.c)
        default: return Shape(batch, sample.n, sample.c, sample.h)
        }
    }

    /// Embeddings `[N, E]` of a batch (valid until the next forward).
    public func forward(_ input: Tensor, _ context: inout ForwardContext) -> Tensor { body.forward(input, &context) }

    /// Back-propagates the loss gradient with respect to the embeddings.
    public func backward(_ embeddingGradient: Tensor) { body.backwardParameters(embeddingGradient) }

    /// The trainable parameters in checkpoint order.
    public var parameters: [Parameter] { body.parameters }

    /// Non-trainable checkpoint state (running statistics).
    public var buffers: [(name: String, tensor: Tensor)] { body.buffers }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Embeds `count` uint8 samples stored contiguously in `samples`, in inference mode.
    /// - Returns: `count * embeddingSize` values, row-major.
    public func embed(_ samples: UnsafeBufferPointer<UInt8>, count: Int, batchSize: Int = 256) -> [Float] {
        let size = sampleShape.count
        precondition(samples.count >= count * size, "\(samples.count) bytes for \(count) samples of \(sampleShape)")
        var result = [Float](repeating: 0, count: count * embeddingSize)
        let input = Tensor()
        var ctx = ForwardContext(training: false)
        var start = 0
        while start < count {
            let n = min(batchSize, count - start)
            input.reshape(EmbeddingNetwork.batchShape(sampleShape, batch: n))
            let src = samples.baseAddress! + start * size
            for i in 0..<(n * size) { input[i] = Float(src[i]) }
            let e = forward(input, &ctx)
            result.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + start * embeddingSize).update(from: e.pointer, count: n * embeddingSize)
            }
            start += n
        }
        return result
    }

    /// Embeds `count` float feature rows, in inference mode.
    public func embed(features: UnsafeBufferPointer<Float>, count: Int, batchSize: Int = 256) -> [Float] {
        let size = sampleShape.count
        precondition(features.count >= count * size)
        var result = [Float](repeating: 0, count: count * embeddingSize)
        let input = Tensor()
        var ctx = ForwardContext(training: false)
        var start = 0
        while start < count {
            let n = min(batchSize, count - start)
            input.reshape(EmbeddingNetwork.batchShape(sampleShape, batch: n))
            input.pointer.update(from: features.baseAddress! + start * size, count: n * size)
            let e = forward(input, &ctx)
            result.withUnsafeMutableBufferPointer {
                ($0.baseAddress! + start * embeddingSize).update(from: e.pointer, count: n * embeddingSize)
            }
            start += n
        }
        return result
    }
}

/// A multilayer perceptron on flattened images: `[Linear, BatchNorm, act, (Dropout)] x hidden`,
/// then `Linear` to the embedding and `L2Normalize`.
public struct MLPConfiguration: Sendable, Equatable {
    /// Sample shape `[C, H, W]`.
    public var sampleShape: Shape
    /// Hidden widths (depth = count).
    public var hidden: [Int]
    /// Embedding size.
    public var embedding: Int
    /// Nonlinearity.
    public var activation: Activation
    /// BatchNorm after each hidden Linear.
    public var batchNorm: Bool
    /// Dropout rate after each hidden block (0 for none).
    public var dropout: Float
    /// Input normalisation `(x - mean) / std` on raw pixel values.
    public var inputMean: Float
    public var inputStd: Float

    /// The data README's reference MLP (1024-512-256-128) by default.
    public init(
        sampleShape: Shape = Shape(1, 32, 32), hidden: [Int] = [512, 256], embedding: Int = 128,
        activation: Activation = .relu, batchNorm: Bool = true, dropout: Float = 0, inputMean: Float = 127.5,
        inputStd: Float = 127.5
    ) {
        self.sampleShape = sampleShape
        self.hidden = hidden
        self.embedding = embedding
        self.activation = activation
        self.batchNorm = batchNorm
        self.dropout = dropout
        self.inputMean = inputMean
        self.inputStd = inputStd
    }

    /// Builds the network with weights drawn from `seed`.
    public func build(seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        guard embedding > 0, hidden.allSatisfy({ $0 > 0 }) else { throw .invalidConfiguration("MLP widths must be positive") }
        var rng = SeededGenerator(seed: seed)
        let layers: [any Layer] = [InputNormalization(mean: inputMean, std: inputStd), Flatten()]
            + denseEmbedding(inputs: sampleShape.count, hidden: hidden, embedding: embedding, activation: activation,
                             batchNorm: batchNorm, dropout: dropout, rng: &rng)
        let name = "mlp(\(sampleShape.extents.map(String.init).joined(separator: "x"))-\(hidden.map(String.init).joined(separator: "-"))-\(embedding),\(activation),bn=\(batchNorm))"
        return try EmbeddingNetwork(architecture: name, sampleShape: sampleShape, body: Sequential(layers))
    }
}

/// A small CNN for single-channel images: per stage `[Conv3x3, BatchNorm, act] x blocks` then
/// 2x2 max pooling (channels `width * 2^stage`), then an optional 1x1 conv, global average
/// pooling, `Linear` to the embedding and `L2Normalize`.
public struct CNNConfiguration: Sendable, Equatable {
    /// Sample shape `[C, H, W]`.
    public var sampleShape: Shape
    /// Channels of the first stage.
    public var width: Int
    /// Number of stages (each halves the resolution).
    public var stages: Int
    /// 3x3 convolutions per stage.
    public var blocksPerStage: Int
    /// Channels of a final 1x1 convolution (0 for none).
    public var pointwiseChannels: Int
    /// Embedding size.
    public var embedding: Int
    /// Nonlinearity.
    public var activation: Activation
    /// Dropout before the embedding layer (0 for none).
    public var dropout: Float
    /// Input normalisation `(x - mean) / std` on raw pixel values.
    public var inputMean: Float
    public var inputStd: Float

    /// A 3-stage, 32-channel CNN by default.
    public init(
        sampleShape: Shape = Shape(1, 32, 32), width: Int = 32, stages: Int = 3, blocksPerStage: Int = 1,
        pointwiseChannels: Int = 0, embedding: Int = 128, activation: Activation = .relu, dropout: Float = 0,
        inputMean: Float = 127.5, inputStd: Float = 127.5
    ) {
        self.sampleShape = sampleShape
        self.width = width
        self.stages = stages
        self.blocksPerStage = blocksPerStage
        self.pointwiseChannels = pointwiseChannels
        self.embedding = embedding
        self.activation = activation
        self.dropout = dropout
        self.inputMean = inputMean
        self.inputStd = inputStd
    }

    /// `[Conv kxk (same padding, no bias), BatchNorm, activation]` from `channels` to `out`
    /// channels; `channels` becomes `out`.
    private func convBlock(from channels: inout Int, to out: Int, kernel: Int, rng: inout SeededGenerator) -> [any Layer] {
        defer { channels = out }
        return [Conv2d(inChannels: channels, outChannels: out, kernel: kernel, padding: kernel / 2, bias: false, rng: &rng),
                BatchNorm(channels: out), activation.make()]
    }

    /// Builds the network with weights drawn from `seed`.
    public func build(seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        guard width > 0, stages > 0, blocksPerStage > 0, embedding > 0, pointwiseChannels >= 0 else {
            throw .invalidConfiguration("CNN width, stages, blocks and embedding must be positive")
        }
        guard sampleShape.rank == 3 else { throw .invalidConfiguration("CNN samples must be [C, H, W], got \(sampleShape)") }
        var rng = SeededGenerator(seed: seed)
        var layers: [any Layer] = [InputNormalization(mean: inputMean, std: inputStd)]
        var channels = sampleShape.n
        for stage in 0..<stages {
            let out = width << stage
            for _ in 0..<blocksPerStage { layers += convBlock(from: &channels, to: out, kernel: 3, rng: &rng) }
            layers.append(MaxPool2d(kernel: 2))
        }
        if pointwiseChannels > 0 { layers += convBlock(from: &channels, to: pointwiseChannels, kernel: 1, rng: &rng) }
        layers.append(GlobalAvgPool())
        if dropout > 0 { layers.append(Dropout(rate: dropout)) }
        layers.append(Linear(inputs: channels, outputs: embedding, rng: &rng))
        layers.append(L2Normalize())
        let name = "cnn(\(sampleShape.extents.map(String.init).joined(separator: "x")),w=\(width),stages=\(stages),blocks=\(blocksPerStage),pw=\(pointwiseChannels),e=\(embedding),\(activation))"
        return try EmbeddingNetwork(architecture: name, sampleShape: sampleShape, body: Sequential(layers))
    }
}

/// A residual network for single-channel images: a stem `[Conv3x3 (C -> w), BatchNorm, ReLU]`,
/// `stages` stages of `blocksPerStage` basic residual blocks at `w * 2^stage` channels (the first
/// block of every stage after the first has stride 2 and a projection shortcut), global average
/// pooling, `Linear` to the embedding (no bias), `BatchNorm` (1d) and `L2Normalize`. Convolutions
/// and the embedding layer start as PyTorch's (`WeightInitialization.uniformFanIn`).
public struct ResNetConfiguration: Sendable, Equatable {
    /// Sample shape `[C, H, W]`.
    public var sampleShape: Shape
    /// Channels of the stem and the first stage (w).
    public var width: Int
    /// Number of stages (each after the first halves the resolution).
    public var stages: Int
    /// Residual blocks per stage.
    public var blocksPerStage: Int
    /// Embedding size.
    public var embedding: Int
    /// Input normalisation `(x - mean) / std` on raw pixel values.
    public var inputMean: Float
    public var inputStd: Float

    /// w = 32, 3 stages of one block, a 128-d embedding (about 0.3M weights) by default.
    public init(
        sampleShape: Shape = Shape(1, 32, 32), width: Int = 32, stages: Int = 3, blocksPerStage: Int = 1,
        embedding: Int = 128, inputMean: Float = 127.5, inputStd: Float = 127.5
    ) {
        self.sampleShape = sampleShape
        self.width = width
        self.stages = stages
        self.blocksPerStage = blocksPerStage
        self.embedding = embedding
        self.inputMean = inputMean
        self.inputStd = inputStd
    }

    /// The side of the last stage's feature map for an input side (each later stage's 3x3
    /// stride-2 convolution with padding 1 maps s to (s - 1) / 2 + 1).
    public func finalSide(_ side: Int) -> Int {
        var s = side
        for _ in 1..<max(stages, 1) { s = (s - 1) / 2 + 1 }
        return s
    }

    /// Builds the network with weights drawn from `seed`; refuses sizes out of range and samples
    /// too small for the strides (the last stage must see at least 2 x 2 positions).
    public func build(seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        guard width > 0, stages > 0, blocksPerStage > 0, embedding > 0 else {
            throw .invalidConfiguration("ResNet width, stages, blocks and embedding must be positive")
        }
        guard sampleShape.rank == 3 else { throw .invalidConfiguration("ResNet samples must be [C, H, W], got \(sampleShape)") }
        guard finalSide(sampleShape.c) >= 2, finalSide(sampleShape.h) >= 2 else {
            throw .invalidConfiguration(
                "samples of \(sampleShape.c)x\(sampleShape.h) are too small for \(stages) ResNet stages (\(stages - 1) halvings leave \(finalSide(sampleShape.c))x\(finalSide(sampleShape.h)); at least 2x2 is needed)")
        }
        var rng = SeededGenerator(seed: seed)
        var layers: [any Layer] = [
            InputNormalization(mean: inputMean, std: inputStd),
            Conv2d(
                inChannels: sampleShape.n, outChannels: width, kernel: 3, padding: 1, bias: false, initialization: .uniformFanIn,
                rng: &rng),
            BatchNorm(channels: width, relu: true),
        ]
        var channels = width
        for stage in 0..<stages {
            let out = width << stage
            for block in 0..<blocksPerStage {
                let stride = stage > 0 && block == 0 ? 2 : 1
                layers.append(ResidualBlock(inChannels: channels, outChannels: out, stride: stride, rng: &rng))
                channels = out
            }
        }
        layers += [GlobalAvgPool(), Linear(inputs: channels, outputs: embedding, bias: false, initialization: .uniformFanIn, rng: &rng),
                   BatchNorm(channels: embedding), L2Normalize()]
        let name = "resnet(\(sampleShape.extents.map(String.init).joined(separator: "x")),w=\(width),stages=\(stages),blocks=\(blocksPerStage),e=\(embedding))"
        return try EmbeddingNetwork(architecture: name, sampleShape: sampleShape, body: Sequential(layers))
    }
}

/// A projection head for float features `[N, D]` (e.g. a frozen backbone's embeddings):
/// `[Linear, BatchNorm, act] x hidden`, `Linear` to the embedding, `L2Normalize`.
public struct ProjectionHeadConfiguration: Sendable, Equatable {
    /// Input feature dimension D.
    public var features: Int
    /// Hidden widths (empty for a linear projection).
    public var hidden: [Int]
    /// Embedding size.
    public var embedding: Int
    /// Nonlinearity.
    public var activation: Activation

    /// Creates a configuration.
    public init(features: Int, hidden: [Int] = [], embedding: Int = 128, activation: Activation = .relu) {
        self.features = features
        self.hidden = hidden
        self.embedding = embedding
        self.activation = activation
    }

    /// Builds the head with weights drawn from `seed`.
    public func build(seed: UInt64) throws(TrainingError) -> EmbeddingNetwork {
        guard features > 0, embedding > 0, hidden.allSatisfy({ $0 > 0 }) else {
            throw .invalidConfiguration("projection head sizes must be positive")
        }
        var rng = SeededGenerator(seed: seed)
        let layers = denseEmbedding(inputs: features, hidden: hidden, embedding: embedding, activation: activation,
                                    batchNorm: true, dropout: 0, rng: &rng)
        let name = "projection(\(features)-\(hidden.map(String.init).joined(separator: "-"))-\(embedding),\(activation))"
        return try EmbeddingNetwork(architecture: name, sampleShape: Shape(features), body: Sequential(layers))
    }
}

/// `[Linear, BatchNorm?, activation, Dropout?]` per hidden width (the Linear has a bias only
/// without BatchNorm), then `Linear` to the embedding and `L2Normalize`: the MLP after its input
/// layers, and the projection head.
private func denseEmbedding(
    inputs: Int, hidden: [Int], embedding: Int, activation: Activation, batchNorm: Bool, dropout: Float,
    rng: inout SeededGenerator
) -> [any Layer] {
    var layers: [any Layer] = []
    var width = inputs
    for h in hidden {
        layers.append(Linear(inputs: width, outputs: h, bias: !batchNorm, rng: &rng))
        if batchNorm { layers.append(BatchNorm(channels: h)) }
        layers.append(activation.make())
        if dropout > 0 { layers.append(Dropout(rate: dropout)) }
        width = h
    }
    layers.append(Linear(inputs: width, outputs: embedding, rng: &rng))
    layers.append(L2Normalize())
    return layers
}
