import CHDF5
import Foundation

/// The element type of an HDF5 dataset or attribute, as stored in the file.
public enum HDF5ElementType: Sendable, Equatable, CustomStringConvertible {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64
    /// A fixed-length string of `size` bytes.
    case fixedString(size: Int)
    /// A variable-length string.
    case variableString
    /// Any other type (compound, enum, opaque, ...), with a short description.
    case other(String)

    /// True for both string kinds.
    public var isString: Bool {
        switch self {
        case .fixedString, .variableString: return true
        default: return false
        }
    }

    /// True for the integer kinds.
    public var isInteger: Bool {
        switch self {
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64: return true
        default: return false
        }
    }

    /// Bytes per element in memory (a pointer for variable-length strings, 0 for `other`).
    public var byteSize: Int {
        switch self {
        case .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        case .fixedString(let size): return size
        case .variableString: return MemoryLayout<UnsafeRawPointer>.size
        case .other: return 0
        }
    }

    /// The numpy-style name: `uint8`, `float32`, `string`, ...
    public var description: String {
        switch self {
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .int16: return "int16"
        case .uint16: return "uint16"
        case .int32: return "int32"
        case .uint32: return "uint32"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .fixedString(let size): return "string[\(size)]"
        case .variableString: return "string"
        case .other(let text): return text
        }
    }

    /// The native in-memory HDF5 type for numeric kinds (not owned; do not close).
    var nativeTypeID: hid_t? {
        switch self {
        case .int8: return alv_h5t_native_int8()
        case .uint8: return alv_h5t_native_uint8()
        case .int16: return alv_h5t_native_int16()
        case .uint16: return alv_h5t_native_uint16()
        case .int32: return alv_h5t_native_int32()
        case .uint32: return alv_h5t_native_uint32()
        case .int64: return alv_h5t_native_int64()
        case .uint64: return alv_h5t_native_uint64()
        case .float32: return alv_h5t_native_float()
        case .float64: return alv_h5t_native_double()
        case .fixedString, .variableString, .other: return nil
        }
    }

    /// Classifies a file or memory datatype.
    static func classify(_ type: hid_t) -> HDF5ElementType {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): return .int8
            case (1, false): return .uint8
            case (2, true): return .int16
            case (2, false): return .uint16
            case (4, true): return .int32
            case (4, false): return .uint32
            case (8, true): return .int64
            case (8, false): return .uint64
            default: return .other("integer(\(size) bytes)")
            }
        case H5T_FLOAT:
            switch size {
            case 4: return .float32
            case 8: return .float64
            default: return .other("float(\(size) bytes)")
            }
        case H5T_STRING:
            if H5Tis_variable_str(type) > 0 { return .variableString }
            return .fixedString(size: Int(size))
        case H5T_COMPOUND: return .other("compound")
        case H5T_ENUM: return .other("enum")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_REFERENCE: return .other("reference")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("vlen")
        case H5T_TIME: return .other("time")
        default: return .other("unknown type")
        }
    }
}

/// A numeric element type that HDF5 reads and writes natively.
public protocol HDF5Scalar: Sendable {
    /// The matching HDF5 element type.
    static var hdf5Type: HDF5ElementType { get }
}

extension Int8: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .int8 } }
extension UInt8: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .uint8 } }
extension Int16: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .int16 } }
extension UInt16: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .uint16 } }
extension Int32: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .int32 } }
extension UInt32: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .uint32 } }
extension Int64: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .int64 } }
extension UInt64: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .uint64 } }
extension Float: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .float64 } }

/// Checked size arithmetic for shapes read from files (never traps on overflow).
enum ShapeMath {
    /// The product of `dims` times `elementSize`, or nil when it overflows `Int`.
    static func byteCount(_ dims: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// The number of elements of `dims`, or nil on overflow.
    static func elementCount(_ dims: [Int]) -> Int? { byteCount(dims, elementSize: 1) }

    /// Throws when `dims` of `elementSize` bytes overflow or exceed the machine's memory.
    static func checkAllocation(_ dims: [Int], elementSize: Int, _ site: HDF5Site) throws(DataError) -> Int {
        let shape = "[" + dims.map(String.init).joined(separator: ", ") + "]"
        guard let bytes = byteCount(dims, elementSize: elementSize) else {
            throw site.error("shape \(shape) is too large: its size overflows")
        }
        let limit = MemoryLimit.bytes
        guard bytes <= limit else {
            throw site.error("shape \(shape) needs \(bytes) bytes, more than the \(limit) bytes of memory available")
        }
        return bytes
    }
}

/// The largest single allocation the data layer makes: the machine's physical memory.
enum MemoryLimit {
    /// Physical memory in bytes (clamped to `Int.max`).
    static let bytes: Int = {
        let physical = ProcessInfo.processInfo.physicalMemory
        return physical > UInt64(Int.max) ? Int.max : Int(physical)
    }()
}
