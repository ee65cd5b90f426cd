import CHDF5
import Foundation

/// The process-wide HDF5 lock: every HDF5 call in this module runs while holding it.
///
/// The lock is recursive, so a locked entry point may call another one. HDF5's thread-safe
/// build keeps its error-printing switch per thread, so it is turned off on every acquisition.
///
/// HDF5 is told not to tear itself down at process exit (`H5dont_atexit`, before its first
/// call): every file is closed explicitly, and files are written under a temporary name and
/// renamed only after their close succeeds, so there is nothing left for an exit-time teardown to
/// flush. That teardown ran while a background batch reader could still be inside HDF5 and then
/// printed "HDF5: infinite loop closing library" after a test run's summary line.
enum HDF5Library {
    private static let mutex = NSRecursiveLock()

    /// Whether HDF5 accepted `H5dont_atexit` (it does only before its first call); read once.
    static let exitTeardownDisabled: Bool = H5dont_atexit() >= 0

    /// Acquires the lock; pair with `unlock()` through `defer`.
    static func lock() {
        _ = exitTeardownDisabled
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
