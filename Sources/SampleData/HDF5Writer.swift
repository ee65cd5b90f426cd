import AlaverifyBase
import CHDF5
import Foundation

/// Writes a new HDF5 file under a temporary name in the target directory; `close()` renames it
/// into place, so a reader never sees a half-written file. Dropping an unclosed writer deletes
/// the temporary file.
public final class HDF5Writer: @unchecked Sendable {
    /// The final path of the file.
    public let path: String
    /// The temporary path written until `close()`.
    public let temporaryPath: String
    private var id: hid_t
    private var closed = false
    private var openDatasets: [HDF5OpenHandle] = []

    /// Starts writing a new file that will replace `path` on `close()`.
    public init(path: String) throws(DataError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let unique = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0 ... .max))"
        temporaryPath = directory + "/." + url.lastPathComponent + ".tmp-" + unique
        let site = HDF5Site(file: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw site.error("directory \(directory) does not exist")
        }
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let fapl = try h5check(H5Pcreate(alv_h5p_file_access()), site, "creating the file")
        defer { _ = H5Pclose(fapl) }
        // HDF5 1.10 format: every metadata structure, chunk indexes included, carries a
        // checksum, so damage is reported instead of read as data. Readable by HDF5 1.10+.
        try h5check(H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110), site, "setting the file format version")
        // No object timestamps (root group, groups, datasets): the same content gives the same bytes.
        let fcpl = try h5check(H5Pcreate(alv_h5p_file_create()), site, "creating the file")
        defer { _ = H5Pclose(fcpl) }
        try h5check(H5Pset_obj_track_times(fcpl, false), site, "turning off timestamps")
        id = try h5check(H5Fcreate(temporaryPath, alv_h5f_acc_trunc(), fcpl, fapl), site, "creating the file")
    }

    deinit {
        if !closed {
            HDF5Library.locked {
                for handle in openDatasets { handle.close() }
                _ = H5Fclose(id)
                _ = H5Eclear2(alv_h5e_default())
            }
            unlink(temporaryPath)
        }
    }

    private func site(_ object: String? = nil) -> HDF5Site { HDF5Site(file: path, object: object) }

    private func checkOpen(_ object: String) throws(DataError) {
        if closed { throw site(object).error("the writer is already closed") }
    }

    /// Writes `values` as a dataset of `shape` (default 1-d), chunked along the first dimension and compressed.
    public func write<T: HDF5Scalar>(
        _ objectPath: String, _ values: [T], shape: [Int]? = nil, chunkRows: Int? = nil, compression: Int = 4
    ) throws(DataError) {
        let dims = shape ?? [values.count]
        guard ShapeMath.elementCount(dims) == values.count else {
            throw site(objectPath).error("\(values.count) values do not fill shape \(dims)")
        }
        let dataset = try createDataset(objectPath, shape: dims, of: T.self, chunkRows: chunkRows, compression: compression)
        try values.withUnsafeBufferPointer { buffer throws(DataError) in try dataset.writeRows(at: 0, buffer) }
        dataset.close()
    }

    /// Creates a numeric dataset of `shape` to be filled with `writeRows`.
    public func createDataset<T: HDF5Scalar>(
        _ objectPath: String, shape: [Int], of type: T.Type, chunkRows: Int? = nil, compression: Int = 4
    ) throws(DataError) -> HDF5DatasetWriter<T> {
        try checkOpen(objectPath)
        let s = site(objectPath)
        guard let nativeType = T.hdf5Type.nativeTypeID else { throw s.error("unsupported element type") }
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else { throw s.error("invalid shape \(shape)") }
        let rowElements = ShapeMath.elementCount(Array(shape.dropFirst())) ?? 0
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let dims = shape.map { hsize_t($0) }
        let space = try h5check(H5Screate_simple(Int32(shape.count), dims, nil), s, "creating the dataspace")
        defer { _ = H5Sclose(space) }
        let dcpl = try h5check(H5Pcreate(alv_h5p_dataset_create()), s, "creating the dataset")
        defer { _ = H5Pclose(dcpl) }
        try h5check(H5Pset_obj_track_times(dcpl, false), s, "turning off timestamps")
        try createParentGroups(objectPath)
        if shape.allSatisfy({ $0 > 0 }) {
            let rowBytes = max(1, rowElements * MemoryLayout<T>.stride)
            let rows = min(shape[0], max(1, chunkRows ?? max(1, (256 << 10) / rowBytes)))
            var chunk = dims
            chunk[0] = hsize_t(rows)
            try h5check(H5Pset_chunk(dcpl, Int32(shape.count), chunk), s, "setting the chunk shape")
            if MemoryLayout<T>.stride > 1 { try h5check(H5Pset_shuffle(dcpl), s, "enabling shuffle") }
            if compression > 0 { try h5check(H5Pset_deflate(dcpl, UInt32(min(compression, 9))), s, "enabling gzip") }
            try h5check(H5Pset_fletcher32(dcpl), s, "enabling checksums")
        }
        let lcpl = try h5check(H5Pcreate(alv_h5p_link_create()), s, "creating the dataset")
        defer { _ = H5Pclose(lcpl) }
        try h5check(H5Pset_create_intermediate_group(lcpl, 1), s, "allowing intermediate groups")
        let dataset = try h5check(H5Dcreate2(id, objectPath, nativeType, space, lcpl, dcpl, HDF5Library.defaultPlist), s, "creating the dataset")
        let handle = HDF5OpenHandle(id: dataset)
        openDatasets.removeAll { $0.isClosed }
        openDatasets.append(handle)
        return HDF5DatasetWriter(handle: handle, shape: shape, site: s)
    }

    /// Writes `values` as a 1-d variable-length UTF-8 string dataset.
    public func writeStrings(_ objectPath: String, _ values: [String]) throws(DataError) {
        try checkOpen(objectPath)
        let s = site(objectPath)
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let type = try HDF5Strings.variableUTF8Type(s)
        defer { _ = H5Tclose(type) }
        var dims = [hsize_t(values.count)]
        let space = try h5check(H5Screate_simple(1, &dims, nil), s, "creating the dataspace")
        defer { _ = H5Sclose(space) }
        let lcpl = try h5check(H5Pcreate(alv_h5p_link_create()), s, "creating the dataset")
        defer { _ = H5Pclose(lcpl) }
        try h5check(H5Pset_create_intermediate_group(lcpl, 1), s, "allowing intermediate groups")
        let dcpl = try h5check(H5Pcreate(alv_h5p_dataset_create()), s, "creating the dataset")
        defer { _ = H5Pclose(dcpl) }
        try h5check(H5Pset_obj_track_times(dcpl, false), s, "turning off timestamps")
        try createParentGroups(objectPath)
        let dataset = try h5check(H5Dcreate2(id, objectPath, type, space, lcpl, dcpl, HDF5Library.defaultPlist), s, "creating the dataset")
        defer { _ = H5Dclose(dataset) }
        if values.isEmpty { return }
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let status = copies.withUnsafeBufferPointer { buffer in
            H5Dwrite(dataset, type, alv_h5s_all(), alv_h5s_all(), HDF5Library.defaultPlist, buffer.baseAddress)
        }
        try h5check(status, s, "writing strings")
    }

    /// Creates the group at `objectPath` (and its parents) unless it exists.
    public func createGroup(_ objectPath: String) throws(DataError) {
        try checkOpen(objectPath)
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        if try groupExists(objectPath) { return }
        let s = site(objectPath)
        let lcpl = try h5check(H5Pcreate(alv_h5p_link_create()), s, "creating the group")
        defer { _ = H5Pclose(lcpl) }
        try h5check(H5Pset_create_intermediate_group(lcpl, 1), s, "allowing intermediate groups")
        let gcpl = try h5check(H5Pcreate(alv_h5p_group_create()), s, "creating the group")
        defer { _ = H5Pclose(gcpl) }
        try h5check(H5Pset_obj_track_times(gcpl, false), s, "turning off timestamps")
        let group = try h5check(H5Gcreate2(id, objectPath, lcpl, gcpl, HDF5Library.defaultPlist), s, "creating the group")
        _ = H5Gclose(group)
    }

    /// Creates the groups above `objectPath` that do not exist yet (without timestamps).
    private func createParentGroups(_ objectPath: String) throws(DataError) {
        let parts = objectPath.split(separator: "/")
        var prefix = ""
        for part in parts.dropLast() {
            prefix += "/" + part
            try createGroup(prefix)
        }
    }

    private func groupExists(_ objectPath: String) throws(DataError) -> Bool {
        var prefix = ""
        for part in objectPath.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, HDF5Library.defaultPlist) <= 0 { _ = H5Eclear2(alv_h5e_default()); return false }
        }
        return true
    }

    /// Sets a string attribute on the object at `objectPath` (the root by default).
    public func setAttribute(_ name: String, _ value: String, on objectPath: String = "/") throws(DataError) {
        try withObject(objectPath) { object, s throws(DataError) in
            try HDF5Attributes.writeString(object: object, name: name, value: value, s)
        }
    }

    /// Sets an int64 attribute on the object at `objectPath` (the root by default).
    public func setAttribute(_ name: String, _ value: Int64, on objectPath: String = "/") throws(DataError) {
        try withObject(objectPath) { object, s throws(DataError) in
            try HDF5Attributes.writeInteger(object: object, name: name, value: value, s)
        }
    }

    /// Opens the object at `objectPath` under the library lock for `body`, then closes it.
    private func withObject(_ objectPath: String, _ body: (hid_t, HDF5Site) throws(DataError) -> Void) throws(DataError) {
        try checkOpen(objectPath)
        try createGroupIfRoot(objectPath)
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let s = site(objectPath)
        let object = try h5check(H5Oopen(id, objectPath, HDF5Library.defaultPlist), s, "opening the object")
        defer { _ = H5Oclose(object) }
        try body(object, s)
    }

    private func createGroupIfRoot(_ objectPath: String) throws(DataError) {
        if objectPath != "/" && !objectPath.isEmpty {
            HDF5Library.lock()
            defer { HDF5Library.unlock() }
            if try !groupExists(objectPath) { throw site(objectPath).error("no such object") }
        }
    }

    /// Flushes and closes the file, fsyncs it, then renames it to `path`.
    public func close() throws(DataError) {
        if closed { return }
        closed = true
        HDF5Library.lock()
        for handle in openDatasets { handle.close() }
        openDatasets = []
        let status = H5Fclose(id)
        let detail = status < 0 ? hdf5ErrorStackMessage() : ""
        HDF5Library.unlock()
        if status < 0 {
            unlink(temporaryPath)
            throw site().error("closing the file failed: \(detail)")
        }
        // fsync, then rename: after a crash the new name holds either the old file or the
        // complete new one, never a torn write.
        do { try AtomicFile.commit(temporaryPath, to: path) } catch {
            throw site().error("cannot move the finished file into place: \(error.reason)")
        }
    }
}

/// One open dataset id shared between a writer and its dataset writer.
final class HDF5OpenHandle: @unchecked Sendable {
    let id: hid_t
    private(set) var isClosed = false

    init(id: hid_t) { self.id = id }

    /// Closes the id once (the caller holds the HDF5 lock or none is needed).
    func close() {
        HDF5Library.locked {
            if !isClosed { _ = H5Dclose(id); isClosed = true }
        }
    }

    deinit { close() }
}

/// Fills a dataset created by `HDF5Writer.createDataset` in slabs of whole rows.
public final class HDF5DatasetWriter<T: HDF5Scalar>: @unchecked Sendable {
    /// The dataset's shape.
    public let shape: [Int]
    private let handle: HDF5OpenHandle
    private let site: HDF5Site
    private let rowElements: Int

    init(handle: HDF5OpenHandle, shape: [Int], site: HDF5Site) {
        self.handle = handle
        self.shape = shape
        self.site = site
        rowElements = ShapeMath.elementCount(Array(shape.dropFirst())) ?? 0
    }

    /// Writes whole rows starting at row `start`; `values.count` must be a multiple of the row size.
    public func writeRows(at start: Int, _ values: UnsafeBufferPointer<T>) throws(DataError) {
        guard rowElements > 0 else { return }
        guard values.count % rowElements == 0 else { throw site.error("\(values.count) values are not whole rows") }
        let rows = values.count / rowElements
        guard start >= 0, start + rows <= shape[0] else { throw site.error("rows \(start)..<\(start + rows) are outside \(shape)") }
        guard rows > 0, let base = values.baseAddress, let nativeType = T.hdf5Type.nativeTypeID else { return }
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        guard !handle.isClosed else { throw site.error("the dataset is already closed") }
        var count = shape.map { hsize_t($0) }
        count[0] = hsize_t(rows)
        var offset = [hsize_t](repeating: 0, count: shape.count)
        offset[0] = hsize_t(start)
        let fileSpace = try h5check(H5Dget_space(handle.id), site, "writing rows")
        defer { _ = H5Sclose(fileSpace) }
        try h5check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, offset, nil, count, nil), site, "selecting rows")
        let memSpace = try h5check(H5Screate_simple(Int32(shape.count), count, nil), site, "writing rows")
        defer { _ = H5Sclose(memSpace) }
        try h5check(H5Dwrite(handle.id, nativeType, memSpace, fileSpace, HDF5Library.defaultPlist, base), site, "writing rows")
    }

    /// Writes whole rows from an array starting at row `start`.
    public func writeRows(at start: Int, _ values: [T]) throws(DataError) {
        try values.withUnsafeBufferPointer { buffer throws(DataError) in try writeRows(at: start, buffer) }
    }

    /// Closes the dataset (also done by the writer's `close()`).
    public func close() { handle.close() }
}
