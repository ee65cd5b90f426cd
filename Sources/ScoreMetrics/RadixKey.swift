/// A floating-point score type whose values map to unsigned integer keys with the same order.
///
/// The key of `x` orders like `x` for every non-NaN value, `-inf` lowest and `+inf` highest;
/// `-0` keys below `+0`, so callers canonicalise `-0` to `+0` before keying.
public protocol ScoreFloat: BinaryFloatingPoint, Sendable where RawSignificand: FixedWidthInteger {
    /// The unsigned integer type of the same width.
    associatedtype Key: FixedWidthInteger & UnsignedInteger & Sendable
    /// The IEEE bit pattern.
    var bits: Key { get }
    /// The value with this IEEE bit pattern.
    init(bits: Key)
}

extension Float: ScoreFloat {
    @inline(__always) public var bits: UInt32 { bitPattern }
    @inline(__always) public init(bits: UInt32) { self.init(bitPattern: bits) }
}

extension Double: ScoreFloat {
    @inline(__always) public var bits: UInt64 { bitPattern }
    @inline(__always) public init(bits: UInt64) { self.init(bitPattern: bits) }
}

extension ScoreFloat {
    /// The order-preserving key of a non-NaN value.
    @inline(__always) static func radixKey(_ value: Self) -> Key { keyFromBits(value.bits) }
    /// The value whose key is `key`.
    @inline(__always) static func fromRadixKey(_ key: Key) -> Self { Self(bits: bitsFromKey(key)) }
}

@inline(__always) func keyFromBits<K: FixedWidthInteger & UnsignedInteger>(_ bits: K) -> K {
    let sign = K(1) << K(K.bitWidth - 1)
    return (bits & sign) != 0 ? ~bits : bits | sign
}

@inline(__always) func bitsFromKey<K: FixedWidthInteger & UnsignedInteger>(_ key: K) -> K {
    let sign = K(1) << K(K.bitWidth - 1)
    return (key & sign) != 0 ? key & ~sign : ~key
}

/// Sorting and selection on order-preserving integer keys (no comparison sort).
enum Radix {
    /// Sorts `values` ascending in place; `values` must hold no NaN.
    ///
    /// An in-place most-significant-digit pass (American flag sort) splits the data into 256
    /// buckets; buckets that fit the scratch space (at most a quarter of the input) are finished by
    /// least-significant-digit passes, larger ones recurse. Peak extra memory: n/4 keys.
    /// - Complexity: O(n * w / 8) for w-bit keys.
    static func sort<T: ScoreFloat>(_ values: inout [T]) {
        let n = values.count
        guard n > 0 else { return }  // a single -0 must still become +0
        values.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<n where buffer[i] == 0 { buffer[i] = 0 }  // -0 -> +0
            buffer.withMemoryRebound(to: T.Key.self) { keys in
                for i in 0..<n { keys[i] = keyFromBits(keys[i]) }
                let scratchCount = max(min(n, 1 << 16), n / 4)
                let scratch = UnsafeMutableBufferPointer<T.Key>.allocate(capacity: scratchCount)
                defer { scratch.deallocate() }
                sortKeys(keys, shift: T.Key.bitWidth - 8, scratch: scratch)
                for i in 0..<n { keys[i] = bitsFromKey(keys[i]) }
            }
        }
    }

    /// Sorts keys whose bits above `shift + 8` are all equal.
    static func sortKeys<K: FixedWidthInteger & UnsignedInteger>(
        _ keys: UnsafeMutableBufferPointer<K>, shift: Int, scratch: UnsafeMutableBufferPointer<K>
    ) {
        let n = keys.count
        if n <= 48 {
            insertionSort(keys)
            return
        }
        if n <= scratch.count {
            lsdSort(keys, topShift: shift, scratch: scratch)
            return
        }
        // American flag pass on the digit at `shift`.
        var counts = [Int](repeating: 0, count: 256)
        for k in keys { counts[Int(truncatingIfNeeded: k >> K(shift)) & 255] += 1 }
        if counts.contains(n) {
            if shift > 0 { sortKeys(keys, shift: shift - 8, scratch: scratch) }
            return
        }
        var heads = [Int](repeating: 0, count: 256)
        var tails = [Int](repeating: 0, count: 256)
        var acc = 0
        for d in 0..<256 { heads[d] = acc; acc += counts[d]; tails[d] = acc }
        let starts = heads
        for d in 0..<256 {
            while heads[d] < tails[d] {
                var k = keys[heads[d]]
                var digit = Int(truncatingIfNeeded: k >> K(shift)) & 255
                while digit != d {
                    let pos = heads[digit]
                    heads[digit] += 1
                    swap(&k, &keys[pos])
                    digit = Int(truncatingIfNeeded: k >> K(shift)) & 255
                }
                keys[heads[d]] = k
                heads[d] += 1
            }
        }
        guard shift > 0 else { return }
        for d in 0..<256 where counts[d] > 1 {
            let slice = UnsafeMutableBufferPointer(rebasing: keys[starts[d]..<(starts[d] + counts[d])])
            sortKeys(slice, shift: shift - 8, scratch: scratch)
        }
    }

    /// Least-significant-digit radix sort of the low `topShift + 8` bits, 8 bits a pass,
    /// skipping passes whose digit is constant.
    static func lsdSort<K: FixedWidthInteger & UnsignedInteger>(
        _ keys: UnsafeMutableBufferPointer<K>, topShift: Int, scratch: UnsafeMutableBufferPointer<K>
    ) {
        let n = keys.count
        var src = keys.baseAddress!
        var dst = scratch.baseAddress!
        var inScratch = false
        let passes = topShift / 8 + 1
        var counts = [Int](repeating: 0, count: 256 * passes)
        counts.withUnsafeMutableBufferPointer { c in
            for i in 0..<n {
                let k = src[i]
                for p in 0..<passes { c[p * 256 + (Int(truncatingIfNeeded: k >> K(p * 8)) & 255)] += 1 }
            }
            for p in 0..<passes {
                let base = p * 256
                var skip = false
                for d in 0..<256 where c[base + d] == n { skip = true }
                if skip { continue }
                var acc = 0
                for d in 0..<256 { let t = c[base + d]; c[base + d] = acc; acc += t }
                let shift = K(p * 8)
                for i in 0..<n {
                    let k = src[i]
                    let d = base + (Int(truncatingIfNeeded: k >> shift) & 255)
                    dst[c[d]] = k
                    c[d] += 1
                }
                swap(&src, &dst)
                inScratch.toggle()
            }
        }
        if inScratch { keys.baseAddress!.update(from: src, count: n) }
    }

    static func insertionSort<K: Comparable>(_ keys: UnsafeMutableBufferPointer<K>) {
        guard keys.count > 1 else { return }
        for i in 1..<keys.count {
            let k = keys[i]
            var j = i
            while j > 0, keys[j - 1] > k { keys[j] = keys[j - 1]; j -= 1 }
            keys[j] = k
        }
    }

    /// The (r+1)-th largest non-NaN value (r = `rankFromTop`, 0 = the maximum), without sorting,
    /// and the number of non-NaN values; the value is nil when fewer than r+1 exist.
    ///
    /// One histogram pass over the top 16 bits of the order-preserving keys finds the bucket
    /// that holds the rank; a second pass collects that bucket, which is then sorted.
    /// `-0` and `+0` count as equal.
    /// - Complexity: O(n) time, O(bucket) extra memory.
    static func selectFromTop<T: ScoreFloat>(_ values: UnsafeBufferPointer<T>, rankFromTop r: Int) -> (value: T?, count: Int) {
        precondition(r >= 0)
        let digitBits = 16
        let topShift = T.Key(T.Key.bitWidth - digitBits)
        var counts = [Int](repeating: 0, count: 1 << digitBits)
        counts.withUnsafeMutableBufferPointer { c in
            for v in values where !v.isNaN {
                c[Int(truncatingIfNeeded: T.radixKey(v == 0 ? 0 : v) >> topShift)] += 1
            }
        }
        let total = counts.reduce(0, +)
        guard r < total else { return (nil, total) }
        var remaining = r
        var bucket = counts.count - 1
        while remaining >= counts[bucket] { remaining -= counts[bucket]; bucket -= 1 }
        var members = [T.Key]()
        members.reserveCapacity(counts[bucket])
        let wanted = T.Key(bucket)
        for v in values where !v.isNaN {
            let key = T.radixKey(v == 0 ? 0 : v)
            if key >> topShift == wanted { members.append(key) }
        }
        members.withUnsafeMutableBufferPointer { m in
            let scratch = UnsafeMutableBufferPointer<T.Key>.allocate(capacity: max(1, m.count))
            defer { scratch.deallocate() }
            sortKeys(m, shift: T.Key.bitWidth - digitBits - 8, scratch: scratch)
        }
        return (T.fromRadixKey(members[members.count - 1 - remaining]), total)
    }
}
