/// What max and average pooling share: a `k x k` window moved by a stride, no padding, and the
/// buffers reused between steps.
public class Pool2d {
    /// Window size.
    public let kernel: Int
    /// Stride.
    public let stride: Int
    let output = Tensor()
    let inputGradient = Tensor()
    var inputShape = Shape(0)

    /// Creates the layer; the stride defaults to the window size.
    public init(kernel: Int, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func outputShape(for s: Shape) -> Shape? {
        guard s.rank == 4, s.h >= kernel, s.w >= kernel else { return nil }
        return Shape(s.n, s.c, (s.h - kernel) / stride + 1, (s.w - kernel) / stride + 1)
    }
}

/// Max pooling over `k x k` windows with the given stride and no padding.
public final class MaxPool2d: Pool2d, Layer {
    private var argmax: [Int] = []

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        guard let os = outputShape(for: x.shape) else { preconditionFailure("MaxPool2d cannot take \(x.shape)") }
        inputShape = x.shape
        output.reshape(os)
        if argmax.count < os.count { argmax = Array(repeating: 0, count: os.count) }
        let (h, w, ho, wo) = (x.shape.h, x.shape.w, os.h, os.w)
        let (src, dst) = (x.pointer, output.pointer)
        let (k, st) = (kernel, stride)
        argmax.withUnsafeMutableBufferPointer { arg in
            for plane in 0..<(os.n * os.c) {
                let xp = plane * h * w, yp = plane * ho * wo
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var at = xp + oy * st * w + ox * st
                        var best = src[at]
                        for ki in 0..<k {
                            let row = xp + (oy * st + ki) * w + ox * st
                            for kj in 0..<k where src[row + kj] > best {
                                best = src[row + kj]
                                at = row + kj
                            }
                        }
                        dst[yp + oy * wo + ox] = best
                        arg[yp + oy * wo + ox] = at
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(inputShape)
        inputGradient.fill(0)
        let (g, dx) = (dy.pointer, inputGradient.pointer)
        argmax.withUnsafeBufferPointer { arg in
            for i in 0..<dy.count { dx[arg[i]] += g[i] }
        }
        return inputGradient
    }
}

/// Average pooling over `k x k` windows with the given stride and no padding.
public final class AvgPool2d: Pool2d, Layer {
    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        guard let os = outputShape(for: x.shape) else { preconditionFailure("AvgPool2d cannot take \(x.shape)") }
        inputShape = x.shape
        output.reshape(os)
        let (h, w, ho, wo) = (x.shape.h, x.shape.w, os.h, os.w)
        let inv = 1 / Float(kernel * kernel)
        let (src, dst) = (x.pointer, output.pointer)
        for plane in 0..<(os.n * os.c) {
            let xp = plane * h * w, yp = plane * ho * wo
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var s: Float = 0
                    for ki in 0..<kernel {
                        let row = xp + (oy * stride + ki) * w + ox * stride
                        for kj in 0..<kernel { s += src[row + kj] }
                    }
                    dst[yp + oy * wo + ox] = s * inv
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(inputShape)
        inputGradient.fill(0)
        let (h, w, ho, wo) = (inputShape.h, inputShape.w, dy.shape.h, dy.shape.w)
        let inv = 1 / Float(kernel * kernel)
        let (g, dx) = (dy.pointer, inputGradient.pointer)
        for plane in 0..<(dy.shape.n * dy.shape.c) {
            let xp = plane * h * w, yp = plane * ho * wo
            for oy in 0..<ho {
                for ox in 0..<wo {
                    let v = g[yp + oy * wo + ox] * inv
                    for ki in 0..<kernel {
                        let row = xp + (oy * stride + ki) * w + ox * stride
                        for kj in 0..<kernel { dx[row + kj] += v }
                    }
                }
            }
        }
        return inputGradient
    }
}

/// Averages each channel over all positions: `[N, C, H, W]` -> `[N, C]`.
public final class GlobalAvgPool: Layer {
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var inputShape = Shape(0)

    /// Creates the layer.
    public init() {}

    public func outputShape(for s: Shape) -> Shape? { s.rank == 4 ? Shape(s.n, s.c) : nil }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        precondition(x.shape.rank == 4, "GlobalAvgPool expects [N, C, H, W], got \(x.shape)")
        inputShape = x.shape
        let spatial = x.shape.h * x.shape.w
        output.reshape(Shape(x.shape.n, x.shape.c))
        let inv = 1 / Float(spatial)
        let (src, dst) = (x.pointer, output.pointer)
        Compute.forEachRange(output.count) { planes in
            for plane in planes { dst[plane] = vectorSum(src + plane * spatial, spatial) * inv }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.reshape(inputShape)
        let spatial = inputShape.h * inputShape.w
        let inv = 1 / Float(spatial)
        let (g, dx) = (dy.pointer, inputGradient.pointer)
        Compute.forEachRange(dy.count) { planes in
            for plane in planes { (dx + plane * spatial).update(repeating: g[plane] * inv, count: spatial) }
        }
        return inputGradient
    }
}
