import CBLAS
import Foundation

/// Thin, typed entry points to OpenBLAS used by the layers and losses.
public enum BLAS {
    /// Row-major `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of shape `[m, k]` and
    /// `op(B)` of shape `[k, n]`; `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    ///
    /// A large product is cut into blocks of rows (or of columns, when `n > m`) by `blocks(m:n:k:)`,
    /// which looks at the shape only, and the blocks run as parts on `Compute.threads` threads, each
    /// a single-threaded sgemm: the same shape gives the same bits on any thread count. `split:
    /// false` keeps one call (for callers that parallelise around many small products).
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int, split: Bool = true
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 {
                for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) }
            } else if beta != 1 {
                for r in 0..<m { for j in 0..<n { c[r * ldc + j] *= beta } }
            }
            return
        }
        Compute.ensureSerialBLAS()
        let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        let parts = split ? blocks(m: m, n: n, k: k) : 1
        if parts == 1 {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n {
            Compute.forEachPart(parts) { p in
                let r = blockRange(p, parts: parts, count: m)
                sgemm(transA, transB, r.count, n, k, alpha, transA ? a + r.lowerBound : a + r.lowerBound * lda, lda, b, ldb,
                      beta, c + r.lowerBound * ldc, ldc)
            }
        } else {
            Compute.forEachPart(parts) { p in
                let r = blockRange(p, parts: parts, count: n)
                sgemm(transA, transB, m, r.count, k, alpha, a, lda, transB ? b + r.lowerBound * ldb : b + r.lowerBound, ldb,
                      beta, c + r.lowerBound, ldc)
            }
        }
        if profiling {
            gemmNanoseconds &+= DispatchTime.now().uptimeNanoseconds &- start
            gemmCalls &+= 1
        }
    }

    /// The number of blocks a product of this shape is cut into: 1 below 4M multiply-adds, else
    /// one per 128 rows (or columns) of the longer side, at most 8. A function of the shape only.
    public static func blocks(m: Int, n: Int, k: Int) -> Int {
        guard m * n * k >= 1 << 22 else { return 1 }
        return min(8, max(1, max(m, n) / 128))
    }

    /// Block `p` of `parts` over `count` rows or columns, boundaries on multiples of 16.
    @inline(__always) static func blockRange(_ p: Int, parts: Int, count: Int) -> Range<Int> {
        func edge(_ q: Int) -> Int { q == parts ? count : (q * count / parts) & ~15 }
        return edge(p)..<edge(p + 1)
    }

    @inline(__always)
    private static func sgemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>,
        _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// When true, `gemm` accumulates its wall time into `gemmNanoseconds` (for benchmarks; not thread-safe).
    nonisolated(unsafe) public static var profiling = false
    /// Wall time spent in sgemm since the last reset, while `profiling` was on.
    nonisolated(unsafe) public static var gemmNanoseconds: UInt64 = 0
    /// sgemm calls since the last reset, while `profiling` was on.
    nonisolated(unsafe) public static var gemmCalls: Int = 0

}

/// Runs `body(0)` and `body(1)` as two parts (on two threads when `Compute.threads` allows). The
/// split into two parts is fixed, so results do not depend on the thread count.
@inline(__always) func inTwoParts(_ body: (Int) -> Void) {
    Compute.forEachPart(2, body)
}
