import AlaverifyBase
import Testing
import ScoreMetrics
@testable import Training

let residualCases: [LayerCase] = [
    LayerCase("residual block, identity shortcut (the residual add)", Shape(2, 3, 5, 5), eps: 3e-4) {
        var g = SeededGenerator(seed: 31); return ResidualBlock(inChannels: 3, outChannels: 3, stride: 1, rng: &g)
    },
    LayerCase("residual block, stride 2 with a 1x1 projection shortcut", Shape(3, 2, 6, 5), eps: 3e-4) {
        var g = SeededGenerator(seed: 32); return ResidualBlock(inChannels: 2, outChannels: 4, stride: 2, rng: &g)
    },
    LayerCase("residual block, width change at stride 1", Shape(2, 2, 4, 4), eps: 3e-4) {
        var g = SeededGenerator(seed: 33); return ResidualBlock(inChannels: 2, outChannels: 3, stride: 1, rng: &g)
    },
    LayerCase("batchnorm1d [N, C] in a linear head", Shape(5, 6), eps: 1e-3) {
        var g = SeededGenerator(seed: 34)
        return Sequential([Linear(inputs: 6, outputs: 4, bias: false, rng: &g), BatchNorm(channels: 4), L2Normalize()])
    },
    LayerCase("stem: input normalization, conv 3x3 from one channel, BN with ReLU", Shape(3, 1, 6, 6), eps: 1e-2) {
        var g = SeededGenerator(seed: 35)
        return Sequential([InputNormalization(mean: 127.5, std: 127.5),
                           Conv2d(inChannels: 1, outChannels: 2, kernel: 3, padding: 1, bias: false, rng: &g),
                           BatchNorm(channels: 2, relu: true)])
    },
    LayerCase("batchnorm with ReLU [N, C, H, W]", Shape(3, 2, 3, 3), eps: 1e-3) { BatchNorm(channels: 2, relu: true) },
    LayerCase("batchnorm with ReLU [N, C]", Shape(5, 3), eps: 1e-3) { BatchNorm(channels: 3, relu: true) },
    LayerCase("batchnorm with ReLU, inference", Shape(3, 2, 2, 2), eps: 1e-3, training: false) { BatchNorm(channels: 2, relu: true) },
]

@Test("finite-difference gradient check of the ResNet's parts", arguments: residualCases)
func residualGradient(_ c: LayerCase) {
    for seed: UInt64 in [41, 42] {
        let layer = c.make()
        let result = checkLayer(layer, input: c.shape, seed: seed, eps: c.eps, training: c.training)
        #expect(result.input < 1e-2, "input gradient, seed \(seed): relative error \(result.input)")
        for (name, e) in result.parameters {
            #expect(e < 1e-2, "\(name) gradient, seed \(seed): relative error \(e)")
        }
    }
}

/// A convolution's output, weight gradient and input gradient by direct sums in Double.
func directConvolution(_ conv: Conv2d, x: Tensor, dy: Tensor) -> (y: [Double], dW: [Double], dX: [Double]) {
    let (n, cin, h, w) = (x.shape.n, x.shape.c, x.shape.h, x.shape.w)
    let (cout, k, st, pad) = (conv.outChannels, conv.kernel, conv.stride, conv.padding)
    let (ho, wo) = (dy.shape.h, dy.shape.w)
    var y = [Double](repeating: 0, count: n * cout * ho * wo)
    var dW = [Double](repeating: 0, count: conv.weight.value.count)
    var dX = [Double](repeating: 0, count: x.count)
    for s in 0..<n { for o in 0..<cout { for oy in 0..<ho { for ox in 0..<wo {
        let out = ((s * cout + o) * ho + oy) * wo + ox
        for c in 0..<cin { for ki in 0..<k { for kj in 0..<k {
            let iy = oy * st - pad + ki, ix = ox * st - pad + kj
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            let wi = o * cin * k * k + (c * k + ki) * k + kj, xi = ((s * cin + c) * h + iy) * w + ix
            y[out] += Double(conv.weight.value[wi]) * Double(x[xi])
            dW[wi] += Double(dy[out]) * Double(x[xi])
            dX[xi] += Double(conv.weight.value[wi]) * Double(dy[out])
        } } }
    } } } }
    return (y, dW, dX)
}

@Test("convolution output, weight and input gradients equal direct sums, also with the unfolded map cut in chunks",
      arguments: [
        (16, 8, 3, 1, 1, 40, 40),  // 3x3 same: chunked rows, input gradient from the flipped kernel
        (16, 6, 3, 2, 1, 41, 38),  // stride 2: chunked rows, scattered input gradient
        (3, 5, 3, 1, 1, 7, 6),     // small: one chunk, flipped kernel
        (8, 4, 1, 2, 0, 9, 9),     // 1x1 stride 2 (the projection)
        (1, 4, 3, 1, 1, 70, 70),   // one input channel (the stem)
      ])
func convolutionGradientsMatchDirectSums(_ c: (Int, Int, Int, Int, Int, Int, Int)) {
    let (cin, cout, k, stride, pad, h, w) = c
    var g = SeededGenerator(seed: 23)
    let conv = Conv2d(inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad, bias: false, rng: &g)
    let x = Tensor(Shape(3, cin, h, w), values: randomValues(3 * cin * h * w, rng: &g))
    var ctx = ForwardContext(training: true)
    let y = conv.forward(x, &ctx).array
    let dy = Tensor(conv.outputShape(for: x.shape)!, values: randomValues(y.count, rng: &g))
    conv.weight.gradient.fill(0)
    let dx = conv.backward(dy).array
    let expected = directConvolution(conv, x: x, dy: dy)
    func worst(_ a: [Float], _ b: [Double]) -> Double { zip(a, b).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0 }
    #expect(worst(y, expected.y) < 1e-4)
    #expect(worst(conv.weight.gradient.array, expected.dW) < 1e-4)
    #expect(worst(dx, expected.dX) < 1e-4)
}

@Test("ResNet refuses samples too small for its strides and sizes out of range, naming them")
func resnetRefusesBadShapes() {
    #expect(throws: TrainingError.self) { try ResNetConfiguration(sampleShape: Shape(1, 3, 32), stages: 3).build(seed: 1) }
    #expect(throws: TrainingError.self) { try ResNetConfiguration(width: 0).build(seed: 1) }
    #expect(throws: TrainingError.self) { try ResNetConfiguration(sampleShape: Shape(32, 32)).build(seed: 1) }
    do {
        _ = try ResNetConfiguration(sampleShape: Shape(1, 4, 4), stages: 3).build(seed: 1)
        Issue.record("4x4 samples through 2 halvings leave 1x1: must be refused")
    } catch {
        #expect("\(error)".contains("too small"), "\(error)")
    }
    #expect((try? ResNetConfiguration(sampleShape: Shape(1, 8, 8), stages: 3).build(seed: 1)) != nil)
}

@Test("the default ResNet has the layout of the issue: about 0.3M weights, 128-d unit-norm embeddings")
func resnetDefaults() throws {
    let net = try ResNetConfiguration().build(seed: 1)
    #expect(net.embeddingSize == 128)
    // stem 9*32 + BN 64; stage 1: 2 * 9*32*32 + 2 BN; stage 2: 9*32*64 + 9*64*64 + 1x1 32*64 + 3 BN;
    // stage 3: 9*64*128 + 9*128*128 + 1x1 64*128 + 3 BN; Linear 128*128; BN1d 2*128.
    let expected = 288 + 64 + (2 * 9216 + 128) + (18432 + 36864 + 2048 + 384) + (73728 + 147456 + 8192 + 768) + 16384 + 256
    #expect(net.parameterCount == expected)
    var rng = SeededGenerator(seed: 2)
    let x = Tensor(Shape(4, 1, 32, 32), values: randomValues(4 * 1024, scale: 80, rng: &rng))
    var ctx = ForwardContext(training: true)
    let e = net.forward(x, &ctx)
    #expect(e.shape == Shape(4, 128))
    for r in 0..<4 {
        let norm = (0..<128).reduce(0.0) { $0 + Double(e[r * 128 + $1] * e[r * 128 + $1]) }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)
    }
}

@Test("the ResNet's convolutions and embedding layer start as PyTorch's defaults: uniform on ±1/sqrt(fan-in)")
func resnetInitialization() throws {
    // PyTorch's Conv2d/Linear reset_parameters: kaiming_uniform_(a = sqrt 5), i.e. a bound of
    // gain * sqrt(3 / fanIn) with gain sqrt(2 / (1 + 5)) = 1 / sqrt(fanIn); its standard
    // deviation is bound / sqrt(3).
    let net = try ResNetConfiguration().build(seed: 1)
    let weights = net.parameters.filter { $0.name.hasSuffix("weight") }
    #expect(weights.count == 10)  // the stem, 3 stages x 2 convs, 2 projections, the embedding layer
    for p in weights {
        let fanIn = p.value.shape.rowSize
        let bound = 1 / Double(fanIn).squareRoot()
        let v = p.value.array.map(Double.init)
        #expect(v.allSatisfy { abs($0) <= bound }, "\(p.value.shape): a weight beyond 1/sqrt(\(fanIn))")
        let mean = v.reduce(0, +) / Double(v.count)
        let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)).squareRoot()
        // n >= 288 draws: the sample std of a uniform is within 10% of bound/sqrt(3) far beyond 4 sigma
        // for n >= 2048 (every layer but the stem's 288, given 25%).
        let tolerance = v.count >= 2048 ? 0.1 : 0.25
        #expect(abs(std / (bound / 3.0.squareRoot()) - 1) < tolerance, "\(p.value.shape): std \(std)")
    }
}

@Suite("ResNet steps do not depend on the thread count or on the batch around a sample", .serialized)
struct ResNetDeterminismTests {
    /// Bits of every weight after `steps` training steps with a margin softmax head.
    func train(threads: Int, steps: Int) throws -> [[UInt32]] {
        let saved = Compute.threads
        Compute.threads = threads
        defer { Compute.threads = saved }
        let net = try ResNetConfiguration(sampleShape: Shape(1, 12, 12), width: 4, embedding: 8).build(seed: 3)
        var rng = SeededGenerator(seed: 4)
        let images = ImageSetFixture.make(identities: 6, perIdentity: 6, side: 12, rng: &rng)
        var lossRNG = SeededGenerator(seed: 5)
        let loss = MarginSoftmaxLoss(classes: 6, dimension: 8, rng: &lossRNG)
        let trainer = try Trainer(
            model: net, loss: loss, optimizer: .adamW(weightDecay: 5e-4), schedule: LearningRateSchedule(base: 1e-2),
            source: try PKSampler(data: images, identitiesPerBatch: 4, samplesPerIdentity: 5, seed: 6), seed: 7)
        for _ in 0..<steps { try trainer.trainStep() }
        return (net.parameters + loss.trainableParameters).map { $0.value.array.map(\.bitPattern) }
    }

    @Test("three steps with 1, 2 and 3 threads give the same weights bit for bit")
    func threads() throws {
        let one = try train(threads: 1, steps: 3)
        #expect(try train(threads: 2, steps: 3) == one)
        #expect(try train(threads: 3, steps: 3) == one)
    }

    @Test("in inference a sample's embedding is the same bits alone and inside a batch of 9")
    func batchIndependence() throws {
        let net = try ResNetConfiguration(sampleShape: Shape(1, 12, 12), width: 4, stages: 2, embedding: 8).build(seed: 3)
        var rng = SeededGenerator(seed: 9)
        let pixels = (0..<(9 * 144)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let all = pixels.withUnsafeBufferPointer { net.embed($0, count: 9) }
        // The convolutions are per sample; only the final Linear mixes rows, through a product
        // whose shape depends on the batch — so compare up to that layer's rounding.
        for i in [0, 4, 8] {
            let one = Array(pixels[(i * 144)..<((i + 1) * 144)]).withUnsafeBufferPointer { net.embed($0, count: 1) }
            for d in 0..<8 { #expect(abs(one[d] - all[i * 8 + d]) < 1e-6) }
        }
    }
}

/// Small identity-labelled image sets for training tests.
enum ImageSetFixture {
    static func make(identities: Int, perIdentity: Int, side: Int, rng: inout SeededGenerator) -> ImageSet {
        var pixels: [UInt8] = [], labels: [Int32] = []
        for id in 0..<identities {
            let base = (0..<(side * side)).map { _ in Double(rng.next() % 256) }
            for _ in 0..<perIdentity {
                pixels += base.map { UInt8(max(0, min(255, $0 + rng.normal() * 20))) }
                labels.append(Int32(id))
            }
        }
        return try! ImageSet(pixels: pixels, labels: labels, height: side, width: side)
    }
}
