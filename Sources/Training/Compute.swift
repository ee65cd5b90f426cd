import CBLAS
import Dispatch
import Foundation

/// The threads alaverify's own parallel loops use, and the rule that keeps every result
/// independent of their number.
///
/// OpenBLAS always runs single-threaded: its x86-64 kernels (Haswell, Zen, SkylakeX...) compute
/// an output element with a different rounding depending on where the element falls in the tile
/// grid, and that grid depends on how many threads share the product — so a threaded sgemm gives
/// other bits with 1 and with 2 threads. Instead, work is cut into parts fixed by the problem's
/// size alone (rows of a product, samples of a batch, blocks of a pair matrix); the thread count
/// only decides which thread runs which part, never how the work is cut or summed.
public enum Compute {
    /// Threads for parallel parts: `ALAVERIFY_THREADS`, else `OPENBLAS_NUM_THREADS` (the setting
    /// users know from numpy), else one per active core; at least 1. Results do not depend on it.
    public static var threads: Int {
        get { _ = blasSingleThreaded; return configuredThreads }
        set { _ = blasSingleThreaded; configuredThreads = max(1, newValue) }
    }

    nonisolated(unsafe) private static var configuredThreads: Int = defaultThreads()

    /// The thread count from the environment (see `threads`).
    public static func defaultThreads(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        for key in ["ALAVERIFY_THREADS", "OPENBLAS_NUM_THREADS"] {
            if let text = environment[key], let n = Int(text.trimmingCharacters(in: .whitespaces)), n >= 1 { return n }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Set once, before the first product: OpenBLAS must never split a product between threads.
    private static let blasSingleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Makes sure OpenBLAS runs single-threaded (called before every product; a cheap check after the first).
    @inline(__always) static func ensureSerialBLAS() { _ = blasSingleThreaded }

    /// Runs `body(part)` for every part in `0..<count`, on up to `threads` threads (in turn when
    /// there is one thread, or when called from inside another part: parts never nest threads).
    ///
    /// `body` must write only what belongs to its part; combining parts is the caller's job, in a
    /// fixed order, so that the result does not depend on which thread ran which part.
    public static func forEachPart(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(threads, count)
        if workers <= 1 || ParallelRegion.isActive {
            for p in 0..<count { body(p) }
            return
        }
        let ran = WorkerPool.shared.run(workers: workers) { w in
            var p = w
            while p < count {
                body(p)
                p += workers
            }
        }
        // The pool serves one caller at a time; another caller's parts run in turn (same results).
        if !ran { for p in 0..<count { body(p) } }
    }

    /// Runs `body(range)` over `count` elements cut into ranges of 2^16 (a multiple of 8) as
    /// parts: for elementwise work, whose results do not depend on the cut at all.
    @inline(__always) public static func forEachRange(_ count: Int, _ body: (Range<Int>) -> Void) {
        let chunk = 1 << 16
        if count <= chunk { body(0..<count); return }
        forEachPart((count + chunk - 1) / chunk) { p in body((p * chunk)..<min(count, (p + 1) * chunk)) }
    }

    /// The parts a batch of `n` samples is cut into: at most 8, a function of `n` only.
    @inline(__always) public static func sampleParts(_ n: Int) -> Int { max(1, min(n, 8)) }

    /// The half-open range of part `part` when `count` items are cut into `parts` nearly equal,
    /// contiguous parts (earlier parts are never larger than later ones by more than one item).
    @inline(__always)
    public static func range(of part: Int, parts: Int, count: Int) -> Range<Int> {
        (part * count / parts)..<((part + 1) * count / parts)
    }
}

/// Whether the current thread is running a part of `Compute.forEachPart` (a thread-local flag).
enum ParallelRegion {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    static var isActive: Bool { pthread_getspecific(key) != nil }

    static func run(_ body: () -> Void) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, previous) }
        body()
    }
}

extension Compute {
    /// The OpenBLAS kernel set in use (`Zen`, `Haswell`, `SkylakeX`...), chosen by the CPU when the
    /// library loads or forced by `OPENBLAS_CORETYPE`.
    public static var blasCore: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// One line for logs: `2 threads (ALAVERIFY_THREADS), OpenBLAS kernels for Zen, single-threaded calls`.
    public static var summary: String {
        let env = ProcessInfo.processInfo.environment
        let source = env["ALAVERIFY_THREADS"] != nil ? "ALAVERIFY_THREADS" : (env["OPENBLAS_NUM_THREADS"] != nil ? "OPENBLAS_NUM_THREADS" : "cores")
        return "\(threads) thread\(threads == 1 ? "" : "s") (\(source)), OpenBLAS kernels for \(blasCore), single-threaded calls"
    }
}

/// Worker threads for `Compute.forEachPart`, started once and kept: handing parts to them takes a
/// semaphore signal each and one boxed closure context per call (GCD's `concurrentPerform` cost
/// several allocations and more time per call).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let lock = NSLock()
    private var busy = false
    private var starts: [DispatchSemaphore] = []
    private let done = DispatchSemaphore(value: 0)
    /// The running job (valid while `run` waits for it).
    private var job: ((Int) -> Void)?

    /// Runs `body(0)` on the calling thread and `body(1..<workers)` on pool threads, and waits for
    /// all; returns false without running anything when another caller is using the pool.
    func run(workers: Int, _ body: (Int) -> Void) -> Bool {
        lock.lock()
        if busy { lock.unlock(); return false }
        busy = true
        while starts.count < workers - 1 { startThread(index: starts.count + 1) }
        lock.unlock()
        // Handing the closure to other threads boxes its context: one small allocation per call.
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            for w in 1..<workers { starts[w - 1].signal() }
            ParallelRegion.run { escapable(0) }
            for _ in 1..<workers { done.wait() }
            job = nil
        }
        lock.lock()
        busy = false
        lock.unlock()
        return true
    }

    private func startThread(index: Int) {
        let start = DispatchSemaphore(value: 0)
        starts.append(start)
        let thread = Thread { [unowned self] in
            while true {
                start.wait()
                ParallelRegion.run { self.job!(index) }
                self.done.signal()
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
