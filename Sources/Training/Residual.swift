import AlaverifyBase
import ScoreMetrics

/// A basic residual block (He et al. 2016):
///
///     y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
///
/// with `conv1` 3x3 at the block's stride, `conv2` 3x3, both without bias (bn1 applies the first
/// ReLU in its own pass), and the shortcut the
/// identity or, when the stride or the width changes, a 1x1 convolution at the stride followed
/// by BatchNorm (the projection shortcut).
public final class ResidualBlock: Layer {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Stride of the first convolution and of the projection.
    public let stride: Int
    public let conv1: Conv2d
    public let norm1: BatchNorm
    public let conv2: Conv2d
    public let norm2: BatchNorm
    public let projection: Conv2d?
    public let projectionNorm: BatchNorm?
    private let output = Tensor()
    private let sumGradient = Tensor()
    private let inputGradient = Tensor()
    private var input: Tensor?

    /// Creates the block and draws its weights from `rng` (conv1, conv2, then the projection).
    public init(inChannels: Int, outChannels: Int, stride: Int, rng: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && stride > 0)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        conv1 = Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride, padding: 1, bias: false, initialization: .uniformFanIn, rng: &rng)
        norm1 = BatchNorm(channels: outChannels, relu: true)
        conv2 = Conv2d(inChannels: outChannels, outChannels: outChannels, kernel: 3, padding: 1, bias: false, initialization: .uniformFanIn, rng: &rng)
        norm2 = BatchNorm(channels: outChannels)
        if stride != 1 || inChannels != outChannels {
            projection = Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride, bias: false, initialization: .uniformFanIn, rng: &rng)
            projectionNorm = BatchNorm(channels: outChannels)
        } else {
            projection = nil
            projectionNorm = nil
        }
        for (prefix, layer) in named { for p in layer.parameters { p.name = "\(prefix).\(p.name)" } }
    }

    /// The sub-layers with parameters, by name, in checkpoint order.
    private var named: [(String, any Layer)] {
        var list: [(String, any Layer)] = [("conv1", conv1), ("bn1", norm1), ("conv2", conv2), ("bn2", norm2)]
        if let projection, let projectionNorm { list += [("proj", projection), ("proj_bn", projectionNorm)] }
        return list
    }

    public func outputShape(for s: Shape) -> Shape? { conv1.outputShape(for: s) }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        input = x
        let a = norm1.forward(conv1.forward(x, &context), &context)
        let b = norm2.forward(conv2.forward(a, &context), &context)
        let s: Tensor
        if let projection, let projectionNorm {
            s = projectionNorm.forward(projection.forward(x, &context), &context)
        } else {
            s = x
        }
        output.reshape(b.shape)
        let (bp, sp, y) = (b.pointer, s.pointer, output.pointer)
        Compute.forEachRange(b.count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = load8(bp, i) + load8(sp, i)
                store8(v.replacing(with: 0, where: v .< 0), y, i)
                i += 8
            }
            while i < r.upperBound { y[i] = max(bp[i] + sp[i], 0); i += 1 }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("backward before forward") }
        // Through the final ReLU; the sum passes its gradient to both branches.
        sumGradient.reshape(dy.shape)
        let (y, g, d) = (output.pointer, dy.pointer, sumGradient.pointer)
        Compute.forEachRange(dy.count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                store8(SIMD8<Float>.zero.replacing(with: load8(g, i), where: load8(y, i) .> 0), d, i)
                i += 8
            }
            while i < r.upperBound { d[i] = y[i] > 0 ? g[i] : 0; i += 1 }
        }
        let main = conv1.backward(norm1.backward(conv2.backward(norm2.backward(sumGradient))))
        let shortcut: Tensor
        if let projection, let projectionNorm {
            shortcut = projection.backward(projectionNorm.backward(sumGradient))
        } else {
            shortcut = sumGradient
        }
        inputGradient.reshape(x.shape)
        let (mp, sp, dx) = (main.pointer, shortcut.pointer, inputGradient.pointer)
        Compute.forEachRange(x.count) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                store8(load8(mp, i) + load8(sp, i), dx, i)
                i += 8
            }
            while i < r.upperBound { dx[i] = mp[i] + sp[i]; i += 1 }
        }
        return inputGradient
    }

    public var parameters: [Parameter] { named.flatMap { $0.1.parameters } }

    public var buffers: [(name: String, tensor: Tensor)] {
        named.flatMap { prefix, layer in layer.buffers.map { ("\(prefix).\($0.name)", $0.tensor) } }
    }
}
