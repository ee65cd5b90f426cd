import CHDF5
import Foundation

/// The process-wide HDF5 lock: every HDF5 call in this module runs while holding it.
///
/// The lock is recursive, so a locked entry point may call another one. HDF5's thread-safe
/// build keeps its error-printing switch per thread, so it is turned off on every acquisition.
enum HDF5Library {
    private static let mutex = NSRecursiveLock()

    /// Acquires the lock; pair with `unlock()` through `defer`.
    static func lock() {
        mutex.lock()
        _ = alv_h5_disable_error_printing()
    }

    /// Releases the lock taken by `lock()`.
    static func unlock() {
        mutex.unlock()
    }

    /// Runs a non-throwing body under the lock.
    static func locked<T>(_ body: () -> T) -> T {
        lock()
        defer { unlock() }
        return body()
    }

    /// HDF5's default property list.
    static var defaultPlist: hid_t { alv_h5p_default() }
}
