import CHDF5
import Foundation

/// An HDF5 file opened for reading; closes itself when the last reference goes away.
public final class HDF5File: @unchecked Sendable {
    /// The path as the caller gave it (used in every error message).
    public let path: String
    let id: hid_t
    private var globalHeapsChecked = false

    /// Opens `path` read-only; fails with a `DataError` for a missing, non-HDF5 or damaged file.
    public init(path: String) throws(DataError) {
        self.path = path
        let site = HDF5Site(file: path)
        guard FileManager.default.fileExists(atPath: path) else { throw site.error("no such file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw site.error("file is not readable") }
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let isHDF5 = H5Fis_hdf5(path)
        if isHDF5 == 0 { throw site.error("not an HDF5 file (no HDF5 signature)") }
        try h5check(isHDF5, site, "checking the HDF5 signature")
        id = try h5check(H5Fopen(path, alv_h5f_acc_rdonly(), HDF5Library.defaultPlist), site, "opening the file")
    }

    deinit {
        HDF5Library.locked { _ = H5Fclose(id); _ = H5Eclear2(alv_h5e_default()) }
    }

    /// Validates the global heap collections once, before the first variable-length read (lock held).
    func checkGlobalHeaps() throws(DataError) {
        if globalHeapsChecked { return }
        try HDF5GlobalHeapGuard.validate(path: path)
        globalHeapsChecked = true
    }

    /// The site used for errors about `object` in this file.
    func site(_ object: String? = nil) -> HDF5Site { HDF5Site(file: path, object: object) }

    /// True when a link exists at `objectPath` (every intermediate group must exist too).
    public func exists(_ objectPath: String) throws(DataError) -> Bool {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        return try linkExists(objectPath)
    }

    /// Link check without the lock (caller holds it); a damaged group is an error, not absence.
    func linkExists(_ objectPath: String) throws(DataError) -> Bool {
        let parts = objectPath.split(separator: "/", omittingEmptySubsequences: true)
        if parts.isEmpty { return true }
        var prefix = ""
        for (index, part) in parts.enumerated() {
            prefix += "/" + part
            let status = try h5check(H5Lexists(id, prefix, HDF5Library.defaultPlist), site(objectPath), "looking up \(prefix)")
            if status == 0 { return false }
            if index < parts.count - 1 {
                // The parent must be a group for the next lookup to be meaningful.
                let object = try h5check(H5Oopen(id, prefix, HDF5Library.defaultPlist), site(objectPath), "opening \(prefix)")
                let isGroup = H5Iget_type(object) == H5I_GROUP
                _ = H5Oclose(object)
                if !isGroup { return false }
            }
        }
        return true
    }

    /// The kind of object at `objectPath`, or nil when there is none.
    public func objectKind(_ objectPath: String) throws(DataError) -> HDF5ObjectKind? {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        guard try linkExists(objectPath) else { return nil }
        let object = try h5check(H5Oopen(id, objectPath, HDF5Library.defaultPlist), site(objectPath), "opening the object")
        defer { _ = H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_DATASET: return .dataset
        case H5I_GROUP: return .group
        case H5I_DATATYPE: return .namedType
        default: return nil
        }
    }

    /// Opens the dataset at `objectPath`; fails when it is missing or not a dataset.
    public func dataset(_ objectPath: String) throws(DataError) -> HDF5Dataset {
        try HDF5Dataset(file: self, path: objectPath)
    }

    /// Every dataset path in the file, sorted, found by walking all groups.
    public func datasetPaths() throws(DataError) -> [String] {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        final class Names { var all: [String] = [] }
        let names = Names()
        let visitor: H5L_iterate_t = { _, name, _, context in
            guard let name, let context else { return 0 }
            Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().all.append(String(cString: name))
            return 0
        }
        let status = withExtendedLifetime(names) {
            H5Lvisit(id, H5_INDEX_NAME, H5_ITER_INC, visitor, Unmanaged.passUnretained(names).toOpaque())
        }
        try h5check(status, site("/"), "listing the file's objects")
        var datasets: [String] = []
        for name in names.all {
            let object = H5Oopen(id, name, HDF5Library.defaultPlist)
            guard object >= 0 else { _ = H5Eclear2(alv_h5e_default()); continue }
            if H5Iget_type(object) == H5I_DATASET { datasets.append("/" + name) }
            _ = H5Oclose(object)
        }
        return datasets.sorted()
    }

    /// The names of the attributes attached to the object at `objectPath` (root by default).
    public func attributeNames(of objectPath: String = "/") throws(DataError) -> [String] {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let object = try openObject(objectPath)
        defer { _ = H5Oclose(object) }
        return try HDF5Attributes.names(object: object, site(objectPath))
    }

    /// The string attribute `name` of `objectPath`, nil when absent; fails when it is not a string.
    public func stringAttribute(_ name: String, of objectPath: String = "/") throws(DataError) -> String? {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let object = try openObject(objectPath)
        defer { _ = H5Oclose(object) }
        return try HDF5Attributes.readString(object: object, name: name, file: self, site(objectPath))
    }

    /// The integer attribute `name` of `objectPath`, nil when absent; fails when it is not an integer.
    public func integerAttribute(_ name: String, of objectPath: String = "/") throws(DataError) -> Int64? {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let object = try openObject(objectPath)
        defer { _ = H5Oclose(object) }
        return try HDF5Attributes.readInteger(object: object, name: name, site(objectPath))
    }

    /// Opens any object (caller holds the lock and closes it with `H5Oclose`).
    func openObject(_ objectPath: String) throws(DataError) -> hid_t {
        guard try linkExists(objectPath) else { throw site(objectPath).error("not found") }
        return try h5check(H5Oopen(id, objectPath, HDF5Library.defaultPlist), site(objectPath), "opening the object")
    }

    /// True when the file at `path` starts with the 8-byte HDF5 signature.
    public static func hasSignature(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 8) else { return false }
        return head.elementsEqual([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
    }
}

/// What an HDF5 link points to.
public enum HDF5ObjectKind: Sendable, Equatable {
    case dataset, group, namedType
}
