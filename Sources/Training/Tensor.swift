/// The shape of a tensor: rank 1 to 4, row-major (`[N, D]` or `[N, C, H, W]`).
///
/// A fixed-size value (no array) so that reshaping a reused buffer in the hot loop allocates
/// nothing.
public struct Shape: Sendable, Equatable, CustomStringConvertible {
    /// The extents; unused trailing dimensions are 1.
    public private(set) var dims: (Int, Int, Int, Int)
    /// The number of dimensions in use (1...4).
    public let rank: Int

    /// A vector of `n` elements.
    public init(_ n: Int) { dims = (n, 1, 1, 1); rank = 1 }
    /// A matrix of `n` rows of `d` elements.
    public init(_ n: Int, _ d: Int) { dims = (n, d, 1, 1); rank = 2 }
    /// A rank-3 shape.
    public init(_ n: Int, _ c: Int, _ l: Int) { dims = (n, c, l, 1); rank = 3 }
    /// An image batch `[N, C, H, W]`.
    public init(_ n: Int, _ c: Int, _ h: Int, _ w: Int) { dims = (n, c, h, w); rank = 4 }
    /// A shape from an array of 1 to 4 extents.
    public init(_ extents: [Int]) {
        precondition((1...4).contains(extents.count), "rank must be 1...4")
        let e = extents + Array(repeating: 1, count: 4 - extents.count)
        dims = (e[0], e[1], e[2], e[3])
        rank = extents.count
    }

    /// The first extent (the batch size).
    public var n: Int { dims.0 }
    /// The second extent (channels or features).
    public var c: Int { dims.1 }
    /// The third extent (height).
    public var h: Int { dims.2 }
    /// The fourth extent (width).
    public var w: Int { dims.3 }
    /// The total number of elements.
    public var count: Int { dims.0 * dims.1 * dims.2 * dims.3 }
    /// Elements per row (everything but the first extent).
    public var rowSize: Int { dims.1 * dims.2 * dims.3 }
    /// The extents in use.
    public var extents: [Int] { Array([dims.0, dims.1, dims.2, dims.3].prefix(rank)) }

    public static func == (a: Shape, b: Shape) -> Bool { a.rank == b.rank && a.dims == b.dims }
    public var description: String { "[" + extents.map(String.init).joined(separator: ", ") + "]" }
}

/// A reusable, contiguous Float32 buffer with a shape.
///
/// A class because it owns memory that layers reuse from step to step: `reshape` keeps the
/// allocation whenever it is large enough, so steady-state training allocates nothing.
public final class Tensor {
    /// The current shape.
    public private(set) var shape: Shape
    /// The allocated capacity in elements.
    public private(set) var capacity: Int
    /// The storage; valid for `shape.count` elements.
    public private(set) var pointer: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of the given shape.
    public init(_ shape: Shape) {
        self.shape = shape
        capacity = max(shape.count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    /// A tensor holding a copy of `values`, which must have `shape.count` elements.
    public convenience init(_ shape: Shape, values: [Float]) {
        precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.init(shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// An empty tensor, to be shaped on first use.
    public convenience init() { self.init(Shape(0)) }

    deinit { pointer.deallocate() }

    /// The number of elements.
    public var count: Int { shape.count }

    /// Sets the shape, growing the storage only when needed; contents are unspecified afterwards
    /// unless the element count is unchanged.
    @inline(__always) public func reshape(_ newShape: Shape) {
        let needed = newShape.count
        if needed > capacity {
            pointer.deallocate()
            capacity = needed
            pointer = .allocate(capacity: needed)
            pointer.initialize(repeating: 0, count: needed)
        }
        shape = newShape
    }

    /// The elements as a mutable buffer pointer.
    @inline(__always) public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: shape.count)
    }

    /// Sets every element to `value`.
    @inline(__always) public func fill(_ value: Float) { pointer.update(repeating: value, count: shape.count) }

    /// Copies shape and contents of `other`.
    public func copy(from other: Tensor) {
        reshape(other.shape)
        pointer.update(from: other.pointer, count: other.count)
    }

    /// The elements as an array (a copy).
    public var array: [Float] { Array(buffer) }

    /// Reads or writes element `i` of the flat storage.
    @inline(__always) public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

/// A trainable parameter: values, accumulated gradient, and whether weight decay applies.
public final class Parameter {
    /// A stable name used in checkpoints (`layer3.weight`).
    public var name: String
    /// The values.
    public let value: Tensor
    /// The gradient of the loss with respect to `value`, accumulated by `backward`.
    public let gradient: Tensor
    /// Whether decoupled weight decay applies (false for biases and normalisation scales).
    public let decays: Bool

    /// A zero-initialised parameter of the given shape.
    public init(name: String, shape: Shape, decays: Bool) {
        self.name = name
        value = Tensor(shape)
        gradient = Tensor(shape)
        self.decays = decays
    }
}
