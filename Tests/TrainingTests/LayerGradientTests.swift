import AlaverifyBase
import Testing
import ScoreMetrics
@testable import Training

/// A layer under test with the input shape it is checked at.
struct LayerCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shape: Shape
    let eps: Float
    let training: Bool
    let make: @Sendable () -> any Layer
    var testDescription: String { name }

    init(_ name: String, _ shape: Shape, eps: Float = 1e-2, training: Bool = true, _ make: @escaping @Sendable () -> any Layer) {
        self.name = name
        self.shape = shape
        self.eps = eps
        self.training = training
        self.make = make
    }
}

let layerCases: [LayerCase] = [
    LayerCase("linear", Shape(4, 7)) { var g = SeededGenerator(seed: 1); return Linear(inputs: 7, outputs: 5, rng: &g) },
    LayerCase("linear without bias", Shape(3, 6)) { var g = SeededGenerator(seed: 2); return Linear(inputs: 6, outputs: 4, bias: false, rng: &g) },
    LayerCase("conv 3x3 pad 1", Shape(2, 3, 6, 5)) {
        var g = SeededGenerator(seed: 3); return Conv2d(inChannels: 3, outChannels: 4, kernel: 3, padding: 1, rng: &g)
    },
    LayerCase("conv 3x3 stride 2 pad 1", Shape(2, 2, 7, 6)) {
        var g = SeededGenerator(seed: 4); return Conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1, rng: &g)
    },
    LayerCase("conv 3x3 no pad, no bias", Shape(2, 2, 5, 5)) {
        var g = SeededGenerator(seed: 5); return Conv2d(inChannels: 2, outChannels: 3, kernel: 3, bias: false, rng: &g)
    },
    LayerCase("conv 3x3 stride 2 pad 1 on a 3x1 image", Shape(2, 1, 3, 1)) {
        var g = SeededGenerator(seed: 9); return Conv2d(inChannels: 1, outChannels: 2, kernel: 3, stride: 2, padding: 1, rng: &g)
    },
    LayerCase("conv 3x3 stride 3 pad 2", Shape(1, 2, 5, 4)) {
        var g = SeededGenerator(seed: 10); return Conv2d(inChannels: 2, outChannels: 2, kernel: 3, stride: 3, padding: 2, rng: &g)
    },
    LayerCase("conv 1x1", Shape(2, 3, 4, 4)) { var g = SeededGenerator(seed: 6); return Conv2d(inChannels: 3, outChannels: 5, kernel: 1, rng: &g) },
    LayerCase("conv 1x1 stride 2", Shape(2, 3, 5, 5)) {
        var g = SeededGenerator(seed: 7); return Conv2d(inChannels: 3, outChannels: 2, kernel: 1, stride: 2, rng: &g)
    },
    LayerCase("relu", Shape(3, 8), eps: 1e-3) { ReLU() },
    LayerCase("gelu", Shape(3, 8)) { GELU() },
    LayerCase("batchnorm [N, C]", Shape(6, 4), eps: 1e-3) { BatchNorm(channels: 4) },
    LayerCase("batchnorm [N, C, H, W]", Shape(3, 2, 3, 3), eps: 1e-3) { BatchNorm(channels: 2) },
    LayerCase("batchnorm inference", Shape(3, 2, 2, 2), training: false) { BatchNorm(channels: 2) },
    LayerCase("maxpool 2", Shape(2, 2, 4, 6), eps: 1e-3) { MaxPool2d(kernel: 2) },
    LayerCase("maxpool 3 stride 2", Shape(1, 2, 7, 7), eps: 1e-3) { MaxPool2d(kernel: 3, stride: 2) },
    LayerCase("avgpool 2", Shape(2, 2, 4, 4)) { AvgPool2d(kernel: 2) },
    LayerCase("global avgpool", Shape(2, 3, 3, 4)) { GlobalAvgPool() },
    LayerCase("flatten", Shape(2, 2, 3, 3)) { Flatten() },
    LayerCase("dropout", Shape(4, 10)) { Dropout(rate: 0.3) },
    LayerCase("l2 normalize", Shape(4, 6), eps: 1e-3) { L2Normalize() },
    LayerCase("input normalization", Shape(2, 1, 3, 3)) { InputNormalization(mean: 127.5, std: 127.5) },
    LayerCase("sequential conv-bn-relu-pool-flatten-linear-l2", Shape(2, 1, 6, 6), eps: 1e-3) {
        var g = SeededGenerator(seed: 8)
        return Sequential([
            Conv2d(inChannels: 1, outChannels: 3, kernel: 3, padding: 1, bias: false, rng: &g), BatchNorm(channels: 3), ReLU(),
            MaxPool2d(kernel: 2), Flatten(), Linear(inputs: 27, outputs: 4, rng: &g), L2Normalize(),
        ])
    },
]

@Test("finite-difference gradient check", arguments: layerCases)
func layerGradient(_ c: LayerCase) {
    for seed: UInt64 in [11, 12] {
        let layer = c.make()
        let result = checkLayer(layer, input: c.shape, seed: seed, eps: c.eps, training: c.training)
        #expect(result.input < 1e-2, "input gradient, seed \(seed): relative error \(result.input)")
        for (name, e) in result.parameters {
            #expect(e < 1e-2, "\(name) gradient, seed \(seed): relative error \(e)")
        }
    }
}

@Test("convolution equals the direct sum", arguments: [
    (2, 3, 3, 2, 1, 5, 4), (1, 2, 3, 1, 1, 6, 6), (2, 2, 3, 2, 1, 3, 1), (2, 2, 3, 3, 2, 5, 4), (3, 2, 1, 2, 0, 5, 5),
    (1, 1, 3, 1, 0, 3, 3),
])
func convolutionMatchesDirectSum(_ c: (Int, Int, Int, Int, Int, Int, Int)) {
    let (cin, cout, k, stride, pad, h, w) = c
    var g = SeededGenerator(seed: 21)
    let conv = Conv2d(inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad, rng: &g)
    for i in 0..<cout { conv.bias!.value[i] = Float(i) * 0.1 }
    let x = Tensor(Shape(2, cin, h, w), values: randomValues(2 * cin * h * w, rng: &g))
    var ctx = ForwardContext(training: true)
    let y = conv.forward(x, &ctx)
    let (ho, wo) = ((h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1)
    #expect(y.shape == Shape(2, cout, ho, wo))
    var worst: Float = 0
    for n in 0..<2 { for o in 0..<cout { for oy in 0..<ho { for ox in 0..<wo {
        var s = Double(conv.bias!.value[o])
        for c in 0..<cin { for ki in 0..<k { for kj in 0..<k {
            let iy = oy * stride - pad + ki, ix = ox * stride - pad + kj
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            s += Double(conv.weight.value[o * cin * k * k + (c * k + ki) * k + kj]) * Double(x[((n * cin + c) * h + iy) * w + ix])
        } } }
        worst = max(worst, abs(Float(s) - y[((n * cout + o) * ho + oy) * wo + ox]))
    } } } }
    #expect(worst < 1e-5)
}

/// A ReLU whose backward pass is 10% too large: the gradient check must reject it.
final class MiscaledReLU: Layer {
    let inner = ReLU()
    let scaled = Tensor()
    func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor { inner.forward(x, &context) }
    func backward(_ dy: Tensor) -> Tensor {
        let g = inner.backward(dy)
        scaled.copy(from: g)
        for i in 0..<scaled.count { scaled[i] *= 1.1 }
        return scaled
    }
}

@Test func gradientCheckRejectsWrongGradient() {
    let result = checkLayer(MiscaledReLU(), input: Shape(3, 8), seed: 5, eps: 1e-3)
    #expect(result.input > 0.05)
}

@Test("backwardParameters accumulates the same gradients as backward", arguments: ["mlp", "cnn"])
func parameterOnlyBackward(_ kind: String) throws {
    func build() throws -> EmbeddingNetwork {
        kind == "mlp"
            ? try MLPConfiguration(sampleShape: Shape(1, 6, 6), hidden: [7], embedding: 3).build(seed: 4)
            : try CNNConfiguration(sampleShape: Shape(1, 8, 8), width: 2, stages: 2, pointwiseChannels: 3, embedding: 3).build(seed: 4)
    }
    var rng = SeededGenerator(seed: 5)
    let shape = EmbeddingNetwork.batchShape(try build().sampleShape, batch: 4)
    let x = Tensor(shape, values: randomValues(shape.count, scale: 100, rng: &rng))
    let dy = Tensor(Shape(4, 3), values: randomValues(12, rng: &rng))
    let (a, b) = (try build(), try build())
    var ctx = ForwardContext(training: true)
    _ = a.body.forward(x, &ctx)
    _ = a.body.backward(dy)
    _ = b.body.forward(x, &ctx)
    b.body.backwardParameters(dy)
    #expect(a.parameters.map(\.gradient.array) == b.parameters.map(\.gradient.array))
    #expect(a.parameters.allSatisfy { $0.gradient.array.contains { $0 != 0 } })
}
