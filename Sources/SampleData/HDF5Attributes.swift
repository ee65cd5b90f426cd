import CHDF5
import Foundation

/// Reading and writing attributes on an open HDF5 object (the caller holds the HDF5 lock).
enum HDF5Attributes {
    /// Names of all attributes of `object`.
    static func names(object: hid_t, _ site: HDF5Site) throws(DataError) -> [String] {
        final class Names { var all: [String] = [] }
        let names = Names()
        let visitor: H5A_operator2_t = { _, name, _, context in
            guard let name, let context else { return 0 }
            Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().all.append(String(cString: name))
            return 0
        }
        var index: hsize_t = 0
        let status = withExtendedLifetime(names) {
            H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, visitor, Unmanaged.passUnretained(names).toOpaque())
        }
        try h5check(status, site, "listing attributes")
        return names.all
    }

    /// Opens attribute `name` or returns nil when it does not exist.
    private static func open(object: hid_t, name: String, _ site: HDF5Site) throws(DataError) -> hid_t? {
        let exists = H5Aexists(object, name)
        try h5check(exists, site, "looking up attribute '\(name)'")
        if exists == 0 { return nil }
        return try h5check(H5Aopen(object, name, HDF5Library.defaultPlist), site, "opening attribute '\(name)'")
    }

    /// The number of elements of an attribute's dataspace.
    private static func elementCount(_ attribute: hid_t, _ site: HDF5Site, _ name: String) throws(DataError) -> Int {
        let space = try h5check(H5Aget_space(attribute), site, "reading attribute '\(name)'")
        defer { _ = H5Sclose(space) }
        return Int(try h5check(H5Sget_simple_extent_npoints(space), site, "reading attribute '\(name)'"))
    }

    /// A string attribute (fixed or variable length, scalar or one element), nil when absent.
    static func readString(object: hid_t, name: String, file: HDF5File, _ site: HDF5Site) throws(DataError) -> String? {
        guard let attribute = try open(object: object, name: name, site) else { return nil }
        defer { _ = H5Aclose(attribute) }
        let fileType = try h5check(H5Aget_type(attribute), site, "reading attribute '\(name)'")
        defer { _ = H5Tclose(fileType) }
        let kind = HDF5ElementType.classify(fileType)
        guard kind.isString else {
            throw site.error("attribute '\(name)' should be a string, found \(kind)")
        }
        guard try elementCount(attribute, site, name) == 1 else {
            throw site.error("attribute '\(name)' should hold one string")
        }
        let space = try h5check(H5Aget_space(attribute), site, "reading attribute '\(name)'")
        defer { _ = H5Sclose(space) }
        let strings = try HDF5Strings.read(fileType: fileType, count: 1, space: space, file: file, site, "reading attribute '\(name)'") {
            memType, buffer in H5Aread(attribute, memType, buffer)
        }
        return strings.first
    }

    /// An integer attribute (scalar or one element, any integer width), nil when absent.
    static func readInteger(object: hid_t, name: String, _ site: HDF5Site) throws(DataError) -> Int64? {
        guard let attribute = try open(object: object, name: name, site) else { return nil }
        defer { _ = H5Aclose(attribute) }
        let fileType = try h5check(H5Aget_type(attribute), site, "reading attribute '\(name)'")
        defer { _ = H5Tclose(fileType) }
        let kind = HDF5ElementType.classify(fileType)
        guard kind.isInteger else {
            throw site.error("attribute '\(name)' should be an integer, found \(kind)")
        }
        guard try elementCount(attribute, site, name) == 1 else {
            throw site.error("attribute '\(name)' should hold one integer")
        }
        var value: Int64 = 0
        try h5check(H5Aread(attribute, alv_h5t_native_int64(), &value), site, "reading attribute '\(name)'")
        if kind == .uint64, value < 0 { throw site.error("attribute '\(name)' is out of range") }
        return value
    }

    /// Writes (or replaces) a scalar variable-length UTF-8 string attribute.
    static func writeString(object: hid_t, name: String, value: String, _ site: HDF5Site) throws(DataError) {
        try deleteIfPresent(object: object, name: name, site)
        let type = try HDF5Strings.variableUTF8Type(site)
        defer { _ = H5Tclose(type) }
        let space = try h5check(H5Screate(H5S_SCALAR), site, "writing attribute '\(name)'")
        defer { _ = H5Sclose(space) }
        let attribute = try h5check(
            H5Acreate2(object, name, type, space, HDF5Library.defaultPlist, HDF5Library.defaultPlist),
            site, "creating attribute '\(name)'")
        defer { _ = H5Aclose(attribute) }
        let status = value.withCString { cString -> herr_t in
            var pointer: UnsafePointer<CChar>? = cString
            return H5Awrite(attribute, type, &pointer)
        }
        try h5check(status, site, "writing attribute '\(name)'")
    }

    /// Writes (or replaces) a scalar int64 attribute.
    static func writeInteger(object: hid_t, name: String, value: Int64, _ site: HDF5Site) throws(DataError) {
        try deleteIfPresent(object: object, name: name, site)
        let space = try h5check(H5Screate(H5S_SCALAR), site, "writing attribute '\(name)'")
        defer { _ = H5Sclose(space) }
        let attribute = try h5check(
            H5Acreate2(object, name, alv_h5t_native_int64(), space, HDF5Library.defaultPlist, HDF5Library.defaultPlist),
            site, "creating attribute '\(name)'")
        defer { _ = H5Aclose(attribute) }
        var v = value
        try h5check(H5Awrite(attribute, alv_h5t_native_int64(), &v), site, "writing attribute '\(name)'")
    }

    private static func deleteIfPresent(object: hid_t, name: String, _ site: HDF5Site) throws(DataError) {
        let exists = try h5check(H5Aexists(object, name), site, "looking up attribute '\(name)'")
        if exists > 0 { try h5check(H5Adelete(object, name), site, "replacing attribute '\(name)'") }
    }
}

/// String transfer shared by datasets and attributes (the caller holds the HDF5 lock).
enum HDF5Strings {
    /// A new variable-length UTF-8 string type; close it with `H5Tclose`.
    static func variableUTF8Type(_ site: HDF5Site) throws(DataError) -> hid_t {
        let type = try h5check(H5Tcopy(alv_h5t_c_s1()), site, "creating a string type")
        do throws(DataError) {
            try h5check(H5Tset_size(type, alv_h5t_variable()), site, "creating a string type")
            try h5check(H5Tset_cset(type, H5T_CSET_UTF8), site, "creating a string type")
        } catch {
            _ = H5Tclose(type)
            throw error
        }
        return type
    }

    /// Reads `count` strings of file type `fileType` through `transfer(memType, buffer)`.
    ///
    /// `space` is the selection that `transfer` reads (used to reclaim variable-length memory).
    static func read(
        fileType: hid_t, count: Int, space: hid_t, file: HDF5File, _ site: HDF5Site, _ operation: String,
        transfer: (hid_t, UnsafeMutableRawPointer) -> herr_t
    ) throws(DataError) -> [String] {
        if count == 0 { return [] }
        let memType = try h5check(H5Tcopy(fileType), site, operation)
        defer { _ = H5Tclose(memType) }
        if H5Tis_variable_str(fileType) > 0 {
            try file.checkGlobalHeaps()
            _ = try ShapeMath.checkAllocation([count], elementSize: MemoryLayout<UnsafeMutablePointer<CChar>?>.size, site)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { raw -> herr_t in
                guard let base = raw.baseAddress else { return -1 }
                return transfer(memType, base)
            }
            try h5check(status, site, operation)
            let strings = pointers.map { pointer -> String in
                guard let pointer else { return "" }
                return decodeUTF8(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
            }
            _ = pointers.withUnsafeMutableBytes { raw in
                H5Dvlen_reclaim(memType, space, HDF5Library.defaultPlist, raw.baseAddress)
            }
            return strings
        }
        let size = Int(H5Tget_size(fileType))
        guard size > 0 else { throw site.error("string type has size 0") }
        let total = try ShapeMath.checkAllocation([count], elementSize: size, site)
        var bytes = [UInt8](repeating: 0, count: total)
        let status = bytes.withUnsafeMutableBytes { raw -> herr_t in
            guard let base = raw.baseAddress else { return -1 }
            return transfer(memType, base)
        }
        try h5check(status, site, operation)
        let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { i in
                var slice = UnsafeRawBufferPointer(rebasing: raw[(i * size)..<((i + 1) * size)])
                if let nul = slice.firstIndex(of: 0) { slice = UnsafeRawBufferPointer(rebasing: slice[..<nul]) }
                var text = decodeUTF8(slice)
                if spacePadded { while text.last == " " { text.removeLast() } }
                return text
            }
        }
    }

    /// Decodes UTF-8 bytes, repairing invalid sequences.
    static func decodeUTF8(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
