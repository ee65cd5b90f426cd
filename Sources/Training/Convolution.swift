import AlaverifyBase
import CKernels
import ScoreMetrics

/// A 2-D convolution `[N, Cin, H, W]` -> `[N, Cout, Ho, Wo]` with square kernels, stride and
/// zero padding, computed per sample as `W [Cout, Cin*k*k] x im2col(x) [Cin*k*k, Ho*Wo]` (sgemm).
///
/// Samples run as parts on `Compute.threads` threads. Every sample's product has the same shape,
/// so an output does not depend on the batch around it; the weight gradient is accumulated per
/// part and the parts are added in order, so it does not depend on the thread count.
/// The input gradient of a 3x3, stride-1, pad-1 convolution is itself such a convolution of the
/// output gradient with the flipped, transposed kernel (one product with an inner size of
/// `Cout*9`, instead of a product with an inner size of `Cout` followed by a scatter).
public final class Conv2d: Layer {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// Kernel size (1 or 3 typically).
    public let kernel: Int
    /// Stride.
    public let stride: Int
    /// Zero padding on every side.
    public let padding: Int
    /// `[Cout, Cin*k*k]`, He-normal initialised.
    public let weight: Parameter
    /// `[Cout]`; nil without bias (e.g. before BatchNorm).
    public let bias: Parameter?
    private let output = Tensor()
    private let inputGradient = Tensor()
    /// `[Cin, Cout*k*k]`: the kernel flipped in space with the channel axes swapped.
    private let flipped = Tensor()
    private var workspaces: [Workspace] = []
    private var input: Tensor?

    /// One part's buffers: the unfolded sample and the part's share of the parameter gradients.
    private final class Workspace {
        let columns = Tensor()
        let weightGradient = Tensor()
        let biasGradient = Tensor()
    }

    /// Creates the layer and draws its weights from `rng` by `initialization`.
    public init(
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        initialization: WeightInitialization = .heNormal, rng: inout SeededGenerator
    ) {
        precondition(kernel > 0 && stride > 0 && padding >= 0)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernel * kernel
        weight = Parameter(name: "weight", shape: Shape(outChannels, fanIn), decays: true)
        self.bias = bias ? Parameter(name: "bias", shape: Shape(outChannels), decays: false) : nil
        initialization.fill(weight.value, fanIn: fanIn, rng: &rng)
    }

    private var pointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    /// The input gradient is the convolution of the output gradient with the flipped kernel.
    private var flippable: Bool { stride == 1 && kernel == 2 * padding + 1 }

    public func outputShape(for s: Shape) -> Shape? {
        guard s.rank == 4, s.c == inChannels else { return nil }
        let ho = (s.h + 2 * padding - kernel) / stride + 1
        let wo = (s.w + 2 * padding - kernel) / stride + 1
        guard ho > 0, wo > 0 else { return nil }
        return Shape(s.n, outChannels, ho, wo)
    }

    /// `parts` workspaces (created once; reused while the batch size stays).
    private func workspaces(_ parts: Int) -> [Workspace] {
        while workspaces.count < parts { workspaces.append(Workspace()) }
        return workspaces
    }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        guard let os = outputShape(for: x.shape) else { preconditionFailure("Conv2d cannot take \(x.shape)") }
        input = x
        output.reshape(os)
        let (h, w, ho, wo) = (x.shape.h, x.shape.w, os.h, os.w)
        let spatial = ho * wo
        let rows = inChannels * kernel * kernel
        let inSize = x.shape.rowSize
        let n = x.shape.n
        let parts = Compute.sampleParts(n)
        let spaces = workspaces(parts)
        let (xp, yp, wp) = (x.pointer, output.pointer, weight.value.pointer)
        let (cin, cout, k, st, pad, pw) = (inChannels, outChannels, kernel, stride, padding, pointwise)
        let b = bias?.value.pointer
        let chunk = Conv2d.chunkRows(unfolded: rows, ho: ho, wo: wo)
        Compute.forEachPart(parts) { part in
            let columns = spaces[part].columns
            if !pw { columns.reshape(Shape(rows, chunk * wo)) }
            for s in Compute.range(of: part, parts: parts, count: n) {
                let xn = xp + s * inSize
                let yn = yp + s * cout * spatial
                if let b {
                    for c in 0..<cout { (yn + c * spatial).update(repeating: b[c], count: spatial) }
                }
                if pw {
                    BLAS.gemm(m: cout, n: spatial, k: rows, wp, lda: rows, xn, ldb: spatial, beta: b == nil ? 0 : 1, yn,
                              ldc: spatial, split: false)
                    continue
                }
                for r0 in Swift.stride(from: 0, to: ho, by: chunk) {
                    let r1 = min(ho, r0 + chunk), cols = (r1 - r0) * wo
                    alav_im2col_rows(xn, Int32(cin), Int32(h), Int32(w), Int32(k), Int32(st), Int32(pad), Int32(ho), Int32(wo),
                                     Int32(r0), Int32(r1), columns.pointer)
                    BLAS.gemm(m: cout, n: cols, k: rows, wp, lda: rows, columns.pointer, ldb: cols, beta: b == nil ? 0 : 1,
                              yn + r0 * wo, ldc: spatial, split: false)
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        backward(dy, inputGradient: true)
        return inputGradient
    }

    public func backwardParameters(_ dy: Tensor) { backward(dy, inputGradient: false) }

    private func backward(_ dy: Tensor, inputGradient needed: Bool) {
        guard let x = input else { preconditionFailure("backward before forward") }
        let (h, w, ho, wo) = (x.shape.h, x.shape.w, dy.shape.h, dy.shape.w)
        let spatial = ho * wo
        let rows = inChannels * kernel * kernel
        let inSize = x.shape.rowSize
        let n = x.shape.n
        let parts = Compute.sampleParts(n)
        let spaces = workspaces(parts)
        inputGradient.reshape(x.shape)
        let (cin, cout, k, st, pad, pw) = (inChannels, outChannels, kernel, stride, padding, pointwise)
        let flip = needed && flippable && !pw
        if flip { flipKernel() }
        let chunk = Conv2d.chunkRows(unfolded: rows, ho: ho, wo: wo)
        let flipChunk = Conv2d.chunkRows(unfolded: cout * kernel * kernel, ho: h, wo: w)
        let (xp, gp, dxp, wp, fp) = (x.pointer, dy.pointer, inputGradient.pointer, weight.value.pointer, flipped.pointer)
        let hasBias = bias != nil
        Compute.forEachPart(parts) { part in
            let space = spaces[part]
            let dW = space.weightGradient, dB = space.biasGradient, columns = space.columns
            dW.reshape(weight.value.shape)
            dW.fill(0)
            if hasBias { dB.reshape(Shape(cout)); dB.fill(0) }
            // Unfolded input rows, unfolded output-gradient rows (flipped kernel), or the column gradient.
            columns.reshape(Shape(max(rows * chunk * wo, flip ? cout * k * k * flipChunk * w : rows * spatial), 1))
            for s in Compute.range(of: part, parts: parts, count: n) {
                let xn = xp + s * inSize
                let dyn = gp + s * cout * spatial
                let dxn = dxp + s * inSize
                if hasBias {
                    for c in 0..<cout { dB[c] += vectorSum(dyn + c * spatial, spatial) }
                }
                if pw {
                    BLAS.gemm(transB: true, m: cout, n: rows, k: spatial, dyn, lda: spatial, xn, ldb: spatial, beta: 1,
                              dW.pointer, ldc: rows, split: false)
                    if needed {
                        BLAS.gemm(transA: true, m: rows, n: spatial, k: cout, wp, lda: rows, dyn, ldb: spatial, dxn,
                                  ldc: spatial, split: false)
                    }
                    continue
                }
                for r0 in Swift.stride(from: 0, to: ho, by: chunk) {
                    let r1 = min(ho, r0 + chunk), cols = (r1 - r0) * wo
                    alav_im2col_rows(xn, Int32(cin), Int32(h), Int32(w), Int32(k), Int32(st), Int32(pad), Int32(ho), Int32(wo),
                                     Int32(r0), Int32(r1), columns.pointer)
                    BLAS.gemm(transB: true, m: cout, n: rows, k: cols, dyn + r0 * wo, lda: spatial, columns.pointer, ldb: cols,
                              beta: 1, dW.pointer, ldc: rows, split: false)
                }
                guard needed else { continue }
                if flip {
                    // Same geometry (stride 1, same padding): dX rows r0..<r1 from the unfolded output gradient.
                    for r0 in Swift.stride(from: 0, to: h, by: flipChunk) {
                        let r1 = min(h, r0 + flipChunk), cols = (r1 - r0) * w
                        alav_im2col_rows(dyn, Int32(cout), Int32(ho), Int32(wo), Int32(k), 1, Int32(pad), Int32(h), Int32(w),
                                         Int32(r0), Int32(r1), columns.pointer)
                        BLAS.gemm(m: cin, n: cols, k: cout * k * k, fp, lda: cout * k * k, columns.pointer, ldb: cols,
                                  dxn + r0 * w, ldc: h * w, split: false)
                    }
                } else {
                    BLAS.gemm(transA: true, m: rows, n: spatial, k: cout, wp, lda: rows, dyn, ldb: spatial,
                              columns.pointer, ldc: spatial, split: false)
                    alav_col2im(columns.pointer, Int32(cin), Int32(h), Int32(w), Int32(k), Int32(st), Int32(pad), Int32(ho),
                                Int32(wo), dxn)
                }
            }
        }
        // The parts' gradients are added in part order (the same on any thread count).
        for part in 0..<parts {
            add(spaces[part].weightGradient, into: weight.gradient)
            if let b = bias { add(spaces[part].biasGradient, into: b.gradient) }
        }
    }

    /// Output rows unfolded at a time: all of them when the unfolded matrix fits 640 KiB (about a
    /// core's L2 cache), else chunks of at most 320 KiB. A function of the layer's geometry only.
    static func chunkRows(unfolded k: Int, ho: Int, wo: Int) -> Int {
        let rowBytes = k * wo * MemoryLayout<Float>.size
        if rowBytes * ho <= 640 << 10 { return ho }
        return max(1, min(ho, (320 << 10) / rowBytes))
    }

    /// `flipped[c, (o*k + i)*k + j] = weight[o, (c*k + (k-1-i))*k + (k-1-j)]`.
    private func flipKernel() {
        let (cin, cout, k) = (inChannels, outChannels, kernel)
        flipped.reshape(Shape(cin, cout * k * k))
        let (src, dst) = (weight.value.pointer, flipped.pointer)
        for o in 0..<cout {
            for c in 0..<cin {
                for i in 0..<k {
                    for j in 0..<k {
                        dst[c * cout * k * k + (o * k + i) * k + j] = src[o * cin * k * k + (c * k + (k - 1 - i)) * k + (k - 1 - j)]
                    }
                }
            }
        }
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
}

/// `target += source`, element by element (vectorised; the same bits as a scalar loop).
@inline(__always) func add(_ source: Tensor, into target: Tensor) {
    let count = target.count
    let (t, p) = (target.pointer, source.pointer)
    var i = 0
    while i + 8 <= count {
        store8(load8(t, i) + load8(p, i), t, i)
        i += 8
    }
    while i < count { t[i] += p[i]; i += 1 }
}
