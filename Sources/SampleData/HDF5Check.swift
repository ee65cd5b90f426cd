import CHDF5

/// Where an HDF5 call happened, for error messages: the file and, when known, the object.
struct HDF5Site: Sendable {
    /// The file's path as the user gave it.
    var file: String
    /// The dataset, group or attribute path inside the file, if any.
    var object: String?

    /// The `DataError.location` text for this site (nil for the root group).
    var location: String? {
        guard let object, object != "/" else { return nil }
        return "dataset \(object)"
    }

    /// A bad-input error at this site.
    func error(_ message: String) -> DataError {
        DataError(file: file, location: location, message)
    }
}

/// The checking funnel: every HDF5 status goes through here.
///
/// A negative value becomes a `DataError` naming the file, the object, the operation and the
/// innermost message on HDF5's error stack; the stack is cleared afterwards.
@discardableResult
func h5check<S: BinaryInteger>(_ status: S, _ site: HDF5Site, _ operation: @autoclosure () -> String) throws(DataError) -> S {
    if status >= 0 { return status }
    let detail = hdf5ErrorStackMessage()
    let text = detail.isEmpty ? "\(operation()) failed" : "\(operation()) failed: \(detail)"
    throw site.error(text)
}

/// The innermost message(s) on the calling thread's HDF5 error stack, then clears it.
func hdf5ErrorStackMessage() -> String {
    final class Collector { var entries: [(desc: String, minor: String)] = [] }
    let collector = Collector()
    let walker: H5E_walk2_t = { _, entry, context in
        guard let entry, let context else { return 0 }
        let box = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
        let desc = entry.pointee.desc.map { String(cString: $0) } ?? ""
        var buffer = [CChar](repeating: 0, count: 256)
        var kind = H5E_MINOR
        let n = H5Eget_msg(entry.pointee.min_num, &kind, &buffer, buffer.count)
        let minor = n > 0 ? String(cString: buffer) : ""
        box.entries.append((desc, minor))
        return 0
    }
    let stack = alv_h5e_default()
    _ = withExtendedLifetime(collector) {
        H5Ewalk2(stack, H5E_WALK_UPWARD, walker, Unmanaged.passUnretained(collector).toOpaque())
    }
    _ = H5Eclear2(stack)
    guard let inner = collector.entries.first else { return "" }
    var text = inner.desc
    if !inner.minor.isEmpty, inner.minor.lowercased() != inner.desc.lowercased() {
        text += text.isEmpty ? inner.minor : " (\(inner.minor.lowercased()))"
    }
    return text
}
