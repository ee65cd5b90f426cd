import AlaverifyBase
import ScoreMetrics

/// A 2-D convolution `[N, Cin, H, W]` -> `[N, Cout, Ho, Wo]` with square kernels, stride and
/// zero padding, computed per sample as `W [Cout, Cin*k*k] x im2col(x) [Cin*k*k, Ho*Wo]` (sgemm).
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
    private let columns = Tensor()
    private let columnGradient = Tensor()
    private var input: Tensor?

    /// Creates the layer and draws its weights from `rng`.
    public init(
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        rng: inout SeededGenerator
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
        let std = (2.0 / Double(fanIn)).squareRoot()
        for i in 0..<weight.value.count { weight.value[i] = Float(rng.normal() * std) }
    }

    private var pointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    public func outputShape(for s: Shape) -> Shape? {
        guard s.rank == 4, s.c == inChannels else { return nil }
        let ho = (s.h + 2 * padding - kernel) / stride + 1
        let wo = (s.w + 2 * padding - kernel) / stride + 1
        guard ho > 0, wo > 0 else { return nil }
        return Shape(s.n, outChannels, ho, wo)
    }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        guard let os = outputShape(for: x.shape) else { preconditionFailure("Conv2d cannot take \(x.shape)") }
        input = x
        output.reshape(os)
        let (ho, wo) = (os.h, os.w)
        let spatial = ho * wo
        let rows = inChannels * kernel * kernel
        let inSize = x.shape.rowSize
        if !pointwise { columns.reshape(Shape(rows, spatial)) }
        for n in 0..<x.shape.n {
            let xn = x.pointer + n * inSize
            let yn = output.pointer + n * outChannels * spatial
            let col: UnsafePointer<Float>
            if pointwise {
                col = UnsafePointer(xn)
            } else {
                im2col(xn, h: x.shape.h, w: x.shape.w, ho: ho, wo: wo, into: columns.pointer)
                col = UnsafePointer(columns.pointer)
            }
            if let b = bias {
                for c in 0..<outChannels { (yn + c * spatial).update(repeating: b.value[c], count: spatial) }
            }
            BLAS.gemm(m: outChannels, n: spatial, k: rows, weight.value.pointer, lda: rows, col, ldb: spatial,
                      beta: bias == nil ? 0 : 1, yn, ldc: spatial)
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
        let (ho, wo) = (dy.shape.h, dy.shape.w)
        let spatial = ho * wo
        let rows = inChannels * kernel * kernel
        let inSize = x.shape.rowSize
        inputGradient.reshape(x.shape)
        if !pointwise {
            columns.reshape(Shape(rows, spatial))
            columnGradient.reshape(Shape(rows, spatial))
        }
        for n in 0..<x.shape.n {
            let xn = x.pointer + n * inSize
            let dyn = dy.pointer + n * outChannels * spatial
            let dxn = inputGradient.pointer + n * inSize
            if let b = bias {
                let g = b.gradient.pointer
                for c in 0..<outChannels { g[c] += vectorSum(dyn + c * spatial, spatial) }
            }
            if pointwise {
                BLAS.gemm(transB: true, m: outChannels, n: rows, k: spatial, dyn, lda: spatial, xn, ldb: spatial,
                          beta: 1, weight.gradient.pointer, ldc: rows)
                if !needed { continue }
                BLAS.gemm(transA: true, m: rows, n: spatial, k: outChannels, weight.value.pointer, lda: rows,
                          dyn, ldb: spatial, dxn, ldc: spatial)
            } else {
                im2col(xn, h: x.shape.h, w: x.shape.w, ho: ho, wo: wo, into: columns.pointer)
                BLAS.gemm(transB: true, m: outChannels, n: rows, k: spatial, dyn, lda: spatial, columns.pointer,
                          ldb: spatial, beta: 1, weight.gradient.pointer, ldc: rows)
                if !needed { continue }
                BLAS.gemm(transA: true, m: rows, n: spatial, k: outChannels, weight.value.pointer, lda: rows,
                          dyn, ldb: spatial, columnGradient.pointer, ldc: spatial)
                col2im(columnGradient.pointer, h: x.shape.h, w: x.shape.w, ho: ho, wo: wo, into: dxn)
            }
        }
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// Calls `body(c, ki, kj, tap, columns)` for every kernel tap, where `tap` is the row of the
    /// unfolded matrix and `columns` the output columns whose input column
    /// `ox * stride - padding + kj` lies inside a row of width `w`.
    @inline(__always)
    private func forEachTap(w: Int, wo: Int, _ body: (_ c: Int, _ ki: Int, _ kj: Int, _ tap: Int, _ columns: Range<Int>) -> Void) {
        for c in 0..<inChannels {
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let lo = min(wo, max(0, (padding - kj + stride - 1) / stride))
                    let last = w - 1 + padding - kj
                    let hi = last < 0 ? lo : max(lo, min(wo, last / stride + 1))
                    body(c, ki, kj, (c * kernel + ki) * kernel + kj, lo..<hi)
                }
            }
        }
    }

    /// Unfolds one sample `[C, H, W]` into `[C*k*k, Ho*Wo]`.
    private func im2col(_ x: UnsafePointer<Float>, h: Int, w: Int, ho: Int, wo: Int, into col: UnsafeMutablePointer<Float>) {
        let spatial = ho * wo
        forEachTap(w: w, wo: wo) { c, ki, kj, tap, columns in
            let row = col + tap * spatial, xc = x + c * h * w
            let (lo, hi) = (columns.lowerBound, columns.upperBound)
            for oy in 0..<ho {
                let iy = oy * stride - padding + ki
                let dst = row + oy * wo
                if iy < 0 || iy >= h {
                    dst.update(repeating: 0, count: wo)
                    continue
                }
                let src = xc + iy * w - padding + kj
                if lo > 0 { dst.update(repeating: 0, count: lo) }
                if stride == 1 {
                    (dst + lo).update(from: src + lo, count: hi - lo)
                } else {
                    for ox in columns { dst[ox] = src[ox * stride] }
                }
                if hi < wo { (dst + hi).update(repeating: 0, count: wo - hi) }
            }
        }
    }

    /// Folds `[C*k*k, Ho*Wo]` back into one sample `[C, H, W]`, summing overlaps (overwrites `x`).
    private func col2im(_ col: UnsafePointer<Float>, h: Int, w: Int, ho: Int, wo: Int, into x: UnsafeMutablePointer<Float>) {
        let spatial = ho * wo
        x.update(repeating: 0, count: inChannels * h * w)
        forEachTap(w: w, wo: wo) { c, ki, kj, tap, columns in
            let row = col + tap * spatial, xc = x + c * h * w
            for oy in 0..<ho {
                let iy = oy * stride - padding + ki
                if iy < 0 || iy >= h { continue }
                let src = row + oy * wo
                let dst = xc + iy * w - padding + kj
                for ox in columns { dst[ox * stride] += src[ox] }
            }
        }
    }
}
