/// An image size written `WxH` (e.g. `32x32`), as taken by `dataset import --resize`.
public struct ImageSize: Sendable, Hashable, LosslessStringConvertible {
    /// Width in pixels (at least 1).
    public var width: Int
    /// Height in pixels (at least 1).
    public var height: Int

    /// Creates a size; both sides must be positive.
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "an image size needs positive sides")
        self.width = width
        self.height = height
    }

    /// Parses `WxH` (`x` or `X`), both sides in 1...65535.
    public init?(_ description: String) {
        let parts = description.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]),
              (1...65535).contains(w), (1...65535).contains(h) else { return nil }
        self.init(width: w, height: h)
    }

    /// `WxH`.
    public var description: String { "\(width)x\(height)" }
}

/// Resamples 8-bit images: area averaging along an axis that shrinks, bilinear interpolation
/// (pixel centres aligned, edges clamped) along an axis that grows, a copy along an axis that
/// keeps its length. The two axes are filtered separably in single precision and rounded to
/// the nearest integer (halves up), so a result is reproducible bit for bit.
public struct ImageResizer: Sendable {
    /// The input size.
    public let source: ImageSize
    /// The output size.
    public let target: ImageSize
    /// Samples per pixel (1 gray, 3 RGB).
    public let channels: Int
    private let columns: AxisWeights
    private let rows: AxisWeights

    /// Prepares the filter taps for `source` -> `target` images of `channels` samples per pixel.
    public init(from source: ImageSize, to target: ImageSize, channels: Int) {
        self.source = source
        self.target = target
        self.channels = channels
        columns = AxisWeights(input: source.width, output: target.width)
        rows = AxisWeights(input: source.height, output: target.height)
    }

    /// Resamples `input` (source.height x source.width x channels, row-major) into `output`
    /// (target.height x target.width x channels).
    ///
    /// - Complexity: O(target.width x source.height + target.width x target.height) times the taps per output sample.
    public func resize(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) {
        let c = channels
        precondition(input.count == source.width * source.height * c, "input does not match the source size")
        precondition(output.count == target.width * target.height * c, "output does not match the target size")
        if source == target {
            _ = output.initialize(from: input)
            return
        }
        let outRow = target.width * c
        // Horizontal pass: every input row to target.width columns.
        var horizontal = [Float](repeating: 0, count: source.height * outRow)
        horizontal.withUnsafeMutableBufferPointer { h in
            for y in 0..<source.height {
                let inBase = y * source.width * c
                for x in 0..<target.width {
                    let first = columns.first[x]
                    let taps = columns.taps(x)
                    for k in 0..<c {
                        var sum: Float = 0
                        for (t, w) in taps.enumerated() {
                            sum += w * Float(input[inBase + (first + t) * c + k])
                        }
                        h[y * outRow + x * c + k] = sum
                    }
                }
            }
            // Vertical pass: target.height rows from the horizontally filtered rows.
            for y in 0..<target.height {
                let first = rows.first[y]
                let taps = rows.taps(y)
                for i in 0..<outRow {
                    var sum: Float = 0
                    for (t, w) in taps.enumerated() {
                        sum += w * h[(first + t) * outRow + i]
                    }
                    output[y * outRow + i] = UInt8(min(255, max(0, (sum + 0.5).rounded(.down))))
                }
            }
        }
    }

    /// Resamples an array (see `resize(_:into:)`).
    public func resize(_ input: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: target.width * target.height * channels)
        input.withUnsafeBufferPointer { i in output.withUnsafeMutableBufferPointer { o in resize(i, into: o) } }
        return output
    }
}

/// The taps of a 1-d resampling: output sample o = sum over t of weight[o][t] * input[first[o] + t].
struct AxisWeights: Sendable {
    var first: [Int] = []
    private var offsets: [Int] = [0]
    private var weights: [Float] = []

    init(input: Int, output: Int) {
        first.reserveCapacity(output)
        if input == output {
            for o in 0..<output { append(first: o, [1]) }
        } else if output < input {
            // Area: output sample o covers input [o * s, (o + 1) * s) with s = input / output.
            let s = Double(input) / Double(output)
            for o in 0..<output {
                let lo = Double(o) * s, hi = Double(o + 1) * s
                let start = Int(lo.rounded(.down)), end = min(input, Int(hi.rounded(.up)))
                var taps: [Float] = []
                for i in start..<end {
                    let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                    taps.append(Float(max(0, overlap) / s))
                }
                append(first: start, taps)
            }
        } else {
            // Bilinear with pixel centres aligned: x = (o + 0.5) * input / output - 0.5, clamped.
            let s = Double(input) / Double(output)
            for o in 0..<output {
                let x = min(Double(input - 1), max(0, (Double(o) + 0.5) * s - 0.5))
                let i0 = Int(x.rounded(.down))
                let f = x - Double(i0)
                if i0 + 1 < input && f > 0 {
                    append(first: i0, [Float(1 - f), Float(f)])
                } else {
                    append(first: i0, [1])
                }
            }
        }
    }

    private mutating func append(first index: Int, _ taps: [Float]) {
        first.append(index)
        weights += taps
        offsets.append(weights.count)
    }

    /// The weights of output sample `o`.
    func taps(_ o: Int) -> ArraySlice<Float> { weights[offsets[o]..<offsets[o + 1]] }
}
