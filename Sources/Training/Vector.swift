/// Unaligned 8-lane loads and stores for the elementwise hot loops.
@inline(__always) func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// `sum p[0..<count]` with eight partial sums (a fixed order, so results are reproducible).
@inline(__always) func vectorSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>.zero
    var i = 0
    while i + 8 <= count { acc += load8(p, i); i += 8 }
    var s = acc.sum()
    while i < count { s += p[i]; i += 1 }
    return s
}

/// `sum (p[i] - center)^2` with eight partial sums.
@inline(__always) func vectorSquaredDeviation(_ p: UnsafePointer<Float>, _ count: Int, center: Float) -> Float {
    var acc = SIMD8<Float>.zero
    let c = SIMD8<Float>(repeating: center)
    var i = 0
    while i + 8 <= count { let d = load8(p, i) - c; acc += d * d; i += 8 }
    var s = acc.sum()
    while i < count { let d = p[i] - center; s += d * d; i += 1 }
    return s
}

/// `sum a[i] * b[i]` with eight partial sums.
@inline(__always) func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>.zero
    var i = 0
    while i + 8 <= count { acc += load8(a, i) * load8(b, i); i += 8 }
    var s = acc.sum()
    while i < count { s += a[i] * b[i]; i += 1 }
    return s
}
