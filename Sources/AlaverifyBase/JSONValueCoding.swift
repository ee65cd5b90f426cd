/// Encodes `Encodable` values as `JSONValue`s whose objects keep their keys in the order they
/// were encoded (Foundation's `JSONEncoder` orders them by hash, or sorts them), so a record
/// type's `encode(to:)` fixes the text it is written as.
///
/// Doubles and floats become `JSONValue.double`: numbers, `"inf"`/`"-inf"` and null for NaN.
public struct JSONValueEncoder {
    /// Creates an encoder.
    public init() {}

    /// The JSON value of `value`.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let node = EncodingNode()
        try node.store(value, codingPath: [])
        return node.value
    }
}

/// Decodes `Decodable` values from `JSONValue`s; keyed containers list `allKeys` in the object's
/// order (the counterpart of `JSONValueEncoder`).
///
/// Integers decode only from JSON integers; doubles from any number and from `"inf"`/`"-inf"`.
public struct JSONValueDecoder {
    /// Creates a decoder.
    public init() {}

    /// Decodes a `T` from `value`.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoding(value, codingPath: []).decodeValue(T.self)
    }
}

/// A key made of any string (for objects whose keys are data, such as named values).
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    /// The key.
    public var stringValue: String
    /// Always nil: keys are strings.
    public var intValue: Int? { nil }
    /// The key `string`.
    public init(_ string: String) { stringValue = string }
    /// The key `stringValue`.
    public init(stringValue: String) { self.stringValue = stringValue }
    /// Not a key: keys are strings.
    public init?(intValue: Int) { nil }
}

// MARK: - Encoding

/// One value under construction: a leaf, an object or an array whose members may still grow.
private final class EncodingNode {
    enum Content { case empty, leaf(JSONValue), object([(String, EncodingNode)]), array([EncodingNode]) }
    var content = Content.empty

    var value: JSONValue {
        switch content {
        case .empty: return .object([])
        case .leaf(let v): return v
        case .object(let members): return .object(members.map { ($0.0, $0.1.value) })
        case .array(let items): return .array(items.map(\.value))
        }
    }

    /// Stores `value`: scalars as leaves, anything else through its `encode(to:)`.
    func store<T: Encodable>(_ value: T, codingPath: [CodingKey]) throws {
        switch value {
        case let v as Bool: content = .leaf(.bool(v))
        case let v as String: content = .leaf(.string(v))
        case let v as Double: content = .leaf(.double(v))
        case let v as Float: content = .leaf(.double(Double(v)))
        case let v as any BinaryInteger:
            guard let i = Int(exactly: v) else {
                throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "\(v) does not fit a JSON integer"))
            }
            content = .leaf(.int(i))
        default: try value.encode(to: NodeEncoder(node: self, codingPath: codingPath))
        }
    }

    func member(_ key: String) -> EncodingNode {
        if case .object(var members) = content {
            if let existing = members.first(where: { $0.0 == key }) { return existing.1 }
            let node = EncodingNode()
            members.append((key, node))
            content = .object(members)
            return node
        }
        let node = EncodingNode()
        content = .object([(key, node)])
        return node
    }

    func appended() -> EncodingNode {
        let node = EncodingNode()
        if case .array(let items) = content { content = .array(items + [node]) } else { content = .array([node]) }
        return node
    }
}

private struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleNodeEncoder(node: node, codingPath: codingPath) }
}

private struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).content = .leaf(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.member(key.stringValue).store(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder { NodeEncoder(node: node.member("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder { NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]) }
}

private struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var count: Int { if case .array(let items) = node.content { return items.count } else { return 0 } }

    mutating func encodeNil() throws { node.appended().content = .leaf(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try node.appended().store(value, codingPath: codingPath + [AnyCodingKey("\(count)")])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.appended(), codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        NodeEncoder(node: node.appended(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder { NodeEncoder(node: node.appended(), codingPath: codingPath) }
}

private struct SingleNodeEncoder: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]
    mutating func encodeNil() throws { node.content = .leaf(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.store(value, codingPath: codingPath) }
}

// MARK: - Decoding

private struct JSONValueDecoding: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, codingPath: [CodingKey]) {
        self.value = value
        self.codingPath = codingPath
    }

    func mismatch(_ expected: Any.Type, _ what: String) -> DecodingError {
        .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: "expected \(what), found \(value.serialized(indent: nil))"))
    }

    /// Scalars from leaves; anything else through its `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is Bool.Type:
            guard case .bool(let b) = value else { throw mismatch(type, "true or false") }
            return b as! T
        case is String.Type:
            guard case .string(let s) = value else { throw mismatch(type, "a string") }
            return s as! T
        case is Double.Type:
            guard let x = value.doubleValue else { throw mismatch(type, "a number") }
            return x as! T
        case is Float.Type:
            guard let x = value.doubleValue else { throw mismatch(type, "a number") }
            return Float(x) as! T
        case let integer as any BinaryInteger.Type:
            func exactly<I: BinaryInteger>(_ t: I.Type, _ i: Int) -> I? { I(exactly: i) }
            guard case .int(let i) = value, let v = exactly(integer, i) else { throw mismatch(type, "an integer that fits \(type)") }
            return v as! T
        default:
            return try T(from: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self, "an object") }
        return KeyedDecodingContainer(KeyedValueDecoder<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self, "an array") }
        return UnkeyedValueDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleValueDecoder(decoder: self) }
}

private struct KeyedValueDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(String, JSONValue)]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.0) } }
    func contains(_ key: Key) -> Bool { members.contains { $0.0 == key.stringValue } }

    func member(_ key: Key) throws -> JSONValue {
        guard let v = members.first(where: { $0.0 == key.stringValue })?.1 else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no '\(key.stringValue)'"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONValueDecoding(try member(key), codingPath: codingPath + [key]).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try JSONValueDecoding(try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try JSONValueDecoding(try member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { JSONValueDecoding(.object(members), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { JSONValueDecoding(try member(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedValueDecoder: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func next() throws -> JSONValueDecoding {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the array has \(items.count) items"))
        }
        defer { currentIndex += 1 }
        return JSONValueDecoding(items[currentIndex], codingPath: codingPath + [AnyCodingKey("\(currentIndex)")])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

private struct SingleValueDecoder: SingleValueDecodingContainer {
    let decoder: JSONValueDecoding
    var codingPath: [CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { decoder.value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
