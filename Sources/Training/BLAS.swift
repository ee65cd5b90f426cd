import CBLAS
import Foundation

/// Thin, typed entry points to OpenBLAS used by the layers and losses.
public enum BLAS {
    /// Row-major `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of shape `[m, k]` and
    /// `op(B)` of shape `[k, n]`; `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int
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
        let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
        if profiling {
            gemmNanoseconds &+= DispatchTime.now().uptimeNanoseconds &- start
            gemmCalls &+= 1
        }
    }

    /// When true, `gemm` accumulates its wall time into `gemmNanoseconds` (for benchmarks; not thread-safe).
    nonisolated(unsafe) public static var profiling = false
    /// Wall time spent in sgemm since the last reset, while `profiling` was on.
    nonisolated(unsafe) public static var gemmNanoseconds: UInt64 = 0
    /// sgemm calls since the last reset, while `profiling` was on.
    nonisolated(unsafe) public static var gemmCalls: Int = 0

    /// The number of threads OpenBLAS uses (process-global).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

/// Runs `body(0)` and `body(1)`: on two threads when OpenBLAS may use more than one, otherwise in
/// turn. The split into two parts is fixed, so results do not depend on the thread count.
@inline(__always) func inTwoParts(_ body: (Int) -> Void) {
    if BLAS.threads > 1 {
        DispatchQueue.concurrentPerform(iterations: 2, execute: body)
    } else {
        body(0)
        body(1)
    }
}
