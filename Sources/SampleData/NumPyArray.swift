import Foundation

/// One element type of a NumPy array (`dtype.descr`): what kind, how many bytes, which byte order.
public struct NumPyType: Sendable, Equatable, CustomStringConvertible {
    /// NumPy's kind character: `b` bool, `i` signed, `u` unsigned, `f` float, `U` UTF-32 string,
    /// `S` bytes, `O` Python object (refused), `V` raw or structured, others as NumPy spells them.
    public var kind: Character
    /// Bytes per element (`U`: 4 per character).
    public var size: Int
    /// True for big-endian (`>`); `<`, `|` and `=` are little-endian here.
    public var bigEndian: Bool

    /// Creates a type.
    public init(kind: Character, size: Int, bigEndian: Bool = false) {
        self.kind = kind
        self.size = size
        self.bigEndian = bigEndian
    }

    /// Parses a type string such as `<f8`, `|u1`, `<U12` or `|O`; nil when it is not one.
    public init?(_ text: String) {
        var s = Substring(text)
        var big = false
        if let first = s.first, "<>|=".contains(first) {
            big = first == ">"
            s = s.dropFirst()
        }
        guard let kind = s.first, kind.isLetter else { return nil }
        let digits = s.dropFirst()
        if kind == "O" && digits.isEmpty {
            self.init(kind: "O", size: 8, bigEndian: big)
            return
        }
        guard !digits.isEmpty, let n = Int(digits), n > 0, n < 1 << 20 else { return nil }
        self.init(kind: kind, size: kind == "U" ? 4 * n : n, bigEndian: big)
    }

    /// The spelling NumPy writes (`<f4`, `|u1`, `<i4`).
    public var description: String {
        let order = size == 1 || kind == "S" ? "|" : (bigEndian ? ">" : "<")
        return "\(order)\(kind)\(kind == "U" ? size / 4 : size)"
    }

    /// A readable name for messages: `float64`, `uint8`, `bool`, `object`, `<U12`.
    public var name: String {
        switch kind {
        case "b": return "bool"
        case "i": return "int\(size * 8)"
        case "u": return "uint\(size * 8)"
        case "f": return "float\(size * 8)"
        case "O": return "object"
        default: return description
        }
    }

    /// float32 little-endian.
    public static let float32 = NumPyType(kind: "f", size: 4)
    /// uint8.
    public static let uint8 = NumPyType(kind: "u", size: 1)
    /// int32 little-endian.
    public static let int32 = NumPyType(kind: "i", size: 4)
}

/// An array read from or written to NumPy's `.npy` format (version 1.0 to 3.0): a header naming
/// the element type (plain or structured), the memory order and the shape, then the raw elements.
///
/// Object arrays are refused when the header is read: their elements are pickled Python objects,
/// and alaverify never unpickles.
public struct NumPyArray: Sendable {
    /// A named field of a structured element.
    public struct Field: Sendable, Equatable {
        /// The field name.
        public var name: String
        /// Its type.
        public var type: NumPyType
        /// Its byte offset in an element.
        public var offset: Int
    }

    /// The element type of a plain array; for a structured one, `V` with the element size.
    public var type: NumPyType
    /// The fields of a structured array, else empty.
    public var fields: [Field]
    /// The shape (empty for a 0-d array).
    public var shape: [Int]
    /// The elements, row-major (or Fortran order when `fortranOrder`).
    public var bytes: [UInt8]
    /// The header's `fortran_order`.
    public var fortranOrder: Bool

    /// Elements in the array.
    public var count: Int { shape.reduce(1, *) }

    /// The shape as Python prints it: `(3,)`, `(2, 4)`, `()`.
    public var shapeDescription: String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Creates an array from little-endian element bytes in C order.
    public init(type: NumPyType, shape: [Int], bytes: [UInt8], fields: [Field] = []) {
        self.type = type
        self.shape = shape
        self.bytes = bytes
        self.fields = fields
        fortranOrder = false
    }

    /// A float32 array of `shape`.
    public init(shape: [Int], float32 values: [Float]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(type: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// A uint8 array of `shape`.
    public init(shape: [Int], uint8 values: [UInt8]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(type: .uint8, shape: shape, bytes: values)
    }

    /// An int32 array of `shape`.
    public init(shape: [Int], int32 values: [Int32]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(type: .int32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// The `.npy` header (magic, version, padded dict) for `count`-element arrays of this type
    /// and shape: version 1.0, or 2.0 when it does not fit in 65,535 bytes.
    public static func header(type: NumPyType, shape: [Int], fields: [Field] = []) -> [UInt8] {
        let descr = fields.isEmpty ? "'\(type)'" : "[" + fields.map { "('\($0.name)', '\($0.type)')" }.joined(separator: ", ") + "]"
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': \(descr), 'fortran_order': False, 'shape': \(dims), }".utf8)
        let v1 = dict.count + 11 < 65_536
        let prefix = v1 ? 10 : 12
        // NumPy pads the header with spaces and a newline so the data start is 64-byte aligned.
        let total = (prefix + dict.count + 1 + 63) / 64 * 64
        dict += [UInt8](repeating: 0x20, count: total - prefix - dict.count - 1) + [0x0A]
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [v1 ? 1 : 2, 0]
        let n = dict.count
        out += v1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : (0..<4).map { UInt8((n >> (8 * $0)) & 0xFF) }
        return out + dict
    }

    /// The whole `.npy` file: header, then the elements.
    public func npyBytes() -> [UInt8] { Self.header(type: type, shape: shape, fields: fields) + bytes }

    /// Parses the arrays stored one after another in `data` (one `np.save` call each); `file`
    /// and `entry` (an `.npz` member) name the data in errors.
    static func parseAll(_ data: UnsafeRawBufferPointer, file: String, entry: String? = nil) throws(DataError) -> [NumPyArray] {
        var arrays = [NumPyArray]()
        var at = 0
        while at < data.count {
            let (array, end) = try parse(data, from: at, file: file, location: location(entry, index: arrays.count, at: at))
            arrays.append(array)
            at = end
        }
        if arrays.isEmpty { throw DataError(file: file, location: entry, "empty: no NumPy array") }
        return arrays
    }

    private static func location(_ entry: String?, index: Int, at offset: Int) -> String? {
        if let entry { return index == 0 ? entry : "\(entry), array \(index + 1)" }
        return index == 0 ? nil : "array \(index + 1) (byte \(offset))"
    }

    /// Parses one array starting at `start`; returns it and the offset after its elements.
    static func parse(_ data: UnsafeRawBufferPointer, from start: Int, file: String, location: String?) throws(DataError) -> (NumPyArray, Int) {
        func fail(_ message: String) -> DataError { DataError(file: file, location: location, message) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard data.count - start >= 10, magic.indices.allSatisfy({ data[start + $0] == magic[$0] }) else {
            throw fail(start == 0 ? "not a NumPy .npy file (no \\x93NUMPY signature)"
                : "\(data.count - start) bytes after the last array are not a NumPy array")
        }
        let major = data[start + 6]
        guard (1...3).contains(major) else { throw fail(".npy format version \(major).\(data[start + 7]) is not supported (1.0 to 3.0)") }
        let lengthBytes = major == 1 ? 2 : 4
        guard data.count - start >= 8 + lengthBytes else { throw fail("truncated .npy header") }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(data[start + 8 + k]) << (8 * k) }
        let headerStart = start + 8 + lengthBytes
        guard headerLength <= data.count - headerStart else { throw fail("truncated .npy header (\(headerLength) bytes announced)") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: data[headerStart..<(headerStart + headerLength)]), as: UTF8.self)
        var array = try header(text, fail: fail)
        let size = try elementBytes(array, fail: fail)
        let dataStart = headerStart + headerLength
        guard size <= data.count - dataStart else {
            throw fail("truncated: the header announces \(size) bytes of elements (shape \(array.shapeDescription)), the file has \(data.count - dataStart)")
        }
        array.bytes = Array(UnsafeRawBufferPointer(rebasing: data[dataStart..<(dataStart + size)]))
        return (array, dataStart + size)
    }

    /// The header dictionary's array description, with no elements yet.
    private static func header(_ text: String, fail: (String) -> DataError) throws(DataError) -> NumPyArray {
        guard case .dict(let entries)? = try? PythonLiteral.parse(text) else {
            throw fail("malformed .npy header '\(text.prefix(80))'")
        }
        var descr: PythonLiteral?, shape: PythonLiteral?, fortran = false
        for (key, value) in entries {
            switch key {
            case "descr": descr = value
            case "shape": shape = value
            case "fortran_order": if case .bool(let b) = value { fortran = b }
            default: break
            }
        }
        guard case .tuple(let dims)? = shape else { throw fail("the .npy header has no shape") }
        var extents = [Int]()
        for d in dims {
            guard case .int(let n) = d, n >= 0 else { throw fail("the .npy header's shape is not a tuple of sizes") }
            extents.append(n)
        }
        var array = NumPyArray(type: .uint8, shape: extents, bytes: [])
        array.fortranOrder = fortran
        switch descr {
        case .string(let s)?:
            guard let type = NumPyType(s) else { throw fail("unknown dtype '\(s)'") }
            array.type = type
        case .list(let items)?:
            var offset = 0
            for item in items {
                guard case .tuple(let parts) = item, parts.count == 2, case .string(let name) = parts[0],
                      case .string(let t) = parts[1], let type = NumPyType(t)
                else { throw fail("structured dtype fields must be (name, type) pairs without sub-array shapes") }
                array.fields.append(Field(name: name, type: type, offset: offset))
                offset += type.size
            }
            array.type = NumPyType(kind: "V", size: offset)
        default:
            throw fail("the .npy header has no dtype description")
        }
        if array.type.kind == "O" || array.fields.contains(where: { $0.type.kind == "O" }) {
            throw fail("an object array (pickled Python objects) is refused, never unpickled; save numbers or fixed-width strings (np.asarray(x, dtype=str))")
        }
        return array
    }

    /// The element bytes the header announces, refusing sizes beyond the address space.
    private static func elementBytes(_ array: NumPyArray, fail: (String) -> DataError) throws(DataError) -> Int {
        var total = array.type.size
        for d in array.shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("the shape \(array.shapeDescription) is too large") }
            total = product
        }
        return total
    }
}

/// The Python literals of a `.npy` header: `{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }`.
indirect enum PythonLiteral {
    case string(String), int(Int), bool(Bool), none
    case tuple([PythonLiteral]), list([PythonLiteral]), dict([(String, PythonLiteral)])

    struct SyntaxError: Error {}

    /// Parses one literal that fills `text` (surrounding spaces allowed).
    static func parse(_ text: String) throws(SyntaxError) -> PythonLiteral {
        var scanner = Scanner(chars: Array(text.unicodeScalars))
        let value = try scanner.value()
        scanner.skipSpaces()
        guard scanner.at == scanner.chars.count else { throw SyntaxError() }
        return value
    }

    private struct Scanner {
        let chars: [Unicode.Scalar]
        var at = 0

        mutating func skipSpaces() { while at < chars.count, chars[at].properties.isWhitespace { at += 1 } }

        mutating func value() throws(SyntaxError) -> PythonLiteral {
            skipSpaces()
            guard at < chars.count else { throw SyntaxError() }
            let c = chars[at]
            switch c {
            case "'", "\"":
                at += 1
                var s = String.UnicodeScalarView()
                while at < chars.count, chars[at] != c {
                    if chars[at] == "\\" { at += 1 }
                    guard at < chars.count else { throw SyntaxError() }
                    s.append(chars[at])
                    at += 1
                }
                guard at < chars.count else { throw SyntaxError() }
                at += 1
                return .string(String(s))
            case "(", "[":
                at += 1
                let items = try sequence(until: c == "(" ? ")" : "]")
                return c == "(" ? .tuple(items) : .list(items)
            case "{":
                at += 1
                var entries = [(String, PythonLiteral)]()
                while true {
                    skipSpaces()
                    if at < chars.count, chars[at] == "}" { at += 1; return .dict(entries) }
                    guard case .string(let key) = try value() else { throw SyntaxError() }
                    skipSpaces()
                    guard at < chars.count, chars[at] == ":" else { throw SyntaxError() }
                    at += 1
                    entries.append((key, try value()))
                    try separator(closing: "}")
                }
            default:
                var word = ""
                while at < chars.count, chars[at].properties.isAlphabetic || ("0"..."9").contains(chars[at]) || chars[at] == "-" {
                    word.unicodeScalars.append(chars[at])
                    at += 1
                }
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                default:
                    // NumPy writes Python ints; `3L` is Python 2's spelling.
                    guard let n = Int(word.hasSuffix("L") ? String(word.dropLast()) : word) else { throw SyntaxError() }
                    return .int(n)
                }
            }
        }

        mutating func sequence(until close: Unicode.Scalar) throws(SyntaxError) -> [PythonLiteral] {
            var items = [PythonLiteral]()
            while true {
                skipSpaces()
                if at < chars.count, chars[at] == close { at += 1; return items }
                items.append(try value())
                try separator(closing: close)
            }
        }

        /// Consumes a comma, or stops before the closing bracket.
        mutating func separator(closing: Unicode.Scalar) throws(SyntaxError) {
            skipSpaces()
            guard at < chars.count else { throw SyntaxError() }
            if chars[at] == "," { at += 1 } else if chars[at] != closing { throw SyntaxError() }
        }
    }
}
