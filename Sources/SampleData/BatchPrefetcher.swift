import Foundation

/// Loads batches 0..<count in order on a background thread, up to `depth` ahead of the consumer,
/// so reading overlaps compute while memory stays bounded by `depth + 1` batches.
///
/// Dropping the prefetcher stops its thread after the batch being loaded.
public final class BatchPrefetcher<Batch: Sendable>: @unchecked Sendable {
    /// The number of batches.
    public let count: Int
    private let state: State

    /// Starts loading; `load(i)` produces batch i and may throw a `DataError`.
    public init(count: Int, depth: Int = 2, load: @escaping @Sendable (Int) throws(DataError) -> Batch) {
        self.count = max(0, count)
        let state = State(count: self.count, depth: max(1, depth), load: load)
        self.state = state
        let thread = Thread { state.run() }
        thread.name = "alaverify.prefetch"
        thread.start()
    }

    deinit { state.cancel() }

    /// Total seconds `next()` spent waiting for a batch that was not ready yet (the stall time).
    public var stallSeconds: Double { state.stallSeconds }

    /// Stops loading further batches; `next()` then returns nil.
    public func cancel() { state.cancel() }

    /// The next batch in order, nil after the last; rethrows the loader's error for that batch
    /// and for every later one (loading stops at the first error).
    public func next() throws(DataError) -> Batch? { try state.next() }

    /// The shared state between the consumer and the loading thread.
    private final class State: @unchecked Sendable {
        let count: Int
        let depth: Int
        let load: @Sendable (Int) throws(DataError) -> Batch
        let condition = NSCondition()
        var ready: [Int: Result<Batch, DataError>] = [:]
        var consumed = 0
        var cancelled = false
        /// The loader's error; the thread stops there, so later batches fail with it too.
        var failure: DataError?
        var waited: Double = 0

        init(count: Int, depth: Int, load: @escaping @Sendable (Int) throws(DataError) -> Batch) {
            self.count = count
            self.depth = depth
            self.load = load
        }

        var stallSeconds: Double {
            condition.lock(); defer { condition.unlock() }
            return waited
        }

        func cancel() {
            condition.lock()
            cancelled = true
            ready = [:]
            condition.broadcast()
            condition.unlock()
        }

        func next() throws(DataError) -> Batch? {
            condition.lock()
            defer { condition.unlock() }
            guard consumed < count, !cancelled else { return nil }
            let index = consumed
            if ready[index] == nil {
                let start = Date()
                while ready[index] == nil && !cancelled && failure == nil { condition.wait() }
                waited += Date().timeIntervalSince(start)
            }
            guard let result = ready.removeValue(forKey: index) else {
                if let failure, !cancelled { throw failure }
                return nil
            }
            consumed += 1
            condition.broadcast()
            return try result.get()
        }

        func run() {
            for index in 0..<count {
                condition.lock()
                while !cancelled && index >= consumed + depth { condition.wait() }
                let stop = cancelled
                condition.unlock()
                if stop { return }
                let result: Result<Batch, DataError>
                do { result = .success(try load(index)) } catch { result = .failure(error) }
                condition.lock()
                if !cancelled { ready[index] = result }
                if case .failure(let error) = result { failure = error }
                condition.broadcast()
                condition.unlock()
                if case .failure = result { return }
            }
        }
    }
}
